"""The main job's one `meltano run` for every step (scripts/main_job_runs.py): a failing tap stops alone.

Three taps in one run, the middle one pointed at a port where nothing listens: the first tap's block
completed before it and keeps its load, the third runs in a second `meltano run` and loads exactly its
ground truth, and each step gets its own part of the log.
"""

from __future__ import annotations

import socket
import sys

import pytest

from tests.pipelines.meltano_project import MELTANO, ROOT, MeltanoRun, project_lock
from tests.pipelines.test_meltano_pipelines import duckdb_counts, expected_rows

sys.path.insert(0, str(ROOT / "scripts"))
import main_job_runs

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # released again: nothing listens there


def test_a_failing_tap_stops_alone_and_the_steps_after_it_still_load(meltano: MeltanoRun, sandbox):
    meltano.extra_env.update(
        {
            "TAP_LYTICS_API_URL": f"http://127.0.0.1:{closed_port()}/lytics",
            "TAP_LYTICS_RETRY_MAX_ATTEMPTS": "1",
        }
    )
    taps = ["tap-gravito", "tap-lytics", "tap-voyado"]
    with project_lock():
        steps = list(main_job_runs.one_process(MELTANO, ROOT, taps, meltano.env()))

    assert [(step.name, step.returncode == 0) for step in steps] == [
        ("tap-gravito", True),
        ("tap-lytics", False),
        ("tap-voyado", True),
    ]
    # each step's log holds its own tap's lines and no other tap's
    for step in steps:
        others = [tap for tap in taps if tap != step.name]
        assert f" {step.name} " in step.log
        assert not any(f" {tap} " in step.log for tap in others), step.name
    assert "127.0.0.1" in steps[1].log  # the failure's cause is in the failed step's log
    for tap in ("tap-gravito", "tap-voyado"):
        assert duckdb_counts(meltano.duckdb_path, tap.replace("-", "_")) == expected_rows(sandbox, tap)
    assert duckdb_counts(meltano.duckdb_path, "tap_lytics") == {}
