"""`tap-gravito --probe` against every simulator variant: `does not hold` exactly where the variant breaks an
assumption."""

from __future__ import annotations

import pytest

from sandbox.gravito import DOMAINS, UNKNOWN_DOMAIN, GravitoApp
from tap_gravito import probe as gravito_probe
from tests.gravito.test_sync import TOKEN, config
from tests.support.probe import assert_verdicts, verdicts
from tests.support.singer import run_tap

TAP = "tap-gravito"
ROWS = [row.replace("{version}", "v3") for row in gravito_probe.ROWS]
# What each variant breaks. Content that changes without a newer timestamp needs two looks, a
# day apart, to be seen; the tap no longer assumes it does not happen, so no row checks it.
BROKEN = {
    "changed-without-timestamp": set(),
    "unknown-domain": {gravito_probe.DOMAINS},
    "timestamps-in-milliseconds": {gravito_probe.TIMESTAMPS},
}


def assert_clean(run) -> None:
    assert TOKEN not in run.stdout + run.stderr


def test_every_variant_has_its_expected_breaks():
    assert set(BROKEN) == set(GravitoApp.VARIANTS)


@pytest.mark.parametrize("variant", [None, *GravitoApp.VARIANTS])
def test_probe_says_does_not_hold_exactly_where_the_variant_breaks_an_assumption(sandbox, variant):
    sandbox.set_variants("gravito", *([variant] if variant else []))
    run = run_tap(TAP, config(sandbox), args=["--probe"])
    assert_clean(run)
    assert_verdicts(run, ROWS, BROKEN.get(variant, set()))
    # One read-only GET per configured domain.
    assert sorted((r.method, r.query["domainName"][0]) for r in sandbox.requests) == sorted(("GET", d) for d in DOMAINS)
    if variant == "unknown-domain":
        row = next(line for line in run.stdout.splitlines() if gravito_probe.DOMAINS in line)
        assert row.endswith(f"no profiles: {UNKNOWN_DOMAIN}")


def test_a_refused_token_is_the_one_row_that_does_not_hold(sandbox):
    sandbox.faults.add("401", vendor="gravito", times=-1)
    run = run_tap(TAP, config(sandbox), args=["--probe"])
    assert run.returncode == 1
    assert_clean(run)
    shown = verdicts(run.stdout)
    assert shown == {ROWS[0]: "does not hold", ROWS[1]: "could not tell", **{row: "could not tell" for row in ROWS[2:]}}
    assert sandbox.count("gravito") == 1  # a refused token is refused for every domain: asked once


def test_an_unsupported_version_is_the_version_row(sandbox):
    run = run_tap(TAP, config(sandbox, gravito_version="v4"), args=["--probe"])
    assert run.returncode == 1
    shown = verdicts(run.stdout)
    assert shown[gravito_probe.VERSION.format(version="v4")] == "does not hold"
    assert shown[gravito_probe.AUTH] == "could not tell"
    assert sandbox.count("gravito") == 1


def test_a_body_of_another_shape_is_the_shape_row(sandbox):
    sandbox.faults.add("envelope-error", vendor="gravito", times=1)
    run = run_tap(TAP, config(sandbox), args=["--probe"])
    assert run.returncode == 1
    assert verdicts(run.stdout)[gravito_probe.SHAPE] == "does not hold"
    assert_clean(run)
