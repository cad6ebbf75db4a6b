"""`meltano invoke tap-gravito --probe` in the project's sandbox environment: the same table, read-only, no secret shown."""

from __future__ import annotations

import subprocess

import pytest

from tests.pipelines.meltano_project import MELTANO, ROOT, MeltanoRun, install_plugins, project_lock

# No xdist_group marker (tests/gravito also runs with -p no:xdist): project_lock() already makes this
# test's Meltano commands take turns with every other test's in the one project.
SECRET = "gravito-meltano-probe-secret-7731"
ROWS = 7


@pytest.fixture(scope="module")
def meltano_plugins():
    install_plugins()


@pytest.mark.parametrize(("variants", "returncode"), [((), 0), (("unknown-domain",), 1)])
def test_meltano_invoke_probe(meltano_plugins, sandbox, tmp_path, variants, returncode):
    sandbox.set_variants("gravito", *variants)
    meltano = MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env={"TAP_GRAVITO_ACCESS_TOKEN": SECRET})
    with project_lock():
        run = subprocess.run(
            [MELTANO, "invoke", "tap-gravito", "--probe"],
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
    requests = [r for r in list(sandbox.requests) if r.vendor == "gravito"]
    assert requests and all(r.method == "GET" for r in requests)
    assert SECRET not in run.stdout + run.stderr
