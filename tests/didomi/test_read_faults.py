"""tap-didomi when an S3 export file fails between its listing and its read: gone (404) or failing (5xx) after
botocore's retries. The line names the key, the partition fails alone (every other stream and partition syncs
exactly), its bookmark stays before the failing day, and the next run, the fault gone, reads that day."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from sandbox.didomi import BATCH_EXPORT, BUCKET, PREFIX
from tests.didomi.support import TAP, config, truth
from tests.didomi.test_sync import app, assert_exact, by_key
from tests.support.singer import run_tap

FAILING_STREAM = "export_users"
NO_CONSENTS = ("consent_users", "consent_events")


def bookmark(state: dict, stream: str, export_id: str) -> str | None:
    for entry in state["bookmarks"][stream]["partitions"]:
        if entry["context"] == {"export_id": export_id}:
            assert "progress_markers" not in entry  # nothing uncommitted kept
            return entry.get("replication_key_value")
    return None


@pytest.mark.parametrize(
    ("fault", "words"), [("gone", "was listed but is gone"), ("503", "after the client's retries")]
)
def test_a_file_failing_between_listing_and_read_fails_its_partition_alone(sandbox, fault, words):
    settings = config(sandbox, consents_api=False, retry_max_attempts=2, lookback_days=0)
    days = sorted(day for day in app(sandbox).export_days() if app(sandbox).complete(day))
    failing_day = days[1]  # a day read and committed before it, and days after it
    (first_name, _), (second_name, _) = app(sandbox).partition_files(BATCH_EXPORT, failing_day, "users")
    assert first_name < second_name  # read in key order: the first file's records are written before the failure
    key = f"{PREFIX}/export-id={BATCH_EXPORT}/date={failing_day.isoformat()}/users/{second_name}"
    if fault == "gone":
        sandbox.settings["didomi.gone_keys"] = [key]
    else:
        sandbox.faults.add("503", vendor="didomi", path=f"/{BUCKET}/{quote(key, safe='/')}", times=-1)

    first = run_tap(TAP, settings)

    assert first.returncode != 0
    assert "Traceback" not in first.stderr
    line = first.last_stderr_line
    assert line.startswith(f"{TAP}: error: 1 part(s) failed"), first.stderr[-2000:]
    assert f"s3://{BUCKET}" in line and key in line and words in line, line
    get_statuses = [
        request.status
        for request in sandbox.requests
        if request.vendor == "didomi" and request.method == "GET" and second_name in request.path
    ]
    assert get_statuses == ([404] if fault == "gone" else [503, 503])  # a 404 is not retried; a 503 is, twice asked

    expected = truth(sandbox, start_date=settings["start_date"])
    healthy = tuple(stream for stream in expected if stream not in (FAILING_STREAM, *NO_CONSENTS))
    assert_exact(first, expected, healthy)  # every other stream, the analytics export's included
    written = by_key(FAILING_STREAM, first.records(FAILING_STREAM))
    all_users = by_key(FAILING_STREAM, expected[FAILING_STREAM])
    assert written.items() <= all_users.items()
    before = {key: row for key, row in all_users.items() if row["partition_date"] < failing_day.isoformat()}
    assert before and before.items() <= written.items()
    assert len(written) == len(before) + len(app(sandbox).export_records("users", failing_day, 0))
    assert bookmark(first.last_state, FAILING_STREAM, BATCH_EXPORT) == (failing_day - dt.timedelta(days=1)).isoformat()
    assert bookmark(first.last_state, "export_events", BATCH_EXPORT) == days[-1].isoformat()

    sandbox.settings.pop("didomi.gone_keys", None)
    sandbox.faults.clear()
    second = run_tap(TAP, settings, state=first.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    reread = by_key(FAILING_STREAM, second.records(FAILING_STREAM))
    # the run starts at the bookmark's day (inclusive) and reads the failing day whole
    starts_at = failing_day - dt.timedelta(days=1)
    assert {row["partition_date"] for row in reread.values()} == {day.isoformat() for day in days if day >= starts_at}
    assert written | reread == all_users  # nothing lost across the two runs
    assert bookmark(second.last_state, FAILING_STREAM, BATCH_EXPORT) == days[-1].isoformat()
