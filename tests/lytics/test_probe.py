"""`tap-lytics --probe` against every simulator variant: `does not hold` exactly where the variant breaks
an assumption, `holds` elsewhere; exit 0 only on the documented reading; read only; no secret shown."""

from __future__ import annotations

import pytest

from sandbox.lytics import LyticsApp
from tap_lytics.probe import (
    ASSUMPTIONS,
    AUTH,
    CURSOR_ADVANCES,
    ENVELOPE_STATUS,
    FIELD_TYPES,
    KEYED_ROWS,
    LOOKUP_ANSWERS,
    LOOKUP_TRIES,
    NO_CREDENTIALS,
    NOT_FOUND_404,
    PAGE_LIMIT,
    SCALAR_IDENTITY,
    SCHEMA_SHAPE,
    TYPED_VALUES,
)
from tests.lytics.conftest import SECRET
from tests.support.singer import run_tap

#: the assumption each variant breaks (the variant is the evidence's reading, the assumption the docs')
BROKEN_BY = {
    "uids-array": SCALAR_IDENTITY,
    "string-scalars": TYPED_VALUES,
    "page-cap-100": PAGE_LIMIT,
    "repeating-next": CURSOR_ADVANCES,
    "account-credentials": NO_CREDENTIALS,
    "sparse-rows": KEYED_ROWS,
    "entity-200-not-found": NOT_FOUND_404,
    "entity-timeout": LOOKUP_ANSWERS,
    "entity-timeout-lasting": LOOKUP_ANSWERS,  # the same assumption as entity-timeout, lasting
    "status-words": ENVELOPE_STATUS,
    "schema-fields": SCHEMA_SHAPE,
    "more-field-types": FIELD_TYPES,
}
#: what a variant leaves the probe unable to tell: a lookup that always times out shows no not-found answer
UNTOLD_BY = {"entity-timeout-lasting": NOT_FOUND_404}
PROBE_REQUESTS = 8
#: lookups asked again after a "Timed out" answer
EXTRA_LOOKUPS = {"entity-timeout": 1, "entity-timeout-lasting": LOOKUP_TRIES - 1}


def probe_config(config: dict) -> dict:
    return {name: value for name, value in config.items() if name not in ("profile_key", "segments")}


def verdicts(stdout: str) -> dict[str, str]:
    """assumption -> verdict, from the probe's table."""
    found = {}
    for line in stdout.splitlines():
        for assumption in ASSUMPTIONS:
            if f"  {assumption}  " in line:
                found[assumption] = line.split("  ", 1)[0].strip()
    return found


def test_every_variant_breaks_exactly_one_assumption():
    assert set(BROKEN_BY) == set(LyticsApp.VARIANTS)
    assert len(set(BROKEN_BY.values())) == len(BROKEN_BY) - 1  # the two timeout variants share one


@pytest.mark.usefixtures("size_two")
@pytest.mark.parametrize("variant", [None, *LyticsApp.VARIANTS])
def test_probe_names_what_the_variant_breaks(sandbox, config, variant):
    if variant:
        sandbox.set_variants("lytics", variant)
    run = run_tap("tap-lytics", probe_config(config), args=["--probe"], timeout=120)
    expected = {assumption: "holds" for assumption in ASSUMPTIONS}
    if variant:
        expected[BROKEN_BY[variant]] = "does not hold"
    if variant in UNTOLD_BY:
        expected[UNTOLD_BY[variant]] = "could not tell"
    assert verdicts(run.stdout) == expected, run.stdout + run.stderr[-2000:]
    assert run.returncode == (1 if variant else 0)
    held = sum(1 for verdict in expected.values() if verdict == "holds")
    assert run.stdout.splitlines()[-1] == f"{held} of {len(ASSUMPTIONS)} assumptions hold"
    assert len(sandbox.requests) == PROBE_REQUESTS + EXTRA_LOOKUPS.get(variant or "", 0)
    assert {r.method for r in sandbox.requests} == {"GET"}
    output = run.stdout + run.stderr
    assert SECRET not in output
    assert not any(value in output for value in sandbox.app("lytics").credential_values())
    assert not any(p["email"] in output for p in sandbox.app("lytics").profiles())  # personal data stays out


def test_probe_with_a_refused_token_says_so_and_tests_nothing_else(sandbox, config):
    sandbox.faults.add("401", vendor="lytics", times=-1)
    run = run_tap("tap-lytics", probe_config(config), args=["--probe"])
    assert run.returncode == 1
    expected = {assumption: "could not tell" for assumption in ASSUMPTIONS} | {AUTH: "does not hold"}
    assert verdicts(run.stdout) == expected
    assert "authentication failed: check api_key" in run.stdout
    assert len(sandbox.requests) == 1
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.usefixtures("sandbox")
def test_probe_on_small_audiences_cannot_tell_the_page_limit(config):
    # the default sandbox: 60 profiles, so no page of 101 can be asked for; said, not guessed
    run = run_tap("tap-lytics", probe_config(config), args=["--probe"])
    assert run.returncode == 1
    expected = {assumption: "holds" for assumption in ASSUMPTIONS} | {PAGE_LIMIT: "could not tell"}
    assert verdicts(run.stdout) == expected
    assert "the audience has 60 members, more than 100 are needed to tell" in run.stdout


def test_probe_scans_the_largest_configured_audience(sandbox, config):
    app = sandbox.app("lytics")
    run = run_tap("tap-lytics", {**probe_config(config), "segments": ["sweden", "subscribers"]}, args=["--probe"])
    largest = max(("sweden", "subscribers"), key=lambda slug: len(app.members(slug)))
    scanned = {r.path for r in sandbox.requests if r.path.endswith("/scan")}
    assert scanned == {f"/api/segment/{app.find_segment(largest)['id']}/scan"}
    assert verdicts(run.stdout)[KEYED_ROWS] == "holds"


@pytest.mark.parametrize(
    ("variant", "answer"),
    [
        ("status-words", "'success' on /api/account; (none) on /api/schema/<table>, /api/segment, /api/segment/sizes"),
        ("more-field-types", "other types: datetime (date-time column), dynamic (kept in _extra), geolocation (string"),
        ("entity-200-not-found", "HTTP 200, message 'Not Found', the placeholder (the tap records found=false)"),
        ("entity-timeout", '"Timed out" on 1 of 3 tries (the tap retries it; if it lasts, found=null)'),
        ("schema-fields", "the older shape: `fields` ("),
    ],
)
def test_probe_says_what_the_account_shows(sandbox, config, variant, answer):
    sandbox.set_variants("lytics", variant)
    run = run_tap("tap-lytics", probe_config(config), args=["--probe"])
    assert run.returncode == 1
    assert answer in run.stdout
