"""What tap-voyado's state may hold: the export_jobs job table (see `jobs`), checked before any request."""

from __future__ import annotations

import typing as t

from tap_voyado import jobs, versions
from tap_voyado.streams import STREAM_TYPES
from tapkit.state import StateLayout, Where, check_count, check_text, check_time

#: job fields the tap reads back on a later run; a job always has them (jobs.new_job); vendor_fields and
#: api_version may be absent (a job not yet polled; a job from tap-voyado 0.1.0)
_TIMES = {"requested_at": False, "last_checked_at": False, "completed_at": True}  # name -> may be null
_COUNTS = ("file_count", "record_count")


def check_job_table(table: t.Any, where: Where) -> None:
    if not isinstance(table, dict):
        where.fail(table, "is not the job table (an object: customer key -> job)")
    for customer_key, job in table.items():
        place = where.at(customer_key)
        if not isinstance(job, dict):
            place.fail(job, "is not a job (an object with " + ", ".join(jobs.RECORD_FIELDS) + ")")
        missing = [name for name in jobs.RECORD_FIELDS if name not in job]
        if missing:
            place.fail(job, f"has no {', '.join(missing)} (a job holds {', '.join(jobs.RECORD_FIELDS)})")
        check_text(job["jid"], place.at("jid"))
        check_text(job["status"], place.at("status"))
        if job["customer_key"] != customer_key:
            place.at("customer_key").fail(
                job["customer_key"], f"is not the key the job is filed under ({customer_key})"
            )
        for name, nullable in _TIMES.items():
            check_time(job[name], place.at(name), nullable=nullable)
        for name in _COUNTS:
            check_count(job[name], place.at(name), nullable=True)
        # absent in a 0.1.0 state (tap_voyado.versions.of_job gives it one); else one of the known versions
        if "api_version" in job and versions.named(str(job["api_version"])) is None:
            place.at("api_version").fail(job["api_version"], f"is not an API version ({versions.allowed_values()})")
        vendor_fields = job.get("vendor_fields")
        if vendor_fields is not None and not isinstance(vendor_fields, dict):
            place.at("vendor_fields").fail(vendor_fields, "is not an object")


LAYOUT = StateLayout.of(STREAM_TYPES, fields={"export_jobs": {"jobs": check_job_table}})
