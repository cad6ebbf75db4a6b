"""Meltano with sentinel secrets (TAP_<NAME>_<SETTING> environment variables) into target-jsonl:
the sentinel is nowhere in Meltano's log, the loaded files, `meltano state get` or the system
database that keeps the state."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.pipelines.meltano_project import MELTANO, ROOT, MeltanoRun, install_plugins
from tests.reliability.runner import assert_no_secret
from tests.reliability.taps import SENTINEL, TAPS

pytestmark = pytest.mark.xdist_group("meltano-project")  # one Meltano project: its runs go one at a time


@pytest.fixture(scope="module")
def meltano_plugins():
    install_plugins()


@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["meltano, secrets"])
def test_meltano_run_never_shows_a_secret(meltano_plugins, sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    env_prefix = profile.name.upper().replace("-", "_")
    secrets = {f"{env_prefix}_{name.upper()}": f"{SENTINEL}-{name}" for name in profile.secrets}
    meltano = MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env=secrets)
    # one retried fault, so that the log holds a warning that names an endpoint
    sandbox.faults.add("503", vendor=vendor, times=1)

    # the environment variables win over the sandbox environment's placeholder secrets
    shown = subprocess.run(
        [MELTANO, "config", "--unsafe", "print", "--format=json", profile.name],
        cwd=ROOT,
        env=meltano.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert all(json.loads(shown.stdout)[name] == f"{SENTINEL}-{name}" for name in profile.secrets)

    run = meltano.run(profile.name, "target-jsonl")
    assert run.returncode == 0, run.stderr[-3000:]
    assert sandbox.count(vendor) > 1  # the run went to this sandbox, with the fault retried
    assert "retrying" in run.stderr  # the retry warning reached Meltano's log

    state = subprocess.run(
        [MELTANO, "state", "get", f"sandbox:{profile.name}-to-target-jsonl"],
        cwd=ROOT,
        env=meltano.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert state.returncode == 0, state.stderr[-2000:]
    assert '"bookmarks"' in state.stdout
    loaded = [path.read_text() for path in (tmp_path / "jsonl").glob("*.jsonl")]
    assert loaded
    # `meltano run` logs to stderr (MeltanoRun keeps it as meltano.log); the state lives in meltano.db
    log = (tmp_path / "meltano.log").read_text()
    system_db = (tmp_path / "meltano.db").read_bytes().decode("utf-8", "replace")
    assert_no_secret(log, state.stdout, state.stderr, system_db, *loaded)
