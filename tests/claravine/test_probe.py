"""`tap-claravine --probe` against every simulator variant: `does not hold` exactly where the variant breaks an
assumption."""

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
    claravine_probe.HOST,
    claravine_probe.AUTH.format(key="X-API-Key", secret="X-API-Secret"),
    claravine_probe.LIST_SHAPE,
    claravine_probe.FIELDS_LISTED,
    claravine_probe.DEFINITION,
    claravine_probe.ID_LISTED,
    claravine_probe.ID_NAME,
    claravine_probe.TX_LIST,
    claravine_probe.TX_FILTER,
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
    "singular-data-path": {claravine_probe.DATA_PATH},
    "top-level-data-path": {claravine_probe.DATA_PATH},
    "top-level-data-path-400": {claravine_probe.DATA_PATH},
    "top-level-data-path-403": {claravine_probe.DATA_PATH},
    "list-by-row-creation": {claravine_probe.TX_FILTER},
    "data-row-metadata": set(),  # read and kept: nothing the tap assumes breaks
}


def probe_config(sandbox, **overrides) -> dict:
    # A week whose submissions have all settled, so a Complete transaction is among the first few.
    days = {
        "start_date": (TODAY - dt.timedelta(days=10)).isoformat(),
        "end_date": (TODAY - dt.timedelta(days=4)).isoformat(),
    }
    return config(sandbox, **{**days, **overrides})


def week_listing_an_outside_submission(sandbox) -> dict:
    """Under list-by-row-creation: a settled week whose list (for the dataset the probe reads, the first
    one listing its row id field) holds a transaction submitted outside the week, from the simulator's own data."""
    app = sandbox.app("claravine")
    dataset, today = app.datasets()[0], app.today()
    for back in range(10, 50):
        first = today - dt.timedelta(days=back)
        last = first + dt.timedelta(days=6)
        if any(not first <= tx.day <= last for tx in app.listed(dataset, first, last)):
            return {"start_date": first.isoformat(), "end_date": last.isoformat()}
    raise AssertionError("no week in the simulator's history lists a transaction submitted outside it")


def test_every_variant_has_its_expected_breaks():
    assert set(BROKEN) == set(ClaravineApp.VARIANTS)


@pytest.mark.parametrize("variant", [None, *ClaravineApp.VARIANTS])
def test_probe_says_does_not_hold_exactly_where_the_variant_breaks_an_assumption(sandbox, variant):
    sandbox.set_variants("claravine", *([variant] if variant else []))
    window = week_listing_an_outside_submission(sandbox) if variant == "list-by-row-creation" else {}
    run = run_tap(TAP, probe_config(sandbox, **window), args=["--probe"])
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
    # the host answers (it refuses the key): only the assumptions after the list cannot be told
    untold = {row: "could not tell" for row in ROWS[2:]}
    assert shown == {claravine_probe.HOST: "holds", auth: "does not hold", **untold}
    assert sandbox.count("claravine") == 1


def test_a_definition_of_another_shape_is_could_not_tell_and_shows_no_secret(sandbox):
    sandbox.faults.add("html", vendor="claravine", path="/definition", times=1)
    run = run_tap(TAP, probe_config(sandbox), args=["--probe"])
    assert API_KEY not in run.stdout + run.stderr
    assert API_SECRET not in run.stdout + run.stderr
    assert verdicts(run.stdout)[claravine_probe.DEFINITION] == "could not tell"


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("https://api.claravine.com", "the api.claravine.com host of the newer vendor pages"),
        ("https://API.claravine.com/", "the api.claravine.com host of the newer vendor pages"),
        ("https://acme.claravine.com", "a per-customer host of the older support article"),
        ("http://127.0.0.1:8080/claravine", "neither documented Claravine host: a proxy or a simulator"),
        ("https://claravine.com.example.org", "neither documented Claravine host: a proxy or a simulator"),
    ],
)
def test_the_host_row_names_the_documented_form_of_api_url(url, form):
    assert claravine_probe.host_form(url) == form


def test_a_base_url_that_is_not_the_apis_is_the_host_row_that_does_not_hold(sandbox):
    run = run_tap(TAP, probe_config(sandbox, api_url=sandbox.url("claravine") + "/v1"), args=["--probe"])
    assert run.returncode == 1
    assert_clean(run)
    shown = verdicts(run.stdout)
    assert shown[claravine_probe.HOST] == "does not hold"
    assert "HTTP 404, not the API's base URL" in run.stdout
    assert all(verdict == "could not tell" for row, verdict in shown.items() if row != claravine_probe.HOST)
