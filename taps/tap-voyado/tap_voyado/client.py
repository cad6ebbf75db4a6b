"""Voyado Elevate GDPR API: the vendor's quirks, in one place.

- base URL https://{cluster_id}.api.esales.apptus.cloud (or `api_url`), operations under a base path
  that depends on the API generation (`API_BASE_PATHS`); header `Api-Key` on every call;
- an export is an asynchronous job: create -> {jid, status}; poll job-status -> {jid, status};
  download export-customer-job-result once the job is done;
- the download is a zip, but a job that is not (or no longer) downloadable answers with a job status
  document instead [assumption: the docs say "a response will always return a job status"]; the
  export is deleted once downloaded, so a second download answers not_found;
- statuses: created, waiting, running, done, error (Elevate 4), not_found; an unknown status is
  treated as still open (polled again, until job_timeout_days).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tapkit import VendorResponseError, VendorStream
from tapkit import body as bodies

if t.TYPE_CHECKING:
    import requests

    from tap_voyado.exports import DownloadStore

API_BASE_PATHS = {
    "v2": "/api/v2/event-data",  # Elevate 3 web-api-v2 (deprecated by the vendor, still the documented default)
    "admin-v3": "/api/admin/v3/event-data",
    "admin-v4": "/api/admin/v4/event-data",
}
DEFAULT_API_VERSION = "v2"
CLUSTER_URL = "https://{cluster_id}.api.esales.apptus.cloud"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # a zip without members


@dataclass
class JobStatus:
    """A job status document: {jid, status} plus whatever else the vendor sends."""

    jid: str
    status: str
    other_fields: dict[str, t.Any] = field(default_factory=dict)


class VoyadoStream(VendorStream):
    """A stream on the GDPR API (the streams drive jobs; they have no single path)."""

    path = ""

    @property
    def url_base(self) -> str:
        api_url = self.config.get("api_url")
        base = str(api_url) if api_url else CLUSTER_URL.format(cluster_id=self.config["cluster_id"])
        return base.rstrip("/")

    @property
    def api_base(self) -> str:
        return self.url_base + API_BASE_PATHS[self.config.get("api_version") or DEFAULT_API_VERSION]

    def call(self, method: str, operation: str, params: dict[str, str]) -> requests.Response:
        """One API call through the kit's client (retries, pacing, auth errors, scrubbing)."""
        prepared = self.build_prepared_request(
            method=method,
            url=f"{self.api_base}/{operation}",
            params=params,
            headers={"Api-Key": self.config["api_key"]},
        )
        return self.request_decorator(self._request)(prepared, None)

    # -- operations -------------------------------------------------------------------------------

    def create_export_job(self, customer_key: str) -> JobStatus:
        return self.parse_job_status(self.call("POST", "create-export-customer-job", {"customerKey": customer_key}))

    def job_status(self, jid: str) -> JobStatus:
        return self.parse_job_status(self.call("GET", "job-status", {"jid": jid}))

    def download_export(self, jid: str, store: DownloadStore) -> JobStatus | None:
        """Save the job's zip in `store` (None), or return the status the vendor sent instead."""
        response = self.call("GET", "export-customer-job-result", {"jid": jid})
        head = response.body.head(4)  # type: ignore[attr-defined]
        if head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
            store.save(jid, response.body.raw_file())  # type: ignore[attr-defined]
            return None
        return self.parse_job_status(response)

    # -- parsing ----------------------------------------------------------------------------------

    def parse_job_status(self, response: requests.Response) -> JobStatus:
        try:
            document = bodies.decode_document(response.body)  # type: ignore[attr-defined]
        except bodies.BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None
        if not isinstance(document, dict) or not isinstance(document.get("status"), str) or not document.get("jid"):
            raise VendorResponseError(self.bad_response_message(response, "no job status {jid, status}"))
        other = {name: value for name, value in document.items() if name not in ("jid", "status")}
        return JobStatus(str(document["jid"]), document["status"], other)
