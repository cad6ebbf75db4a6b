"""The two streams: export_jobs drives the job lifecycle, customer_data emits each downloaded export.

One run, in this order (the state is written after every step that must not be repeated):
1. forget the local zips whose emission the input state confirms;
2. create an export job for each configured key without one (STATE after each creation);
3. for each open job: poll it; when done, save its zip locally (STATE), emit its lines as
   customer_data (a child sync of the job's record), emit the job, then mark it downloaded (STATE);
   jobs that ended in error, not_found or past job_timeout_days are emitted and logged as warnings.
"""

from __future__ import annotations

import copy
import typing as t
from functools import cached_property
from importlib import resources

import msgspec
from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_voyado import disk, jobs, versions
from tap_voyado.api import DEFAULT_API_VERSION, ExportRefusedError, JobStatus, VoyadoApi
from tap_voyado.exports import DownloadStore, ExportNotSavedError, InvalidExportError
from tap_voyado.keys import configured_keys
from tapkit import ConfigError, VendorStream, stopping

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_voyado.settings import VoyadoSettings

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")
_DECODER = msgspec.json.Decoder()


class ExportJobsStream(VendorStream):
    """One row per export job, emitted on each run that changed it; the job table lives in this stream's state."""

    api: VoyadoApi
    settings: VoyadoSettings

    name = "export_jobs"
    primary_keys = ("jid",)
    replication_key = "last_checked_at"
    is_sorted = True  # every row of a run carries that run's time
    check_sorted = False  # a state written on a machine with a later clock must not stop the run
    schema = StreamSchema(SCHEMAS)

    @cached_property
    def store(self) -> DownloadStore:
        return DownloadStore(self.settings.download_dir)

    @property
    def job_table(self) -> dict[str, dict]:
        return self.stream_state.setdefault("jobs", {})

    @property
    def min_free_mb(self) -> float:
        return self.settings.download_min_free_mb

    @property
    def configured_version(self) -> str:
        return self.api.configured_version

    # -- the run ------------------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        table = self.job_table
        disk.check_ready(self.store.directory, self.min_free_mb)  # before any request: see tap_voyado.disk
        self.forget_emitted_downloads(table)
        self.warn_if_version_ended()
        now = jobs.utc_now()
        # A customer key whose requests keep failing, or whose answer cannot be read, is skipped alone
        # (tapkit.isolation): its job table entry stays as the run found it, the other keys go on.
        for customer_key in configured_keys(self.settings):
            if customer_key not in table:
                with self.isolated_part({"customer_key": customer_key}):
                    created, version = self.api.create_export_job_on_run_version(customer_key)
                    table[customer_key] = jobs.new_job(customer_key, created.jid, created.status, now)
                    table[customer_key]["api_version"] = version  # polled and downloaded on it, always
                    self.write_state_now()  # from here on this key never gets a second job
        for job in list(table.values()):
            if not jobs.is_open(job):
                continue
            found = copy.deepcopy(job)
            with self.isolated_part({"customer_key": job["customer_key"]}) as part:
                self.advance(job, now)
            if part.failed:
                job.clear()
                job.update(found)
                continue
            if self.store.has(job["jid"]):
                # its customer_data is emitted first (see generate_child_contexts)
                yield jobs.as_record(job, status=jobs.DOWNLOADED)
                job["status"] = jobs.DOWNLOADED
                self.write_state_now()
            else:
                yield jobs.as_record(job)

    def forget_emitted_downloads(self, table: dict[str, dict]) -> None:
        """Delete local zips whose lines the input state says were emitted (and so reached the target)."""
        for job in table.values():
            if job.get("status") == jobs.DOWNLOADED and self.store.has(job["jid"]):
                self.store.remove(job["jid"])

    def advance(self, job: dict, now: str) -> None:
        """Poll an open job; download it when done; report it when it can no longer succeed."""
        job["last_checked_at"] = now
        jid = job["jid"]
        if not self.store.has(jid):  # a zip already here was downloaded by a run that died before emitting
            status = self.poll(job)
            if status is not None:
                job["status"] = status.status
                job["vendor_fields"] = status.other_fields or None
            if status is not None and status.status == jobs.DONE:
                job["completed_at"] = job.get("completed_at") or now
                self.download(job)
        if self.store.has(jid):
            job["status"] = jobs.DONE
            job["completed_at"] = job.get("completed_at") or now
            job["file_count"], job["record_count"] = self.store.summary(jid)
            self.write_state_now()
        elif job["status"] not in jobs.FAILED and jobs.past_timeout(job, now, self.settings.job_timeout_days):
            job["status"] = jobs.EXPIRED
        if job["status"] in jobs.FAILED:
            self.logger.warning(
                "export job %s for customer key %r ended with status %s: its data cannot be downloaded. "
                "It is not retried; to request a new export, remove the key from the state's job table.",
                jid,
                job["customer_key"],
                job["status"],
            )

    def poll(self, job: dict) -> JobStatus | None:
        """The job's status on the version that created it; None when that version's path is not served."""
        version = versions.of_job(job, self.configured_version)
        try:
            return self.api.job_status(job["jid"], version)
        except versions.NotServedError as exc:
            self.warn_job_version_not_served(job, exc)
            return None

    def download(self, job: dict) -> None:
        disk.check_ready(self.store.directory, self.min_free_mb)  # earlier downloads of this run took room
        try:
            # Voyado deletes an export once served: a SIGTERM waits until the export is saved, then stops
            # the run (unless the answer has not begun within seconds of the signal: `on_start` says it began).
            with stopping.deferred() as section:
                answer = self.api.download_export(
                    job["jid"],
                    self.store,
                    versions.of_job(job, self.configured_version),
                    on_start=lambda _response: section.begin(),
                )
        except ExportRefusedError as exc:
            self.logger.warning(
                "%s. The export of job %s is not downloadable although its status was done: "
                "it stays done and is tried again next run",
                exc,
                job["jid"],
            )
            return
        except versions.NotServedError as exc:
            self.warn_job_version_not_served(job, exc)
            return
        except InvalidExportError as exc:
            job["status"] = "error"
            self.logger.warning("export job %s: %s", job["jid"], exc)
            return
        except ExportNotSavedError as exc:
            raise ConfigError(
                f"export job {job['jid']} for customer key {job['customer_key']!r} was downloaded but could not be "
                f"saved in download_dir ({exc}); the vendor deletes an export once downloaded, so the next run "
                "reports it not_found: raise download_min_free_mb to stop before a download that cannot fit"
            ) from None
        if answer is not None:  # the vendor sent a status instead of the zip (e.g. not_found)
            job["status"] = answer.status

    @override
    def generate_child_contexts(self, record: dict, context: Context | None) -> t.Iterable[Context | None]:
        # Only the row of a job whose zip is saved carries "downloaded" here: its lines go out now,
        # before `get_records` resumes and marks the job downloaded in the state.
        if record.get("status") == jobs.DOWNLOADED and self.store.has(record["jid"]):
            yield {"jid": record["jid"], "customer_key": record["customer_key"]}

    # -- warnings ---------------------------------------------------------------------------------

    def warn_if_version_ended(self) -> None:
        version = versions.version(self.configured_version)
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


class CustomerDataStream(VendorStream):
    """One row per line of a downloaded export, emitted once per job (before the job is marked downloaded)."""

    name = "customer_data"
    parent_stream_type = ExportJobsStream
    primary_keys = ("jid", "file_name", "line_number")
    settings: VoyadoSettings
    state_partitioning_keys: t.ClassVar[list[str]] = []  # the job table in export_jobs tracks what was emitted
    field_renames: t.ClassVar[dict[str, str]] = {"time": "event_time"}
    schema = StreamSchema(SCHEMAS)

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._warned_unparsed = False

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        store = DownloadStore(self.settings.download_dir)
        for file_name, line_number, line in store.iter_lines(context["jid"]):
            row = {
                "jid": context["jid"],
                "customer_key": context["customer_key"],
                "file_name": file_name,
                "line_number": line_number,
            }
            try:
                data = _DECODER.decode(line)
            except msgspec.DecodeError:
                self.warn_unparsed(file_name)
                yield {**row, "data": None, "_extra": {"unparsed_line": line.decode("utf-8", "replace").rstrip("\r\n")}}
                continue
            event_time = data.get("time") if isinstance(data, dict) else None
            yield {**row, "time": event_time, "data": data}

    def warn_unparsed(self, file_name: str) -> None:
        if not self._warned_unparsed:
            self._warned_unparsed = True
            self.logger.warning(
                "customer_data: a line of %s is not JSON; it is kept as text in _extra.unparsed_line", file_name
            )


STREAM_TYPES = [ExportJobsStream, CustomerDataStream]
