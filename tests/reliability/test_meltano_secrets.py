"""Meltano with sentinel secrets (TAP_<NAME>_<SETTING> environment variables) into target-jsonl:
the sentinel is nowhere in Meltano's log, the loaded files, `meltano state get` or the system
database that keeps the state."""

from __future__ import annotations

import json

import pytest

from tests.pipelines.meltano_project import MeltanoRun, install_plugins
from tests.reliability.runner import assert_no_secret, meltano_traces
from tests.reliability.taps import SENTINEL, TAPS

pytestmark = pytest.mark.xdist_group("meltano-project")  # one Meltano project: its runs go one at a time


@pytest.fixture(scope="module")
def meltano_plugins():
    install_plugins()


@pytest.mark.usefixtures("meltano_plugins")
@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["meltano, secrets"])
def test_meltano_run_never_shows_a_secret(sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    env_prefix = profile.name.upper().replace("-", "_")
    secrets = {f"{env_prefix}_{name.upper()}": f"{SENTINEL}-{name}" for name in profile.secrets}
    meltano = MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env=secrets)
    # one retried fault, so that the log holds a warning that names an endpoint
    sandbox.faults.add("503", vendor=vendor, times=1)

    # the environment variables win over the sandbox environment's placeholder secrets
    shown = meltano.command("config", "--unsafe", "print", "--format=json", profile.name)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert all(json.loads(shown.stdout)[name] == f"{SENTINEL}-{name}" for name in profile.secrets)

    run = meltano.run(profile.name, "target-jsonl")
    assert run.returncode == 0, run.stderr[-3000:]
    assert sandbox.count(vendor) > 1  # the run went to this sandbox, with the fault retried
    assert "retrying" in run.stderr  # the retry warning reached Meltano's log

    traces = meltano_traces(meltano, f"sandbox:{profile.name}-to-target-jsonl")
    loaded = [path.read_text() for path in (tmp_path / "jsonl").glob("*.jsonl")]
    assert loaded
    assert_no_secret(*traces.values(), *loaded)
