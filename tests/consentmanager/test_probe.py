"""`tap-consentmanager --probe` against every simulator variant: `does not hold` exactly where a variant
breaks an assumption, exit 0 only when all hold, and the key (it travels in the URL) never printed."""

from __future__ import annotations

import pytest

from sandbox.consentmanager import ConsentmanagerApp
from tests.support.singer import run_tap

SECRET = "cm-probe-Sentinel-77aa"
FAST_RETRIES = {"retry_backoff_seconds": 0.01, "retry_max_attempts": 2}

#: the probe's rows, in order
ROWS = (
    "key accepted",
    "data is an array",
    "empty report is []",
    "consent log archived",
    "custom ids text",
    "keys unique",
    "rows of the day",
)
ASSUMPTION_TEXT = {
    "key accepted": "the API key is accepted in the query string",
    "data is an array": "a report's `data` is a JSON array",
    "empty report is []": 'an empty report answers `"data": []`',
    "consent log archived": "the consent log serves only the last 7 days",
    "custom ids text": "custom purpose and vendor ids arrive as JSON strings",
    "keys unique": "cmp_report: no two rows of a day share the primary key",
    "rows of the day": "from=to=D answers the rows dated D only",
}
#: variant -> the rows it breaks (does not hold) and the rows it leaves untestable (could not tell)
BREAKS = {
    "default": ({}, {}),
    "string-data-empty": ({"empty report is []"}, set()),
    "string-data-csv": ({"data is an array"}, {"keys unique", "rows of the day"}),
    # text ids are what the tap assumes ("c52" and "1" alike): nothing breaks
    "custom-ids-text": (set(), set()),
    "custom-ids-numeric": ({"custom ids text"}, set()),
    "duplicate-keys": ({"keys unique"}, set()),
    # credential-named fields on every row (the kit's credential rule drops them): no assumption breaks
    "credentials": (set(), set()),
}


def probe(sandbox, **overrides):
    config = {"api_key": SECRET, "start_date": sandbox.today().isoformat(), "api_url": sandbox.url("consentmanager")}
    return run_tap("tap-consentmanager", {**config, **FAST_RETRIES, **overrides}, args=["--probe"])


def verdicts(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        for row, text in ASSUMPTION_TEXT.items():
            if text in line:
                found[row] = next(v for v in ("does not hold", "could not tell", "holds") if line.startswith(v))
    return found


def test_every_variant_has_its_expectation():
    assert set(BREAKS) == {"default", *ConsentmanagerApp.VARIANTS}


@pytest.mark.parametrize("variant", list(BREAKS))
def test_probe_says_does_not_hold_exactly_where_the_variant_breaks_an_assumption(sandbox, variant):
    if variant != "default":
        sandbox.set_variants("consentmanager", variant)
    run = probe(sandbox)
    broken, untestable = BREAKS[variant]
    expected = {
        row: "does not hold" if row in broken else "could not tell" if row in untestable else "holds" for row in ROWS
    }
    assert verdicts(run.stdout) == expected, run.stdout
    assert (
        run.stdout.strip().splitlines()[-1]
        == f"{len(ROWS) - len(broken) - len(untestable)} of {len(ROWS)} assumptions hold"
    )
    assert run.returncode == (0 if not broken and not untestable else 1), run.stderr[-2000:]
    assert SECRET not in run.stdout + run.stderr
    # a handful of read-only GETs: one day of one report, two lists, one archived day of the consent log
    requests = [r for r in sandbox.requests if r.vendor == "consentmanager"]
    assert [r.query["type"][0] for r in requests] == ["1", "10", "9", "19"]
    assert {r.method for r in requests} == {"GET"}


def test_a_refused_key_does_not_hold_and_is_never_printed(sandbox):
    sandbox.faults.add("401", vendor="consentmanager", times=-1)
    run = probe(sandbox)
    assert run.returncode == 1
    found = verdicts(run.stdout)
    assert found["key accepted"] == "does not hold"
    assert {found[row] for row in ROWS if row != "key accepted"} == {"could not tell"}
    assert "authentication failed: check api_key" in run.stdout
    assert SECRET not in run.stdout + run.stderr


def test_a_key_the_vendor_refuses_in_its_envelope_does_not_hold(sandbox):
    run = probe(sandbox, api_key="")  # the simulator answers status "error", "Missing or invalid key"
    assert found_key_row(run.stdout) == "does not hold"
    assert "Missing or invalid key" in run.stdout
    assert run.returncode == 1


def found_key_row(stdout: str) -> str:
    return verdicts(stdout)["key accepted"]


def test_a_vendor_that_cannot_answer_leaves_every_row_untested(sandbox):
    sandbox.faults.add("503", vendor="consentmanager", times=-1)
    run = probe(sandbox)
    assert run.returncode == 1
    assert set(verdicts(run.stdout).values()) == {"could not tell"}
    assert len(verdicts(run.stdout)) == len(ROWS)
    assert SECRET not in run.stdout + run.stderr
