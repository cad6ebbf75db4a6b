"""An interrupted segment scan resumes from the saved `_next` within the hour, else starts again."""

from __future__ import annotations

import copy
import datetime as dt

from sandbox.lytics import _encode_cursor
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


def partition(state: dict, segment_id: str) -> dict:
    (found,) = [p for p in state["bookmarks"]["audience_members"]["partitions"] if p["context"] == {"segment_id": segment_id}]
    return found


def scan_requests(sandbox) -> list:
    return [r for r in sandbox.requests if r.path.endswith("/scan")]


def test_state_holds_next_and_saved_at_after_each_page(sandbox, config):
    config, all_id, state = interrupted_run(sandbox, config)
    saved = partition(state, all_id)
    assert set(saved) == {"context", "next", "saved_at"}
    assert saved["next"] == _encode_cursor(all_id, 2 * PAGE)
    age = dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(saved["saved_at"])
    assert dt.timedelta(0) <= age < dt.timedelta(minutes=5)


def test_resume_within_the_hour_reads_only_the_rest(sandbox, config):
    config, all_id, state = interrupted_run(sandbox, config)
    members = [row["profile"]["_uid"] for row in ground_truth(sandbox, config)["audience_members"]]
    run = run_tap("tap-lytics", config, state=state)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["profile_id"] for r in run.records("audience_members")] == members[2 * PAGE :]
    scans = scan_requests(sandbox)
    assert scans[0].query["start"] == [_encode_cursor(all_id, 2 * PAGE)]
    assert len(scans) == 1
    done = partition(run.last_state, all_id)
    assert done["next"] is None


def test_cursor_older_than_an_hour_restarts_the_scan(sandbox, config):
    config, all_id, state = interrupted_run(sandbox, config)
    stale = copy.deepcopy(state)
    two_hours_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    partition(stale, all_id)["saved_at"] = two_hours_ago.isoformat()
    run = run_tap("tap-lytics", config, state=stale)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.counts()["audience_members"] == 60
    assert "start" not in scan_requests(sandbox)[0].query
    assert "not within the last hour" in run.stderr


def test_a_refused_cursor_restarts_the_scan(sandbox, config):
    config, all_id, state = interrupted_run(sandbox, config)
    partition(state, all_id)["next"] = "not-a-cursor"
    run = run_tap("tap-lytics", config, state=state)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.counts()["audience_members"] == 60
    assert "the saved cursor was refused" in run.stderr


def test_completed_scan_starts_from_the_beginning_next_run(sandbox, config):
    config = {**config, "segments": ["sweden"]}
    first = run_tap("tap-lytics", config)
    assert first.returncode == 0, first.stderr[-2000:]
    sandbox.requests.clear()
    second = run_tap("tap-lytics", config, state=first.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.counts()["audience_members"] == len(sandbox.app("lytics").members("sweden"))
    assert "start" not in scan_requests(sandbox)[0].query
