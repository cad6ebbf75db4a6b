"""Voyado Elevate GDPR API: one method per endpoint, and the vendor's quirks, in one place.

- base URL https://{cluster_id}.elevate-api.cloud (the Elevate 4 docs; the older docs' host
  {cluster_id}.api.esales.apptus.cloud is reachable through `api_url`); operations under a base path
  that depends on the API version (`tap_voyado.versions`: admin-v4 by default, falling back along the
  chain of known versions, newest first, while a version's export paths are not served); header `Api-Key` on every call;
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

from typing_extensions import override

from tap_voyado import versions
from tapkit import Request, TapkitError, VendorApi, VendorResponse, VendorResponseError
from tapkit.secrets import scrub

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from tap_voyado.exports import DownloadStore
    from tap_voyado.settings import VoyadoSettings
    from tapkit.http import HttpClient

DEFAULT_API_VERSION = versions.DEFAULT_API_VERSION
CLUSTER_URL = "https://{cluster_id}.elevate-api.cloud"
#: the host of the older (docs.apptus.com) copy of the docs, for `api_url`
LEGACY_CLUSTER_URL = "https://{cluster_id}.api.esales.apptus.cloud"
#: answers judged per operation (see `VoyadoApi.call`) rather than as errors of the whole sync
JUDGED_STATUSES = frozenset({400, *versions.NOT_SERVED_STATUSES})
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # a zip without members

CREATE_JOB = "create-export-customer-job"
JOB_STATUS = "job-status"
JOB_RESULT = "export-customer-job-result"


def _empty_export_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("empty.txt", "")
    return buffer.getvalue()


#: what a bare empty.txt answer is saved as: the documented zip of an export without data
EMPTY_EXPORT_ZIP = _empty_export_zip()


class NoExportVersionError(TapkitError):
    """No API version the run may use serves the export operations: the account's, not one customer key's,
    so the run stops at once (not a part that fails alone, see tapkit.isolation)."""


@dataclass
class JobStatus:
    """A job status document: {jid, status} plus whatever else the vendor sends."""

    jid: str
    status: str
    other_fields: dict[str, t.Any] = field(default_factory=dict)


class ExportRefusedError(Exception):
    """The result endpoint answered HTTP 400 without a job status: the export is not downloadable now."""


def is_bare_empty_marker(answer: VendorResponse) -> bool:
    """A body-less text/plain answer, or one named empty.txt: an export without data sent unzipped."""
    if answer.body.size > 64 or answer.body.head(64).strip():
        return False
    disposition = answer.headers.get("Content-Disposition", "")
    return "empty.txt" in disposition or answer.headers.get("Content-Type", "").startswith("text/plain")


def status_document(answer: VendorResponse) -> dict[str, t.Any] | None:
    """The body when it is a job status document {jid, status} (whatever the HTTP status), else None."""
    try:
        document = answer.document()
    except VendorResponseError:
        return None
    if isinstance(document, dict) and isinstance(document.get("status"), str) and document.get("jid"):
        return document
    return None


def holds_job_status(answer: VendorResponse) -> bool:
    return status_document(answer) is not None


def parse_job_status(answer: VendorResponse) -> JobStatus:
    document = answer.document()  # a body that is not JSON is a clear error naming the request
    if not isinstance(document, dict) or not isinstance(document.get("status"), str) or not document.get("jid"):
        raise answer.error("no job status {jid, status}")
    other = {name: value for name, value in document.items() if name not in ("jid", "status")}
    return JobStatus(str(document["jid"]), document["status"], other)


class VoyadoApi(VendorApi):
    """The GDPR API's export operations, on the tap's HTTP client (retries, pacing, auth errors, scrubbing).

    It owns the run's API version (`run`, shared by every stream's copy): jobs are created on it and it
    falls back along the chain of known versions (see `tap_voyado.versions`); a job is polled and
    downloaded on the version given."""

    settings: VoyadoSettings

    def __init__(self, http: HttpClient, settings: VoyadoSettings) -> None:
        super().__init__(http, settings)
        self.run = versions.RunVersion(self.configured_version)

    @property
    def configured_version(self) -> str:
        return self.settings.api_version or DEFAULT_API_VERSION

    @property
    def host(self) -> str:
        api_url = self.settings.api_url
        base = api_url if api_url else CLUSTER_URL.format(cluster_id=self.settings.cluster_id)
        return base.rstrip("/")

    @property
    def api_base(self) -> str:
        """The base of the configured version's operations."""
        return self.version_base(self.configured_version)

    def version_base(self, version: str) -> str:
        return self.host + versions.version(version).base_path

    @override
    def auth_headers(self) -> dict[str, str]:
        return {"Api-Key": self.settings.api_key}

    def call(
        self,
        method: str,
        operation: str,
        params: dict[str, str],
        version: str,
        *,
        on_start: Callable[[requests.Response], None] | None = None,
    ) -> VendorResponse:
        """One operation on `version`; its answer when it succeeded or holds a job status document.

        Raises `versions.NotServedError` for a 404/410 without a job status document, and a clear error
        for any other 4xx, except a 400 from the result endpoint (see `download_export`)."""
        answer = self.send(
            Request(
                f"{self.version_base(version)}/{operation}",
                params,
                method=method,
                endpoint=f"{versions.version(version).base_path}/{operation}",
            ),
            tolerate=JUDGED_STATUSES,
            on_start=on_start,
        )
        status = answer.status
        if answer.ok or holds_job_status(answer):
            return answer
        if status == 400 and operation == JOB_RESULT:
            return answer
        try:
            if status in versions.NOT_SERVED_STATUSES:
                # method and path only: the query names a customer key or a jid, and adds nothing here
                path = urlsplit(answer.request.url or "").path
                raise versions.NotServedError(version, scrub(f"{method} {path}"), status)
            raise answer.error(f"an error (HTTP {status})")
        finally:
            answer.close()

    # -- the endpoints ------------------------------------------------------------------------------

    def create_export_job(self, customer_key: str, version: str) -> JobStatus:
        return self._job_status_of(self.call("POST", CREATE_JOB, {"customerKey": customer_key}, version))

    def job_status_answer(self, jid: str, version: str) -> VendorResponse:
        """job-status as answered (the probe judges the answer itself)."""
        return self.call("GET", JOB_STATUS, {"jid": jid}, version)

    def job_status(self, jid: str, version: str) -> JobStatus:
        return self._job_status_of(self.job_status_answer(jid, version))

    def export_result_answer(
        self, jid: str, version: str, *, on_start: Callable[[requests.Response], None] | None = None
    ) -> VendorResponse:
        """export-customer-job-result as answered: a zip, a job status document, or an HTTP 400.
        The vendor deletes the export as it serves it: this answer cannot be asked for again."""
        return self.call("GET", JOB_RESULT, {"jid": jid}, version, on_start=on_start)

    def download_export(
        self,
        jid: str,
        store: DownloadStore,
        version: str,
        *,
        on_start: Callable[[requests.Response], None] | None = None,
    ) -> JobStatus | None:
        """Save the job's zip in `store` (None), or return the status the vendor sent instead.

        Raises `ExportRefusedError` for an HTTP 400 without a job status; `on_start` is called when the
        answer begins (status and headers in, body not yet read)."""
        answer = self.export_result_answer(jid, version, on_start=on_start)
        try:
            head = answer.body.head(4)
            if answer.ok and head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
                store.save(jid, answer.body.raw_file())
                return None
            if answer.ok and is_bare_empty_marker(answer):
                store.save(jid, io.BytesIO(EMPTY_EXPORT_ZIP))
                return None
            if answer.status == 400 and not holds_job_status(answer):
                raise ExportRefusedError(answer.error_message("an error instead of the export's zip"))
            return parse_job_status(answer)
        finally:
            answer.close()

    # -- the run's version ------------------------------------------------------------------------

    def create_export_job_on_run_version(self, customer_key: str) -> tuple[JobStatus, str]:
        """Create a job on the run's version, falling back down the chain (one warning a step) while not served."""
        while True:
            version = self.run.current
            try:
                return self.create_export_job(customer_key, version), version
            except versions.NotServedError as exc:
                if self.run.fall_back(exc) is None:
                    raise NoExportVersionError(f"{self.vendor}: {self.run.stop_message()}") from None
                self.logger.warning("%s: %s", self.vendor, self.run.fallback_warning())

    @staticmethod
    def _job_status_of(answer: VendorResponse) -> JobStatus:
        try:
            return parse_job_status(answer)
        finally:
            answer.close()
