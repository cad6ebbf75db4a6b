"""`meltano invoke tap-claravine --probe` in the project's sandbox environment: the same table, read-only, no secret shown."""

from __future__ import annotations

import subprocess

import pytest

from tests.pipelines.meltano_project import MELTANO, ROOT, MeltanoRun, install_plugins, project_lock

# No xdist_group marker (tests/claravine also runs with -p no:xdist): project_lock() already makes this
# test's Meltano commands take turns with every other test's in the one project.
SECRET = "claravine-meltano-probe-secret-7731"
ROWS = 10


@pytest.fixture(scope="module")
def meltano_plugins():
    install_plugins()


@pytest.mark.parametrize(("variants", "returncode"), [((), 0), (("plural-data-path",), 1)])
def test_meltano_invoke_probe(meltano_plugins, sandbox, tmp_path, variants, returncode):
    sandbox.set_variants("claravine", *variants)
    meltano = MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env={"TAP_CLARAVINE_API_SECRET": SECRET})
    with project_lock():
        run = subprocess.run(
            [MELTANO, "invoke", "tap-claravine", "--probe"],
            cwd=ROOT,
            env=meltano.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == returncode, run.stdout + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0].split()[:2] == ["verdict", "assumption"]
    assert lines[-1] == f"{ROWS - returncode} of {ROWS} assumptions hold"
    assert run.stdout.count("does not hold") == returncode
    requests = [r for r in list(sandbox.requests) if r.vendor == "claravine"]
    assert requests and all(r.method == "GET" for r in requests)
    assert SECRET not in run.stdout + run.stderr
