"""Voyado Elevate GDPR API: the vendor's quirks, in one place.

- base URL https://{cluster_id}.elevate-api.cloud (the Elevate 4 docs; the older docs' host
  {cluster_id}.api.esales.apptus.cloud is reachable through `api_url`); operations under a base path
  that depends on the API version (`tap_voyado.versions`: admin-v4 by default, falling back once per
  run to admin-v3 when admin-v4's export paths are not served); header `Api-Key` on every call;
- an export is an asynchronous job: create -> {jid, status}; poll job-status -> {jid, status};
  download export-customer-job-result once the job is done; a jid is used only on the version that
  created it;
- the download is a zip, but a job that is not (or no longer) downloadable answers with a job status
  document instead [assumption: the docs say "a response will always return a job status"]; an HTTP
  400 there (the docs list 200/400/403 and say nothing more) leaves the job `done`, tried again next
  run; the export is deleted once downloaded, so a second download answers not_found;
- a job status document may come with HTTP 404 (an unknown jid) [tolerated reading]; a 404 or 410
  without one means the version's path is not served;
- an export without data is a zip holding `empty.txt`; a bare `empty.txt` (text/plain) is read the same;
- statuses: created, waiting, running, done, error (Elevate 4), not_found; an unknown status is
  treated as still open (polled again, until job_timeout_days).
"""

from __future__ import annotations

import io
import typing as t
import zipfile
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tap_voyado import versions
from tapkit import VendorResponseError
from tapkit import body as bodies
from tapkit.legacy import LegacyVendorStream as VendorStream  # until this tap asks through its api.py
from tapkit.secrets import scrub

if t.TYPE_CHECKING:
    import requests

    from tap_voyado.exports import DownloadStore

API_BASE_PATHS = {name: version.base_path for name, version in versions.VERSIONS.items()}
DEFAULT_API_VERSION = versions.DEFAULT_API_VERSION
CLUSTER_URL = "https://{cluster_id}.elevate-api.cloud"
#: the host of the older (docs.apptus.com) copy of the docs, for `api_url`
LEGACY_CLUSTER_URL = "https://{cluster_id}.api.esales.apptus.cloud"
#: answers judged per operation (see `call`) rather than as errors of the whole sync
_JUDGED_STATUSES = frozenset({400, *versions.NOT_SERVED_STATUSES})
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # a zip without members


def _empty_export_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("empty.txt", "")
    return buffer.getvalue()


#: what a bare empty.txt answer is saved as: the documented zip of an export without data
EMPTY_EXPORT_ZIP = _empty_export_zip()


def is_bare_empty_marker(response: requests.Response) -> bool:
    """A body-less text/plain answer, or one named empty.txt: an export without data sent unzipped."""
    body = response.body  # type: ignore[attr-defined]
    if body.size > 64 or body.head(64).strip():
        return False
    disposition = response.headers.get("Content-Disposition", "")
    return "empty.txt" in disposition or response.headers.get("Content-Type", "").startswith("text/plain")


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
    def configured_version(self) -> str:
        return str(self.config.get("api_version") or DEFAULT_API_VERSION)

    @property
    def api_base(self) -> str:
        """The base of the configured version's operations."""
        return self.version_base(self.configured_version)

    def version_base(self, version: str) -> str:
        return self.url_base + API_BASE_PATHS[version]

    def validate_response(self, response: requests.Response) -> None:
        if response.status_code in _JUDGED_STATUSES:
            return  # `call` decides: a job status, a path not served, or an error
        super().validate_response(response)

    def call(self, method: str, operation: str, params: dict[str, str], version: str) -> requests.Response:
        """One API call through the kit's client (retries, pacing, auth errors, scrubbing).

        Raises `versions.NotServedError` for a 404/410 without a job status document, and a clear error
        for any other 4xx, except a 400 from the result endpoint (see `download_export`)."""
        prepared = self.build_prepared_request(
            method=method,
            url=f"{self.version_base(version)}/{operation}",
            params=params,
            headers={"Api-Key": self.config["api_key"]},
        )
        response = self.request_decorator(self._request)(prepared, None)
        status = response.status_code
        if status < 400 or self.holds_job_status(response):
            return response
        if status in versions.NOT_SERVED_STATUSES:
            # method and path only: the query names a customer key or a jid, and adds nothing here
            path = urlsplit(response.request.url or "").path
            raise versions.NotServedError(version, scrub(f"{method} {path}"), status)
        if status == 400 and operation == "export-customer-job-result":
            return response
        raise VendorResponseError(self.bad_response_message(response, f"an error (HTTP {status})"))

    # -- operations -------------------------------------------------------------------------------

    def create_export_job(self, customer_key: str, version: str) -> JobStatus:
        return self.parse_job_status(
            self.call("POST", "create-export-customer-job", {"customerKey": customer_key}, version)
        )

    def job_status(self, jid: str, version: str) -> JobStatus:
        return self.parse_job_status(self.call("GET", "job-status", {"jid": jid}, version))

    def download_export(self, jid: str, store: DownloadStore, version: str) -> JobStatus | None:
        """Save the job's zip in `store` (None), or return the status the vendor sent instead."""
        response = self.call("GET", "export-customer-job-result", {"jid": jid}, version)
        head = response.body.head(4)  # type: ignore[attr-defined]
        if response.status_code < 400 and head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
            store.save(jid, response.body.raw_file())  # type: ignore[attr-defined]
            return None
        if response.status_code < 400 and is_bare_empty_marker(response):
            store.save(jid, io.BytesIO(EMPTY_EXPORT_ZIP))
            return None
        if response.status_code == 400 and not self.holds_job_status(response):
            self.logger.warning(
                "%s. The export of job %s is not downloadable although its status was done: "
                "it stays done and is tried again next run",
                self.bad_response_message(response, "an error instead of the export's zip"),
                jid,
            )
            return JobStatus(jid, "done")
        return self.parse_job_status(response)

    # -- versions over a run ------------------------------------------------------------------------

    @property
    def run_version(self) -> versions.RunVersion:
        return self._tap.run_version  # type: ignore[attr-defined]

    def create_export_job_on_run_version(self, customer_key: str) -> tuple[JobStatus, str]:
        """Create a job on the run's version, falling back once (one warning) when it is not served."""
        run = self.run_version
        while True:
            version = run.current
            try:
                return self.create_export_job(customer_key, version), version
            except versions.NotServedError as exc:
                if run.fall_back(exc) is None:
                    raise VendorResponseError(f"{self.vendor}: {run.stop_message()}") from None
                self.logger.warning("%s: %s", self.vendor, run.fallback_warning())

    def warn_if_version_ended(self) -> None:
        version = versions.VERSIONS[self.configured_version]
        if version.ended(versions.today()):
            self.logger.warning(
                "%s: api_version %s (%s) %s, per the vendor's docs: it may stop answering at any time; "
                "set api_version to %s",
                self.vendor,
                version.name,
                version.vendor_name,
                version.life(versions.today()),
                DEFAULT_API_VERSION,
            )

    def warn_job_version_not_served(self, job: t.Mapping[str, t.Any], error: versions.NotServedError) -> None:
        self.logger.warning(
            "%s: export job %s for customer key %r was created on api_version %s, whose path is not served now "
            "(%s); a job is only polled on the version that created it, so it stays %s and is tried again next run "
            "(until job_timeout_days)",
            self.vendor,
            job["jid"],
            job["customer_key"],
            error.version,
            error,
            job.get("status"),
        )

    # -- parsing ----------------------------------------------------------------------------------

    @staticmethod
    def holds_job_status(response: requests.Response) -> bool:
        """Whether the body is a job status document {jid, status} (whatever the HTTP status)."""
        try:
            document = bodies.decode_document(response.body)  # type: ignore[attr-defined]
        except bodies.BodyDecodeError:
            return False
        return isinstance(document, dict) and isinstance(document.get("status"), str) and bool(document.get("jid"))

    def parse_job_status(self, response: requests.Response) -> JobStatus:
        try:
            document = bodies.decode_document(response.body)  # type: ignore[attr-defined]
        except bodies.BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None
        if not isinstance(document, dict) or not isinstance(document.get("status"), str) or not document.get("jid"):
            raise VendorResponseError(self.bad_response_message(response, "no job status {jid, status}"))
        other = {name: value for name, value in document.items() if name not in ("jid", "status")}
        return JobStatus(str(document["jid"]), document["status"], other)
