"""Kill a sync with SIGKILL at seeded random points, resume each time from the last STATE emitted:
the union of what was loaded holds every ground-truth record, and a record is loaded twice only
where the resumed run had to read it again."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tap_voyado.exports import CRASH_AFTER_SAVE_ENV, CRASH_EXIT_CODE
from tests.reliability.runner import assert_no_secret, key_of
from tests.reliability.taps import TAPS, TapProfile
from tests.support.singer import tap_executable

KILLS = 3
SIZE = 4  # sandbox size: output well past a pipe's buffer, so a kill lands mid-sync
LATENCY = 0.02  # seconds per request: the tap is still fetching when the kill comes


@pytest.fixture(autouse=True)
def _sandbox_size_restored(sandbox):
    """These tests grow the sandbox; `Sandbox.reset` does not shrink it back for the next test."""
    size = sandbox.size
    yield
    sandbox.size = size


@dataclass
class Attempt:
    returncode: int
    messages: list[dict] = field(default_factory=list)
    stderr: str = ""
    signal: int | None = None  # the signal sent, if one was
    seconds_to_exit: float | None = None  # from the signal to the end of the process

    @property
    def last_state(self) -> dict | None:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else None

    def committed_upto(self) -> int:
        """Index of the last STATE message: records before it are committed by a target."""
        return max((i for i, m in enumerate(self.messages) if m["type"] == "STATE"), default=-1)


def command(profile: TapProfile, config: dict, state: dict | None, scratch: Path) -> list[str]:
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "config.json").write_text(json.dumps(config))
    args = [tap_executable(profile.name), "--config", str(scratch / "config.json")]
    if state is not None:
        (scratch / "state.json").write_text(json.dumps(state))
        args += ["--state", str(scratch / "state.json")]
    return args


def attempt(
    profile: TapProfile,
    config: dict,
    state: dict | None,
    scratch: Path,
    kill_after: int | None,
    env=None,
    sig: int = signal.SIGKILL,
) -> Attempt:
    """One run of the tap, sent `sig` once `kill_after` messages were read (None: to the end).

    After SIGKILL nothing more is read; after a signal the tap handles (SIGTERM, SIGINT) its output is
    read to the end, and the time from the signal to the exit is measured."""
    result = Attempt(returncode=0)
    signalled_at = None
    with open(scratch.parent / f"{scratch.name}.stderr", "w") as stderr:
        proc = subprocess.Popen(
            command(profile, config, state, scratch),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, **(env or {})},
        )
        with proc.stdout:
            for line in proc.stdout:
                assert_no_secret(line)
                if line.startswith("{"):
                    result.messages.append(json.loads(line))
                if signalled_at is None and kill_after is not None and len(result.messages) >= kill_after:
                    proc.send_signal(sig)
                    signalled_at = time.monotonic()
                    result.signal = sig
                    if sig == signal.SIGKILL:
                        break
        result.returncode = proc.wait(timeout=120)
        if signalled_at is not None:
            result.seconds_to_exit = time.monotonic() - signalled_at
    result.stderr = (scratch.parent / f"{scratch.name}.stderr").read_text()
    assert_no_secret(result.stderr)
    return result


def resume_until_done(
    profile: TapProfile, config: dict, scratch: Path, kill_points: list[int], signals: list[int] | None = None
) -> list[Attempt]:
    """Kill at each point in turn, each run resuming from the last STATE emitted so far, then run to the end."""
    attempts: list[Attempt] = []
    state = None
    for number, kill_after in enumerate(kill_points):
        sig = signals[number] if signals else signal.SIGKILL
        run = attempt(profile, config, state, scratch / f"run{number}", kill_after, sig=sig)
        attempts.append(run)
        if run.returncode == 0 and run.seconds_to_exit is None:  # it finished before the kill point
            return attempts
        expected = -signal.SIGKILL if sig == signal.SIGKILL else 128 + sig
        assert run.returncode == expected, run.stderr[-2000:]
        state = run.last_state or state
    last = attempt(profile, config, state, scratch / "last", None)
    assert last.returncode == 0, last.stderr[-2000:]
    return [*attempts, last]


def schemas(attempts: list[Attempt]) -> dict[str, dict]:
    return {m["stream"]: m for run in attempts for m in run.messages if m["type"] == "SCHEMA"}


def bookmark_reaches(
    state: dict | None, stream: str, record: dict, replication_key: str | None, *, committed: bool
) -> bool:
    """Whether `state` holds a position past the record, so that a resumed run must not load it again.

    Positions: a replication key value (the day it names is re-read: day windows and singer's ">="
    re-read the bookmarked window), or a scan cursor ("next", tap-lytics) of the record's partition,
    which is past every record the run emitted before that state (`committed`).
    No position (a full-table stream, a finished snapshot scan, a stream not started): read again.
    """
    bookmark = ((state or {}).get("bookmarks") or {}).get(stream) or {}
    marks = [
        mark
        for mark in [bookmark, *bookmark.get("partitions", [])]
        if all(record.get(name) == value for name, value in (mark.get("context") or {}).items())
    ]
    for mark in marks:
        if mark.get("next") and committed:
            return True
        value = mark.get("replication_key_value")
        if (
            value is not None
            and replication_key
            and record.get(replication_key) is not None
            and str(record[replication_key])[:10] < str(value)[:10]
        ):
            return True
    return False


def assert_nothing_lost_and_duplicates_only_where_re_read(
    sandbox, profile: TapProfile, config: dict, attempts: list[Attempt]
):
    streams = schemas(attempts)
    keys = {name: m.get("key_properties") or [] for name, m in streams.items()}
    replication = {name: (m.get("bookmark_properties") or [None])[0] for name, m in streams.items()}

    loaded: dict[tuple, int] = {}  # (stream, key) -> the run that first loaded it
    committed = [
        {
            (m["stream"], key_of(m["record"], keys[m["stream"]]))
            for m in run.messages[: run.committed_upto()]
            if m["type"] == "RECORD"
        }
        for run in attempts
    ]
    for number, run in enumerate(attempts):
        for message in run.messages:
            if message["type"] != "RECORD":
                continue
            stream, record = message["stream"], message["record"]
            identity = (stream, key_of(record, keys[stream]))
            first = loaded.setdefault(identity, number)
            if first == number:
                continue
            # Loaded again: allowed only where the state this run started from had no position past it.
            previous = attempts[number - 1]
            covered = bookmark_reaches(
                previous.last_state, stream, record, replication[stream], committed=identity in committed[number - 1]
            )
            assert not covered, f"{stream} {identity[1]} was loaded again although the state said it was done"

    union: dict[str, int] = {}
    for stream, _ in loaded:
        union[stream] = union.get(stream, 0) + 1
    assert union == profile.expected_rows(sandbox, config)


def whole_sync_then_config(sandbox, profile: TapProfile, scratch: Path, fresh: str) -> tuple[dict, int]:
    """The setup of every stop-and-resume test: a large and slow sandbox, a config that re-reads nothing
    (and makes the sync long enough to stop in), one whole run to count its messages. Where the vendor
    serves a download once, the sandbox starts over and the stopped runs get a config of their own.
    Returns that config and the whole run's message count."""
    sandbox.size, sandbox.latency = SIZE, LATENCY
    overrides = {**profile.no_lookback, **profile.long_sync_settings}
    config = profile.config(sandbox, scratch, **overrides)
    whole = attempt(profile, config, None, scratch / "whole", None)
    assert whole.returncode == 0, whole.stderr[-2000:]
    if profile.served_once:  # its vendor deletes a downloaded export: start over with fresh jobs
        sandbox.reset()
        sandbox.size, sandbox.latency = SIZE, LATENCY
        config = profile.config(sandbox, scratch / fresh, **overrides)
    return config, len(whole.messages)


def kill_points(vendor: str, messages: int) -> list[int]:
    rng = random.Random(f"kill-{vendor}")  # seeded: the same points on every run
    return [rng.randint(1, max(1, messages // 3)) for _ in range(KILLS)]


@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["kill and resume"])
def test_killed_and_resumed_sync_loses_nothing(sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    config, messages = whole_sync_then_config(sandbox, profile, tmp_path, "killed")
    points = kill_points(vendor, messages)
    attempts = resume_until_done(profile, config, tmp_path, points)
    killed = [run for run in attempts if run.returncode == -signal.SIGKILL]
    assert len(killed) == KILLS, f"only {len(killed)} of the kills landed mid-sync"
    assert_nothing_lost_and_duplicates_only_where_re_read(sandbox, profile, config, attempts)


@pytest.mark.parametrize("vendor", ["voyado"])
@pytest.mark.parametrize("scenario", ["kill after download"])
def test_voyado_dying_right_after_a_download_loses_nothing(sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path, **profile.long_sync_settings)
    crashed = attempt(profile, config, None, tmp_path / "crashed", None, env={CRASH_AFTER_SAVE_ENV: "1"})
    assert crashed.returncode == CRASH_EXIT_CODE
    assert len(list(Path(config["download_dir"]).glob("*.zip"))) == 1  # downloaded; the vendor deleted it
    resumed = attempt(profile, config, crashed.last_state, tmp_path / "resumed", None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_nothing_lost_and_duplicates_only_where_re_read(sandbox, profile, config, [crashed, resumed])
