"""`tap-claravine --probe` against every simulator variant: `does not hold` exactly where the variant breaks an assumption."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.claravine import ClaravineApp
from sandbox.core import default_today
from tap_claravine import probe as claravine_probe
from tests.claravine.test_sync import API_KEY, API_SECRET, TAP, assert_clean, config
from tests.support.probe import assert_verdicts, verdicts
from tests.support.singer import run_tap

TODAY = default_today()  # the run's pinned day (tests/conftest.py)
ROWS = [
    claravine_probe.AUTH.format(key="X-API-Key", secret="X-API-Secret"),
    claravine_probe.LIST_SHAPE,
    claravine_probe.FIELDS_LISTED,
    claravine_probe.DEFINITION,
    claravine_probe.ID_LISTED,
    claravine_probe.ID_NAME,
    claravine_probe.TX_LIST,
    claravine_probe.STATUS,
    claravine_probe.DATA_PATH,
    claravine_probe.DATA_SHAPE,
]
# What each variant breaks (the documented default breaks nothing).
BROKEN = {
    "id-field-claravine-id": {claravine_probe.ID_NAME},
    "id-field-other-casing": {claravine_probe.ID_NAME},
    "id-field-unlisted": {claravine_probe.ID_LISTED},
    "fields-unlisted": {claravine_probe.FIELDS_LISTED, claravine_probe.ID_LISTED},
    "plural-data-path": {claravine_probe.DATA_PATH},
    "plural-data-path-400": {claravine_probe.DATA_PATH},
    "plural-data-path-403": {claravine_probe.DATA_PATH},
}


def probe_config(sandbox, **overrides) -> dict:
    # A week whose submissions have all settled, so a Complete transaction is among the first few.
    days = {"start_date": (TODAY - dt.timedelta(days=10)).isoformat(), "end_date": (TODAY - dt.timedelta(days=4)).isoformat()}
    return config(sandbox, **{**days, **overrides})


def test_every_variant_has_its_expected_breaks():
    assert set(BROKEN) == set(ClaravineApp.VARIANTS)


@pytest.mark.parametrize("variant", [None, *ClaravineApp.VARIANTS])
def test_probe_says_does_not_hold_exactly_where_the_variant_breaks_an_assumption(sandbox, variant):
    sandbox.set_variants("claravine", *([variant] if variant else []))
    run = run_tap(TAP, probe_config(sandbox), args=["--probe"])
    assert_clean(run)
    assert_verdicts(run, ROWS, BROKEN.get(variant, set()))
    # Read-only, and a handful of requests: no POST, at most one data request per candidate path.
    assert {r.method for r in sandbox.requests if r.vendor == "claravine"} == {"GET"}
    assert sandbox.count("claravine") <= 12
    assert sum(1 for r in sandbox.requests if r.path.endswith("/data")) <= 3


def test_refused_credentials_are_the_one_row_that_does_not_hold(sandbox):
    run = run_tap(TAP, probe_config(sandbox, key_header="X-Claravine-Key"), args=["--probe"])
    assert run.returncode == 1
    assert_clean(run)
    shown = verdicts(run.stdout)
    auth = claravine_probe.AUTH.format(key="X-Claravine-Key", secret="X-API-Secret")
    assert shown == {auth: "does not hold", **{row: "could not tell" for row in ROWS[1:]}}
    assert sandbox.count("claravine") == 1


def test_a_definition_of_another_shape_is_could_not_tell_and_shows_no_secret(sandbox):
    sandbox.faults.add("html", vendor="claravine", path="/definition", times=1)
    run = run_tap(TAP, probe_config(sandbox), args=["--probe"])
    assert API_KEY not in run.stdout + run.stderr
    assert API_SECRET not in run.stdout + run.stderr
    assert verdicts(run.stdout)[claravine_probe.DEFINITION] == "could not tell"
