"""SIGTERM and SIGINT, as orchestrators and people send them: the tap stops within 5 seconds, its last
message is a STATE that covers only what it emitted, it exits 143 (SIGTERM) or 130 (SIGINT) with one
line saying so, and a run resumed from that STATE loses nothing."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time

import pytest
from tap_voyado.exports import CRASH_AFTER_SAVE_ENV

from tests.reliability.taps import TAPS, TapProfile
from tests.reliability.test_kill_resume import (
    KILLS,
    LATENCY,
    SIZE,
    VOYADO_KEYS,
    Attempt,
    assert_nothing_lost_and_duplicates_only_where_re_read,
    attempt,
    command,
    resume_until_done,
)

STOP_SECONDS = 5  # the bound from the signal to the end of the process
#: the signals of the three stops of each run: orchestrators send SIGTERM, a person SIGINT
STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGTERM]


@pytest.fixture(autouse=True)
def _sandbox_size_restored(sandbox):
    """These tests grow the sandbox; `Sandbox.reset` does not shrink it back for the next test."""
    size = sandbox.size
    yield
    sandbox.size = size


def stop_points(vendor: str, messages: int) -> list[int]:
    rng = random.Random(f"stop-{vendor}")  # seeded: the same points on every run
    return [rng.randint(1, max(1, messages // 3)) for _ in range(KILLS)]


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
    sandbox.size, sandbox.latency = SIZE, LATENCY
    overrides = {**profile.no_lookback, **(VOYADO_KEYS if vendor == "voyado" else {})}
    config = profile.config(sandbox, tmp_path, **overrides)
    whole = attempt(profile, config, None, tmp_path / "whole", None)
    assert whole.returncode == 0, whole.stderr[-2000:]
    if vendor == "voyado":  # its vendor deletes a downloaded export: start over with fresh jobs
        sandbox.reset()
        sandbox.size, sandbox.latency = SIZE, LATENCY
        config = profile.config(sandbox, tmp_path / "stopped", **overrides)

    attempts = resume_until_done(profile, config, tmp_path, stop_points(vendor, len(whole.messages)), STOP_SIGNALS)
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
    config = profile.config(sandbox, tmp_path, request_timeout=120, **(VOYADO_KEYS if vendor == "voyado" else {}))
    stall = sandbox.faults.add("slow", vendor=vendor, path=profile.records_path, delay=60)
    with open(tmp_path / "stderr", "w") as stderr:
        proc = subprocess.Popen(command(profile, config, None, tmp_path / "run"), stdout=subprocess.PIPE, stderr=stderr)
        deadline = time.monotonic() + 60
        while stall.times and time.monotonic() < deadline:  # until the stalled request has arrived
            time.sleep(0.05)
        assert stall.times == 0, "the tap never sent the request that stalls"
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        out = proc.stdout.read().decode()
        returncode = proc.wait(timeout=60)
    run = Attempt(returncode, stderr=(tmp_path / "stderr").read_text(), signal=signal.SIGTERM)
    run.seconds_to_exit = time.monotonic() - signalled_at
    run.messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert_stopped_cleanly(profile, run)


@pytest.mark.parametrize("vendor", ["voyado"])
@pytest.mark.parametrize("scenario", ["SIGTERM after download"])
def test_voyado_sigterm_between_download_and_emit_loses_nothing(sandbox, tmp_path, vendor, scenario):
    """The signal arrives right after an export is saved and before its lines are emitted: the zip
    stays on disk, the job stays `done` in the last STATE, and the resumed run emits every line."""
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path, **VOYADO_KEYS)
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
    config = profile.config(sandbox, tmp_path, **VOYADO_KEYS)
    stall = sandbox.faults.add(fault, vendor=vendor, path="export-customer-job-result", delay=delay, times=1)
    with open(tmp_path / "stderr", "w") as stderr:
        proc = subprocess.Popen(command(profile, config, None, tmp_path / "run"), stdout=subprocess.PIPE, stderr=stderr)
        deadline = time.monotonic() + 60
        while stall.times and time.monotonic() < deadline:  # until the download is being served
            time.sleep(0.02)
        assert stall.times == 0, "the tap never asked for an export"
        time.sleep(0.3)  # stall-body: half the body sent, the rest 2 s later; slow: the answer begins 0.7 s later
        proc.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        out = proc.stdout.read().decode()
        returncode = proc.wait(timeout=60)
    stopped = Attempt(returncode, stderr=(tmp_path / "stderr").read_text(), signal=signal.SIGTERM)
    stopped.seconds_to_exit = time.monotonic() - signalled_at
    stopped.messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert_stopped_cleanly(profile, stopped)
    jobs = stopped.messages[-1]["value"]["bookmarks"]["export_jobs"]["jobs"]
    assert [job["status"] for job in jobs.values()].count("done") == 1, jobs
    resumed = attempt(profile, config, stopped.messages[-1]["value"], tmp_path / "resumed", None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_nothing_lost_and_duplicates_only_where_re_read(sandbox, profile, config, [stopped, resumed])
