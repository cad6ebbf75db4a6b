"""Property: every STATE a tap writes, in any run, is a state the tap itself accepts.

Hypothesis generates runs of each tap in this process (fast: no start-up per run) against the
sandbox: simulator variants, a fault (once or on every try) on the records or the partition requests,
a subset of the partitions in any order, and a second run that starts from the first run's final
state under other faults. Every STATE message of both runs must pass the tap's own state check
(`tapkit.state.checked_state` with the tap's `state_layout`, what `--state` goes through before any
request), and the second run must not refuse the first one's state. A run may fail (the fault says
so); its states must be acceptable all the same.

TAPKIT_STATE_EXAMPLES sets how many runs per tap are generated (default 10).
"""

from __future__ import annotations

import copy
import os
import typing as t
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from singer_sdk.singerlib.messages import StateMessage
from typing_extensions import override

from tapkit.airbyte import MessageSink
from tapkit.state import StateError, checked_state
from tapkit.tap import VendorTap
from tests.reliability.taps import TAPS, TapProfile

EXAMPLES = int(os.environ.get("TAPKIT_STATE_EXAMPLES", "10"))
#: faults that end quickly (no waits for slow answers): each once, or on every try
FAULTS = ("500", "503", "reset", "truncate", "html", "empty", "break-body")


class StateCollector(MessageSink):
    """The Singer STATE values a run writes, in order (records are dropped)."""

    def __init__(self) -> None:
        self.states: list[dict] = []

    @override
    def write_message(self, message: t.Any) -> None:
        if isinstance(message, StateMessage):
            self.states.append(copy.deepcopy(dict(message.value)))


def run_in_process(tap_class: type, config: dict, state: dict | None) -> tuple[list[dict], BaseException | None]:
    """One sync in this process: the states it wrote, and what ended it if it failed."""
    collector = StateCollector()
    try:
        tap = tap_class(config=config, state=state, message_writer=collector)
        tap.sync_all()
    except StateError:
        raise  # the one failure no run may have: its input state refused
    except Exception as exc:  # a generated fault may end the run: its states still count
        return collector.states, exc
    return collector.states, None


@st.composite
def runs(draw: st.DrawFn, profile: TapProfile, variants: t.Sequence[str]) -> dict:
    """One generated run: variants, a fault (or none) and where, the partitions and their order."""
    paths = [profile.records_path] + ([profile.partitions.request_path] if profile.partitions else [])
    run: dict[str, t.Any] = {
        "variants": draw(st.lists(st.sampled_from(sorted(variants)), unique=True, max_size=2)) if variants else [],
        "fault": draw(st.none() | st.tuples(st.sampled_from(FAULTS), st.sampled_from(paths), st.sampled_from([1, -1]))),
        "overrides": {},
    }
    if profile.partitions is not None:
        values = list(profile.test_settings(Path("/nonexistent")).get(profile.partitions.setting) or [])
        if values:
            chosen = draw(st.lists(st.sampled_from(values), unique=True, min_size=1, max_size=len(values)))
            run["overrides"] = {profile.partitions.setting: chosen}
    return run


def apply(sandbox: t.Any, vendor: str, run: dict) -> None:
    sandbox.reset()
    sandbox.set_variants(vendor, *run["variants"])
    if run["fault"] is not None:
        kind, path, times = run["fault"]
        sandbox.faults.add(kind, vendor=vendor, path=path, times=times)


def assert_accepted(profile: TapProfile, tap_class: type[VendorTap], states: list[dict], where: str) -> None:
    for number, state in enumerate(states, start=1):
        try:
            checked_state(state, tap_class.state_layout, tap_name=profile.name)
        except StateError as exc:
            pytest.fail(f"{profile.name} refused STATE {number} of {len(states)} it wrote ({where}): {exc}")


@pytest.mark.parametrize("vendor", list(TAPS))
def test_every_state_a_tap_writes_is_accepted_by_it(sandbox, tmp_path_factory, vendor):
    profile = TAPS[vendor]
    tap_class = profile.load_tap_class()
    assert tap_class.state_layout is not None
    variants = [name for name in sandbox.app(vendor).VARIANTS if name != "credentials"]
    seen: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same runs every time: a failure is reproducible
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(first=runs(profile, variants), second=runs(profile, variants))
    def one_example(first: dict, second: dict) -> None:
        scratch = tmp_path_factory.mktemp(f"{vendor}-run")
        config = profile.config(sandbox, scratch, **first["overrides"])
        apply(sandbox, vendor, first)
        states, _ = run_in_process(tap_class, config, None)
        assert_accepted(profile, tap_class, states, f"first run {first}")
        final = states[-1] if states else None

        config = profile.config(sandbox, scratch, **second["overrides"])
        apply(sandbox, vendor, second)
        try:
            next_states, _ = run_in_process(tap_class, config, copy.deepcopy(final))
        except StateError as exc:
            pytest.fail(f"{profile.name} refused its own final state (first run {first}): {exc}")
        assert_accepted(profile, tap_class, next_states, f"second run {second} after {first}")
        seen.append(len(states) + len(next_states))

    try:
        one_example()
    finally:
        sandbox.reset()
    assert seen and sum(seen) > 0  # the runs ran and wrote states
