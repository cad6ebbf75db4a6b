"""An interrupted segment scan resumes from the saved `_next` within the hour, else starts again."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from sandbox.lytics import _encode_cursor
from tap_lytics.tap import TapLytics
from tapkit import clock
from tests.lytics.truth import ground_truth
from tests.support.singer import run_tap

PAGE = 25  # 60 profiles in "all": pages of 25, 25, 10


def interrupted_run(sandbox, config) -> tuple[dict, str, dict]:
    """Sync `all` with the third page failing for good; return (config, all's id, last state)."""
    config = {**config, "segments": ["all"], "scan_page_size": PAGE, "retry_max_attempts": 1}
    all_id = sandbox.app("lytics").find_segment("all")["id"]
    sandbox.faults.add("500", vendor="lytics", path=f"start={_encode_cursor(all_id, 2 * PAGE)}", times=-1)
    run = run_tap("tap-lytics", config)
    assert run.returncode == 1
    assert "failed after 1 attempts: HTTP 500" in run.last_stderr_line
    assert run.counts()["audience_members"] == 2 * PAGE
    sandbox.faults.clear()
    sandbox.requests.clear()
    return config, all_id, run.last_state


def saved_state(sandbox, config, *, cursor: str, age: dt.timedelta) -> tuple[dict, str, dict]:
    """(config, all's id, a state as an interrupted run leaves it) without running one."""
    config = {**config, "segments": ["all"], "scan_page_size": PAGE}
    all_id = sandbox.app("lytics").find_segment("all")["id"]
    saved_at = (clock.now() - age).isoformat()
    partitions = [{"context": {"segment_id": all_id}, "next": cursor, "saved_at": saved_at}]
    return config, all_id, {"bookmarks": {"audience_members": {"partitions": partitions}}}


def scan_all(tap: TapLytics, segment_id: str) -> list[dict]:
    """The raw rows audience_members reads for one audience (in process, no Singer output needed)."""
    rows = tap.streams["audience_members"].get_records({"segment_id": segment_id})
    return t.cast("list[dict]", list(rows))  # rows, never (row, context) pairs


def partition(state: dict, segment_id: str) -> dict:
    (found,) = [
        p for p in state["bookmarks"]["audience_members"]["partitions"] if p["context"] == {"segment_id": segment_id}
    ]
    return found


def scan_requests(sandbox) -> list:
    return [r for r in sandbox.requests if r.path.endswith("/scan")]


def test_resume_within_the_hour_reads_only_the_rest(sandbox, config):
    config, all_id, state = interrupted_run(sandbox, config)
    saved = partition(state, all_id)
    assert set(saved) == {"context", "next", "saved_at"}
    assert saved["next"] == _encode_cursor(all_id, 2 * PAGE)
    age = clock.now() - dt.datetime.fromisoformat(saved["saved_at"])
    assert dt.timedelta(0) <= age < dt.timedelta(minutes=5)

    members = [row["profile"]["_uid"] for row in ground_truth(sandbox, config)["audience_members"]]
    run = run_tap("tap-lytics", config, state=state)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["profile_id"] for r in run.records("audience_members")] == members[2 * PAGE :]
    scans = scan_requests(sandbox)
    assert scans[0].query["start"] == [_encode_cursor(all_id, 2 * PAGE)]
    assert len(scans) == 1
    done = partition(run.last_state, all_id)
    assert done["next"] is None


@pytest.mark.usefixtures("capsys")
def test_cursor_older_than_an_hour_restarts_the_scan(sandbox, config, caplog):
    all_id = sandbox.app("lytics").find_segment("all")["id"]
    config, all_id, stale = saved_state(
        sandbox, config, cursor=_encode_cursor(all_id, 2 * PAGE), age=dt.timedelta(hours=2)
    )
    assert len(scan_all(TapLytics(config=config, state=stale), all_id)) == 60
    assert "start" not in scan_requests(sandbox)[0].query
    assert "not within the last hour" in caplog.text


@pytest.mark.usefixtures("capsys")
def test_a_refused_cursor_restarts_the_scan(sandbox, config, caplog):
    config, all_id, state = saved_state(sandbox, config, cursor="not-a-cursor", age=dt.timedelta(minutes=5))
    assert len(scan_all(TapLytics(config=config, state=state), all_id)) == 60
    assert [r.query.get("start") for r in scan_requests(sandbox)[:2]] == [["not-a-cursor"], None]
    assert "the saved cursor was refused" in caplog.text
