"""Date-ranged reports fetch several days at once (`max_concurrency`) and still emit and commit them in
day order: the records and the state are exactly a sequential run's, a killed run resumed loses nothing,
and the rate limit and a vendor's Retry-After hold every worker."""

from __future__ import annotations

import datetime as dt
import random
import signal
import threading
import time
from collections import Counter

from tapkit.windows import DaysAhead
from tests.consentmanager.truth import raw_rows
from tests.reliability.runner import key_of
from tests.reliability.taps import TAPS
from tests.reliability.test_kill_resume import (
    assert_nothing_lost_and_duplicates_only_where_re_read,
    attempt,
    resume_until_done,
)
from tests.support.singer import run_tap
from tests.tapkit.test_concurrency import without_run_times

SECRET = "cm-sentinel-Key-8f2e"
LATENCY = 0.05  # seconds per request: enough for days fetched at once to finish out of order
REPORT_TYPES = ("1", "3", "16", "18", "19")
#: the SDK's run clock in a bookmark: the time the run started, different in every run
SIGNPOST = "replication_key_signpost"


def config(sandbox, days_back: int, **overrides) -> dict:
    return {
        "api_key": SECRET,
        "start_date": (sandbox.today() - dt.timedelta(days=days_back)).isoformat(),
        "api_url": sandbox.url("consentmanager"),
        "retry_backoff_seconds": 0.01,
        "retry_max_attempts": 3,
        **overrides,
    }


def records_and_states(run) -> list[dict]:
    assert run.returncode == 0, run.stderr[-2000:]
    messages = [
        {k: v for k, v in m.items() if k != "version"} for m in run.messages if m["type"] in ("RECORD", "STATE")
    ]
    return without_run_times(strip_signposts(messages))


def strip_signposts(value):
    if isinstance(value, dict):
        return {key: strip_signposts(item) for key, item in value.items() if key != SIGNPOST}
    if isinstance(value, list):
        return [strip_signposts(item) for item in value]
    return value


def report_requests(sandbox) -> list:
    return [
        r
        for r in list(sandbox.requests)
        if r.vendor == "consentmanager" and r.query.get("type", [""])[0] in REPORT_TYPES
    ]


def peak_in_flight(requests, latency: float) -> int:
    """Most requests the simulator was answering at once (each takes `latency` from its arrival)."""
    events = sorted([(r.received_at, 1) for r in requests] + [(r.received_at + latency, -1) for r in requests])
    peak = running = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_four_days_at_once_emit_exactly_what_one_at_a_time_emits(sandbox):
    sandbox.latency = LATENCY
    cfg = config(sandbox, days_back=12)
    runs, peaks, requested = {}, {}, {}
    for concurrency in (1, 4):
        sandbox.requests.clear()
        run = run_tap("tap-consentmanager", {**cfg, "max_concurrency": concurrency})
        runs[concurrency] = records_and_states(run)
        peaks[concurrency] = peak_in_flight(report_requests(sandbox), LATENCY)
        requested[concurrency] = Counter((r.query["type"][0], r.query["from"][0]) for r in report_requests(sandbox))
    assert runs[4] == runs[1]  # every RECORD and every STATE, in the same order (clocks aside)
    # exactly the ground truth, and each report's day asked once (consent_log: its last seven days)
    counted = Counter(m["stream"] for m in runs[4] if m["type"] == "RECORD")
    assert dict(counted) == {stream: len(rows) for stream, rows in raw_rows(sandbox, cfg).items() if rows}
    assert requested[4] == requested[1]
    assert sum(requested[4].values()) == 4 * 13 + 7 and set(requested[4].values()) == {1}
    # the days really overlapped, never more than max_concurrency at once
    assert peaks[1] == 1
    assert 2 <= peaks[4] <= 4


def test_a_day_failing_ahead_surfaces_after_the_days_before_it_are_committed(sandbox):
    sandbox.latency = LATENCY
    cfg = config(sandbox, days_back=9, max_concurrency=4)
    failing = (sandbox.today() - dt.timedelta(days=4)).isoformat()
    sandbox.faults.add("401", vendor="consentmanager", path=f"type=1&from={failing}", times=-1)
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 1
    assert "authentication failed: check api_key" in run.last_stderr_line
    # the five days before it, emitted and committed; nothing of that day or after
    truth = raw_rows(sandbox, {**cfg, "end_date": (sandbox.today() - dt.timedelta(days=5)).isoformat()})
    assert len(run.records("cmp_report")) == len(truth["cmp_report"]) == 5 * 24
    assert (
        run.last_state["bookmarks"]["cmp_report"]["replication_key_value"]
        == (sandbox.today() - dt.timedelta(days=5)).isoformat()
    )
    assert SECRET not in run.stdout + run.stderr


def test_retry_after_holds_every_worker_and_the_records_stay_exact(sandbox):
    # The first day is refused; the other three workers have its next days to fetch (up to 2 x 4 days
    # ahead of the day being emitted): without the client-wide pause the last of them would go out one
    # latency after the 429, inside the Retry-After.
    latency, retry_after = 0.5, 1.5
    sandbox.latency = latency
    cfg = config(sandbox, days_back=8, max_concurrency=4)
    day = (sandbox.today() - dt.timedelta(days=8)).isoformat()
    sandbox.faults.add("429", vendor="consentmanager", path=f"type=1&from={day}", retry_after=retry_after, times=1)
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = raw_rows(sandbox, cfg)
    assert dict(run.counts()) == {stream: len(rows) for stream, rows in truth.items() if rows}

    asked = sorted((r for r in sandbox.requests if r.vendor == "consentmanager"), key=lambda r: r.received_at)
    limited = [r for r in asked if r.query.get("type") == ["1"] and r.query["from"] == [day]]
    assert [r.status for r in limited] == [429, 200]
    refused_at = limited[0].received_at + latency  # when the tap had the 429 in hand
    assert limited[1].received_at - refused_at >= retry_after - 0.05
    # the whole client paused: no request at all went out inside the Retry-After (those sent as the 429
    # came in arrive just after it; the margins absorb a busy machine's scheduling)
    inside = [r for r in asked if refused_at + 0.25 < r.received_at < refused_at + retry_after - 0.1]
    assert inside == []


def test_max_requests_per_second_paces_the_workers_together(sandbox):
    cfg = config(sandbox, days_back=9, max_concurrency=4, max_requests_per_second=20)
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 0, run.stderr[-2000:]
    asked = sorted(r.received_at for r in sandbox.requests if r.vendor == "consentmanager")
    assert len(asked) == 12 + 4 * 10 + 7
    # the limiter hands out one slot each 1/20 s, whatever the number of workers
    assert asked[-1] - asked[0] >= (len(asked) - 1) / 20 - 0.05
    assert dict(run.counts()) == {stream: len(rows) for stream, rows in raw_rows(sandbox, cfg).items() if rows}


def test_a_run_killed_while_days_are_fetched_ahead_resumes_losing_nothing(sandbox, tmp_path):
    """Killed (SIGKILL) three times mid-window with four days in flight: every record is loaded, and a
    record is loaded twice only on the day its run was emitting or the last day it had committed
    (a day bookmark is re-read from that day on)."""
    profile = TAPS["consentmanager"]
    sandbox.size, sandbox.latency = 2, 0.02
    try:
        cfg = config(sandbox, days_back=12, lookback_days=0, max_concurrency=4)
        whole = attempt(profile, cfg, None, tmp_path / "whole", None)
        assert whole.returncode == 0, whole.stderr[-2000:]
        records = sum(m["type"] == "RECORD" for m in whole.messages)
        rng = random.Random("consentmanager-concurrent-kill")
        points = [rng.randint(records // 10, records // 4) for _ in range(3)]
        attempts = resume_until_done(profile, cfg, tmp_path, points)
        killed = [run for run in attempts if run.returncode == -signal.SIGKILL]
        assert len(killed) == 3, f"only {len(killed)} of the kills landed mid-sync"
        assert_nothing_lost_and_duplicates_only_where_re_read(sandbox, profile, cfg, attempts)
        assert_duplicates_only_in_the_open_day(attempts)
    finally:
        sandbox.size = 1


def keyed_records(run):
    keys = {m["stream"]: m.get("key_properties") or [] for m in run.messages if m["type"] == "SCHEMA"}
    for m in run.messages:
        if m["type"] == "RECORD":
            yield m, key_of(m["record"], keys[m["stream"]])


def assert_duplicates_only_in_the_open_day(attempts) -> None:
    """A report's record loaded again by a resumed run is of the bookmark day it resumed from, or the
    day after it (the day the killed run was emitting): never an older day, never two open days."""
    seen: set[tuple] = set()
    state: dict | None = None  # the state each run resumed from, as resume_until_done hands it on
    for run in attempts:
        bookmarks = (state or {}).get("bookmarks") or {}
        state = run.last_state or state
        for message, key in keyed_records(run):
            stream, record = message["stream"], message["record"]
            identity = (stream, key)
            if identity in seen and stream in bookmarks and "replication_key_value" in bookmarks[stream]:
                resumed_from = dt.date.fromisoformat(bookmarks[stream]["replication_key_value"][:10])
                field = "changedate" if stream == "changelog" else "date"
                day = dt.date.fromisoformat(str(record[field])[:10])
                assert day in (resumed_from, resumed_from + dt.timedelta(days=1)), (stream, key, day, resumed_from)
            seen.add(identity)


# -- the bound on days fetched ahead (no server needed) ---------------------------------------------


def test_a_worker_waits_until_its_day_is_within_the_limit_of_the_day_emitted():
    ahead = DaysAhead(limit=2)
    assert ahead.wait_for(0) and ahead.wait_for(1)
    released = []
    worker = threading.Thread(target=lambda: released.append(ahead.wait_for(3)))
    worker.start()
    time.sleep(0.1)
    ahead.emitting(1)  # day 3 is two past day 1: still waits
    time.sleep(0.1)
    assert released == []
    ahead.emitting(2)
    worker.join(2)
    assert released == [True]


def test_a_closed_window_releases_its_waiting_workers_with_nothing_to_fetch():
    ahead = DaysAhead(limit=1)
    released = []
    worker = threading.Thread(target=lambda: released.append(ahead.wait_for(5)))
    worker.start()
    time.sleep(0.1)
    ahead.close()
    worker.join(2)
    assert released == [False]


def test_waiting_workers_give_up_once_the_pool_is_closed_by_someone_else():
    """The tap closes its prefetch pools after a sync or an abandoned read (an Airbyte check): a worker
    waiting for its day must not hold the pool's shutdown."""
    ahead, pool_closed = DaysAhead(limit=1), threading.Event()
    released = []
    worker = threading.Thread(target=lambda: released.append(ahead.wait_for(5)))
    worker.start()
    ahead.close_with(pool_closed)
    time.sleep(0.1)
    assert released == []
    pool_closed.set()
    worker.join(2)
    assert released == [False]
