"""SIGTERM and SIGINT, as orchestrators and people send them: the tap stops within 5 seconds, its last
message is a STATE that covers only what it emitted, it exits 143 (SIGTERM) or 130 (SIGINT) with one
line saying so, and a run resumed from that STATE loses nothing."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
import typing as t
from pathlib import Path

import pytest

from tap_voyado.exports import CRASH_AFTER_SAVE_ENV
from tests.reliability.taps import TAPS, TapProfile
from tests.reliability.test_kill_resume import (
    KILLS,
    Attempt,
    assert_nothing_lost_and_duplicates_only_where_re_read,
    attempt,
    command,
    resume_until_done,
    whole_sync_then_config,
)

STOP_SECONDS = 5  # the bound from the signal to the end of the process
#: the signals of the three stops of each run: orchestrators send SIGTERM, a person SIGINT
STOP_SIGNALS: list[int] = [signal.SIGTERM, signal.SIGINT, signal.SIGTERM]


@pytest.fixture(autouse=True)
def _sandbox_size_restored(sandbox):
    """These tests grow the sandbox; `Sandbox.reset` does not shrink it back for the next test."""
    size = sandbox.size
    yield
    sandbox.size = size


def stop_points(vendor: str, messages: int) -> list[int]:
    rng = random.Random(f"stop-{vendor}")  # seeded: the same points on every run
    return [rng.randint(1, max(1, messages // 3)) for _ in range(KILLS)]


def sigterm_once_stalled(
    profile: TapProfile, config: dict, scratch: Path, stall: t.Any, poll: float, settle: float
) -> Attempt:
    """Run the tap, wait until the stalled request has been served (`stall.times` reaches 0), `settle`
    seconds more, then SIGTERM it; its output is read to the end and the time to its exit measured."""
    with open(scratch / "stderr", "w") as stderr:
        proc = subprocess.Popen(command(profile, config, None, scratch / "run"), stdout=subprocess.PIPE, stderr=stderr)
        deadline = time.monotonic() + 60
        while stall.times and time.monotonic() < deadline:
            time.sleep(poll)
        assert stall.times == 0, "the tap never sent the request that stalls"
        time.sleep(settle)
        proc.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        out = proc.stdout.read().decode()
        returncode = proc.wait(timeout=60)
    run = Attempt(returncode, stderr=(scratch / "stderr").read_text(), signal=signal.SIGTERM)
    run.seconds_to_exit = time.monotonic() - signalled_at
    run.messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return run


def assert_stopped_cleanly(profile: TapProfile, run: Attempt) -> None:
    name = signal.Signals(run.signal).name
    assert run.returncode == 128 + run.signal, run.stderr[-2000:]
    assert run.seconds_to_exit is not None and run.seconds_to_exit < STOP_SECONDS, run.seconds_to_exit
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[-1] == f"{profile.name}: stopped by {name}; state covers data emitted so far", lines[-3:]
    assert run.messages and run.messages[-1]["type"] == "STATE", "a message follows the last STATE"
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["SIGTERM and resume"])
def test_stopped_and_resumed_sync_loses_nothing(sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    config, messages = whole_sync_then_config(sandbox, profile, tmp_path, "stopped")
    attempts = resume_until_done(profile, config, tmp_path, stop_points(vendor, messages), STOP_SIGNALS)
    stopped = [run for run in attempts if run.signal is not None]
    assert len(stopped) == KILLS, f"only {len(stopped)} of the stops landed mid-sync"
    for run in stopped:
        assert_stopped_cleanly(profile, run)
    assert_nothing_lost_and_duplicates_only_where_re_read(sandbox, profile, config, attempts)


@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["SIGTERM in a slow request"])
def test_sigterm_during_a_slow_request_stops_within_seconds(sandbox, tmp_path, vendor, scenario):
    """A request that takes 60 s (a proxy that stalls) does not hold the stop: the tap ends within 5 s."""
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path, request_timeout=120, **profile.long_sync_settings)
    stall = sandbox.faults.add("slow", vendor=vendor, path=profile.records_path, delay=60)
    run = sigterm_once_stalled(profile, config, tmp_path, stall, poll=0.05, settle=0.3)
    assert_stopped_cleanly(profile, run)


@pytest.mark.parametrize("vendor", ["voyado"])
@pytest.mark.parametrize("scenario", ["SIGTERM after download"])
def test_voyado_sigterm_between_download_and_emit_loses_nothing(sandbox, tmp_path, vendor, scenario):
    """The signal arrives right after an export is saved and before its lines are emitted: the zip
    stays on disk, the job stays `done` in the last STATE, and the resumed run emits every line."""
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path, **profile.long_sync_settings)
    stopped = attempt(profile, config, None, tmp_path / "stopped", None, env={CRASH_AFTER_SAVE_ENV: "sigterm"})
    stopped.signal, stopped.seconds_to_exit = signal.SIGTERM, 0.0
    assert_stopped_cleanly(profile, stopped)
    assert not any(m["type"] == "RECORD" and m["stream"] == "customer_data" for m in stopped.messages)
    jobs = stopped.last_state["bookmarks"]["export_jobs"]["jobs"]
    assert sorted(job["status"] for job in jobs.values()).count("done") == 1
    resumed = attempt(profile, config, stopped.last_state, tmp_path / "resumed", None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_nothing_lost_and_duplicates_only_where_re_read(sandbox, profile, config, [stopped, resumed])


@pytest.mark.parametrize("vendor", ["voyado"])
@pytest.mark.parametrize("scenario", ["SIGTERM during download"])
@pytest.mark.parametrize(
    "fault, delay",
    [("stall-body", 2.0), ("slow", 1.0)],
    ids=["half the body sent", "answer not begun yet"],
)
def test_voyado_sigterm_during_the_download_waits_for_the_export_and_loses_nothing(
    sandbox, tmp_path, vendor, scenario, fault, delay
):
    """The signal arrives while an export is being downloaded (half its body sent, or asked for but not yet
    answered: the vendor deletes it as it serves it): the tap finishes saving it, then stops with the job
    `done` in its last STATE; the resumed run emits every line."""
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path, **profile.long_sync_settings)
    stall = sandbox.faults.add(fault, vendor=vendor, path="export-customer-job-result", delay=delay, times=1)
    # stall-body: half the body sent, the rest 2 s later; slow: the answer begins 0.7 s after the signal
    stopped = sigterm_once_stalled(profile, config, tmp_path, stall, poll=0.02, settle=0.3)
    assert_stopped_cleanly(profile, stopped)
    jobs = stopped.messages[-1]["value"]["bookmarks"]["export_jobs"]["jobs"]
    assert [job["status"] for job in jobs.values()].count("done") == 1, jobs
    resumed = attempt(profile, config, stopped.messages[-1]["value"], tmp_path / "resumed", None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_nothing_lost_and_duplicates_only_where_re_read(sandbox, profile, config, [stopped, resumed])
