"""`meltano invoke <tap> --probe` in the project's sandbox environment, for every vendor profile with a
probe: the same table as the tap's own `--probe`, read-only, no secret shown."""

from __future__ import annotations

import pytest

from sandbox.profiles import all_profiles
from tests.pipelines.meltano_project import MeltanoRun

# No xdist_group marker: MeltanoRun.command(locked=True) takes turns with every other test's Meltano
# commands in the one project.
SECRET = "meltano-probe-secret-7731"
PROBED = [profile for profile in all_profiles() if profile.probe]
CASES = [
    pytest.param(profile, variants, returncode, id=f"{profile.vendor}-{'-'.join(variants) or 'documented'}")
    for profile in PROBED
    for variants, returncode in (((), 0), ((profile.probe.breaking_variant,), 1))
]


@pytest.mark.usefixtures("meltano_plugins")
@pytest.mark.parametrize(("profile", "variants", "returncode"), CASES)
def test_meltano_invoke_probe(sandbox, tmp_path, profile, variants, returncode):
    sandbox.set_variants(profile.vendor, *variants)
    prefix = profile.tap.upper().replace("-", "_")
    secrets = {f"{prefix}_{name.upper()}": f"{SECRET}-{name}" for name in profile.secrets}
    meltano = MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env=secrets)
    run = meltano.command("invoke", profile.tap, "--probe", timeout=300, locked=True)
    assert run.returncode == returncode, run.stdout + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    rows = profile.probe.rows
    assert lines[0].split()[:2] == ["verdict", "assumption"]
    assert lines[-1] == f"{rows - returncode} of {rows} assumptions hold"
    assert run.stdout.count("does not hold") == returncode
    requests = [r for r in list(sandbox.requests) if r.vendor == profile.vendor]
    # read-only: nothing created (a sign-in POST opens a session, no data)
    assert requests and all(
        r.method == "GET" or (r.method == "POST" and r.path == profile.probe.sign_in_path) for r in requests
    )
    assert not any("create-" in r.path for r in requests)
    if profile.probe.requests is not None:
        assert len(requests) == profile.probe.requests
    assert SECRET not in run.stdout + run.stderr
