"""A tap always accepts the state it wrote itself: the final state of a run whose partitions were
empty, full, stopped (SIGKILL mid-run) or failed (a partition answering 500 on every try) is taken
by the next run without complaint, and that run completes.

The failed case holds however a failing partition ends the run (the whole run failing, or the other
partitions going on): whatever final STATE was written is what the next run must accept.
"""

from __future__ import annotations

import copy
import signal

import pytest

from tests.reliability.runner import sync
from tests.reliability.taps import TAPS, TapProfile
from tests.reliability.test_kill_resume import attempt
from tests.support.singer import TapRun

EMPTY_PARTITION = [
    vendor for vendor, tap in TAPS.items() if tap.partitions is not None and tap.partitions.empty_variant
]


def assert_accepted(profile: TapProfile, config: dict, state: dict) -> TapRun:
    """The next run, given `state`, takes it (singer-sdk echoes the state it loaded first) and completes."""
    run = sync(profile, config, state=state)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "invalid state" not in run.stderr
    assert "Traceback" not in run.stderr
    loaded = next(m["value"] for m in run.messages if m["type"] == "STATE")
    for stream, bookmark in state.get("bookmarks", {}).items():
        if bookmark.get("partitions") or bookmark.get("replication_key_value"):
            assert stream in loaded["bookmarks"], (stream, loaded)
    return run


@pytest.mark.parametrize("scenario", ["state: the tap's own, bare or wrapped"])
@pytest.mark.parametrize("vendor", list(TAPS))
def test_the_state_of_a_stopped_run_is_accepted(sandbox, tmp_path, vendor, scenario):
    """SIGKILL after the second STATE (mid-run): the last STATE it wrote is taken by the next run."""
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path, **profile.long_sync_settings)
    first = sync(profile, config)
    assert first.returncode == 0, first.stderr[-2000:]
    states = [number for number, m in enumerate(first.messages, start=1) if m["type"] == "STATE"]
    assert len(states) >= 2, f"{vendor}: a sync writes fewer than two STATE messages"
    sandbox.reset()
    killed = attempt(profile, config, None, tmp_path / "killed", kill_after=states[1])
    assert killed.returncode in (0, -signal.SIGKILL), killed.stderr[-2000:]
    state = killed.last_state
    assert state is not None
    assert_accepted(profile, config, state)


@pytest.mark.parametrize("scenario", ["state: the tap's own, bare or wrapped"])
@pytest.mark.parametrize("vendor", list(TAPS))
def test_the_state_of_a_failed_run_is_accepted(sandbox, tmp_path, vendor, scenario):
    """The records request answering 500 on every try: whatever final STATE was written is taken next."""
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path)
    path = profile.partitions.request_path if profile.partitions is not None else profile.records_path
    sandbox.faults.add("500", vendor=vendor, path=path, times=-1)
    failed = sync(profile, config)
    assert failed.returncode != 0 or failed.last_state is not None, failed.stderr[-2000:]
    sandbox.faults.clear()
    state = failed.last_state
    if state is None:  # the run failed before its first STATE: nothing to take, a fresh start
        state = {}
    assert_accepted(profile, config, copy.deepcopy(state))


@pytest.mark.parametrize("scenario", ["state: the tap's own, bare or wrapped"])
@pytest.mark.parametrize("vendor", EMPTY_PARTITION)
def test_the_state_of_a_run_with_an_empty_partition_is_accepted_twice(sandbox, tmp_path, vendor, scenario):
    """A partition serving nothing, then (the next run) the same partition again, then its data back."""
    profile = TAPS[vendor]
    assert profile.partitions is not None
    config = profile.config(sandbox, tmp_path)
    sandbox.set_variants(vendor, profile.partitions.empty_variant)
    empty = sync(profile, config)
    assert empty.returncode == 0, empty.stderr[-2000:]
    again = assert_accepted(profile, config, empty.last_state)
    sandbox.set_variants(vendor)
    assert_accepted(profile, config, again.last_state)
