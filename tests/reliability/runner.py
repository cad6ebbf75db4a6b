"""Run a tap for the matrix and judge its output: no secret shown, exact ground truth, one clear last line."""

from __future__ import annotations

import typing as t
from collections import Counter
from pathlib import Path

from tests.reliability.taps import SENTINEL, TapProfile
from tests.support.singer import TapRun, run_tap

_clean_counts: dict[str, Counter] = {}


def sync(profile: TapProfile, config: dict, **options: t.Any) -> TapRun:
    run = run_tap(profile.name, config, timeout=120, **options)
    assert_no_secret(run.stdout, run.stderr)
    return run


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SENTINEL not in text, "a secret setting was printed"


def meltano_traces(meltano: t.Any, job: str) -> dict[str, str]:
    """Where a `meltano run` (tests/pipelines/meltano_project.py: MeltanoRun) leaves text a secret must not
    be in: its log, `meltano state get <job>` and the system database that keeps the state. The state
    must hold bookmarks (the run really saved one)."""
    state = meltano.command("state", "get", job)
    assert state.returncode == 0, state.stderr[-2000:]
    assert '"bookmarks"' in state.stdout
    return {
        "the log": (meltano.workdir / "meltano.log").read_text(),  # `meltano run` logs to stderr: MeltanoRun keeps it
        "the state": state.stdout + state.stderr,
        "meltano.db": (meltano.workdir / "meltano.db").read_bytes().decode("utf-8", "replace"),
    }


def primary_keys(run: TapRun) -> dict[str, list[str]]:
    return {stream: schema.get("key_properties") or [] for stream, schema in run.schemas().items()}


def key_of(record: dict, key: list[str]) -> tuple:
    return tuple(repr(record.get(name)) for name in key)


def distinct_keys(run: TapRun) -> dict[str, int]:
    keys = primary_keys(run)
    return {stream: len({key_of(r, keys[stream]) for r in run.records(stream)}) for stream in run.counts()}


def clean_counts(profile: TapProfile, sandbox: t.Any, scratch: Path) -> Counter:
    """Records per stream of a fault-free first sync (once per test process), checked against ground truth."""
    if profile.vendor not in _clean_counts:
        config = profile.config(sandbox, scratch / "clean")
        run = sync(profile, config)
        assert run.returncode == 0, run.stderr[-2000:]
        assert distinct_keys(run) == profile.expected_rows(sandbox, config)
        _clean_counts[profile.vendor] = run.counts()
        sandbox.reset()
    return _clean_counts[profile.vendor]


def assert_exact_ground_truth(run: TapRun, profile: TapProfile, sandbox: t.Any, config: dict, clean: Counter) -> None:
    assert run.returncode == 0, run.stderr[-2000:]
    assert distinct_keys(run) == profile.expected_rows(sandbox, config)
    assert run.counts() == clean


def assert_clear_last_line(run: TapRun, profile: TapProfile, *fragments: str) -> str:
    """Exit 1, and the last stderr line is the tap's one-line error holding every fragment."""
    line = run.last_stderr_line
    assert run.returncode == 1, run.stderr[-2000:]
    assert line.startswith(f"{profile.name}: error: "), line
    for fragment in fragments:
        assert fragment in line, line
    return line
