"""One failing part never sinks the rest (tapkit.isolation): in every tap, one partition (a Gravito domain,
a Lytics audience, a Claravine dataset, a Voyado customer key) or one whole stream (a consentmanager report)
answers every try with HTTP 500, or with a body that cannot be read. The part is named in one line and
skipped; every other part syncs exactly (the simulator's ground truth) with its final STATE; the failed
part's state is the one the run started from; the run exits 1 and its last line lists the failed part."""

from __future__ import annotations

import pytest

from tests.reliability.runner import assert_clear_last_line, distinct_keys, sync
from tests.reliability.taps import TAPS

VENDORS = [vendor for vendor, profile in TAPS.items() if profile.failing_part is not None]
SCENARIO = "one partition always fails"
#: the fault on every try of the part's requests -> what the last line says of it
FAULTS = {"500": "failed after 3 attempts: HTTP 500", "html": "HTTP 200"}
SKIPPED = "failed and is skipped, the other parts go on"


def test_every_tap_has_a_failing_part() -> None:
    assert set(VENDORS) == set(TAPS)


def failing_run(sandbox, profile, config: dict, fault: str, state: dict | None = None):
    part = profile.failing_part
    sandbox.faults.add(fault, vendor=profile.vendor, path=part.path(sandbox, state), times=-1, retry_after=0)
    return sync(profile, config, state=state)


def assert_failed_alone(run, profile, sandbox, fault: str) -> None:
    part = profile.failing_part
    named = part.named(sandbox)
    line = assert_clear_last_line(run, profile, "1 part(s) failed, every other part synced: ", named, FAULTS[fault])
    assert all(stream in line for stream in part.streams), line
    # one line when it failed, naming it and the cause
    [skipped] = [line for line in run.stderr.splitlines() if SKIPPED in line]
    assert named in skipped or f"stream {named}" in skipped, skipped
    assert FAULTS[fault] in skipped
    assert run.last_state is not None, "the run ends with a final STATE"
    # a stream with a failed part never announces its snapshot complete (a loader would delete that part's rows)
    for stream in part.streams:
        announced = [m for m in run.messages if m["type"] == "ACTIVATE_VERSION" and m["stream"] == stream]
        assert len(announced) <= 1, f"{stream}: a closing ACTIVATE_VERSION after a failed part"


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("scenario", [SCENARIO])
@pytest.mark.parametrize("vendor", VENDORS)
def test_one_failing_part_is_skipped_and_every_other_part_syncs_exactly(sandbox, tmp_path, vendor, scenario, fault):
    del scenario  # it only tags the matrix cell (tests/reliability/conftest.py)
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path)
    run = failing_run(sandbox, profile, config, fault)
    assert_failed_alone(run, profile, sandbox, fault)

    healthy = {stream: count for stream, count in profile.failing_part.healthy_rows(sandbox, config).items() if count}
    assert distinct_keys(run) == healthy
    # the failed part saved nothing (a first run: no bookmark, at most an empty list), the others their bookmarks
    saved = profile.failing_part.saved_state(run.last_state, sandbox)
    assert not saved or not any(saved.values()), saved
    stream, field = profile.state_bookmark
    assert field in str(run.last_state["bookmarks"][stream])


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("scenario", [SCENARIO])
@pytest.mark.parametrize("vendor", VENDORS)
def test_the_failed_part_keeps_the_state_the_run_started_from(sandbox, tmp_path, vendor, scenario, fault):
    del scenario  # it only tags the matrix cell (tests/reliability/conftest.py)
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path)
    first = sync(profile, config)
    assert first.returncode == 0, first.stderr[-2000:]
    saved = profile.failing_part.saved_state(first.last_state, sandbox)
    assert saved, "the clean first run saved the part's state"

    run = failing_run(sandbox, profile, config, fault, state=first.last_state)
    assert_failed_alone(run, profile, sandbox, fault)
    assert profile.failing_part.saved_state(run.last_state, sandbox) == saved
