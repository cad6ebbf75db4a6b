"""The job table: one export job per customer key, carried from run to run in the Singer state.

Each entry is {jid, customer_key, status, requested_at, last_checked_at, completed_at, file_count,
record_count} plus `vendor_fields` (anything else the vendor's last status document held). Status is
the vendor's (created, waiting, running, done, error, not_found) or one of the tap's own:
"downloaded" (its lines were emitted) and "expired" (not done within job_timeout_days).
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tapkit import clock

DONE = "done"
DOWNLOADED = "downloaded"
EXPIRED = "expired"
#: Statuses after which a job is never polled again (reported once, never retried silently).
ENDED = frozenset({DOWNLOADED, EXPIRED, "error", "not_found"})
FAILED = frozenset({EXPIRED, "error", "not_found"})

RECORD_FIELDS = (
    "jid",
    "customer_key",
    "status",
    "requested_at",
    "last_checked_at",
    "completed_at",
    "file_count",
    "record_count",
)


def utc_now() -> str:
    return clock.now().replace(microsecond=0).isoformat()


def new_job(customer_key: str, jid: str, status: str, now: str) -> dict[str, t.Any]:
    return {
        "jid": jid,
        "customer_key": customer_key,
        "status": status,
        "requested_at": now,
        "last_checked_at": now,
        "completed_at": None,
        "file_count": None,
        "record_count": None,
    }


def is_open(job: t.Mapping[str, t.Any]) -> bool:
    return job.get("status") not in ENDED


def past_timeout(job: t.Mapping[str, t.Any], now: str, timeout_days: int) -> bool:
    requested = dt.datetime.fromisoformat(job["requested_at"])
    return dt.datetime.fromisoformat(now) - requested >= dt.timedelta(days=timeout_days)


def as_record(job: t.Mapping[str, t.Any], *, status: str | None = None) -> dict[str, t.Any]:
    """The export_jobs row of a job; unknown vendor fields go along (the shaper keeps them in _extra)."""
    record = {**(job.get("vendor_fields") or {}), **{name: job.get(name) for name in RECORD_FIELDS}}
    if status is not None:
        record["status"] = status
    return record
