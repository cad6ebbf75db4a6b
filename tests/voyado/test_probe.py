"""`tap-voyado --probe` against every simulator variant: read-only, one row per assumption, exact verdicts."""

from __future__ import annotations

import pytest

from sandbox.voyado import VoyadoApp
from tap_voyado.versions import VERSIONS, today
from tests.support.singer import run_tap
from tests.voyado.conftest import API_KEY

#: the probe's rows, by a fragment of their assumption text
LIFE = "has not reached its end of life"
SERVED_V4 = "api_version admin-v4 serves the export API"
SERVED_V3_FALLBACK = "admin-v3, the fallback of admin-v4, serves the export API"
SERVED_V3 = "api_version admin-v3 serves the export API"
SERVED_V2 = "api_version v2 serves the export API"
UNKNOWN_STATUS = "job-status answers HTTP 200 with {jid, status: not_found}"
RESULT = "export-customer-job-result answers HTTP 200 with a job status document"
#: admin/v3 is in long-time support until 2026-12-31; from 2027 its end-of-life row does not hold
V3_LIFE_BROKEN = {LIFE} if VERSIONS["admin-v3"].ended(today()) else set()
DEFAULT_ROWS = [LIFE, SERVED_V4, SERVED_V3_FALLBACK, UNKNOWN_STATUS, RESULT]

#: (variants, settings, rows, rows that do not hold); every other row holds.
#: Variants the probe cannot see read-only (the tap tolerates them without an assumption) hold throughout:
#: jobs-per-version (a job is always polled on its own version), empty-zip and empty-as-text (only a
#: finished export shows them), v2-ended for a config that does not use v2.
CASES = [
    ((), {}, DEFAULT_ROWS, set()),
    (("v4-exports-missing",), {}, DEFAULT_ROWS, {SERVED_V4}),
    (("v3-ended",), {}, DEFAULT_ROWS, {SERVED_V3_FALLBACK}),
    (("v4-exports-missing", "v3-ended"), {}, DEFAULT_ROWS[:3], {SERVED_V4, SERVED_V3_FALLBACK}),
    (("not-found-as-404",), {}, DEFAULT_ROWS, {UNKNOWN_STATUS, RESULT}),
    (("result-400",), {}, DEFAULT_ROWS, {RESULT}),
    (("jobs-per-version",), {}, DEFAULT_ROWS, set()),
    (("empty-zip",), {}, DEFAULT_ROWS, set()),
    (("empty-as-text",), {}, DEFAULT_ROWS, set()),
    (("v2-ended",), {}, DEFAULT_ROWS, set()),
    ((), {"api_version": "admin-v3"}, [LIFE, SERVED_V3, UNKNOWN_STATUS, RESULT], V3_LIFE_BROKEN),
    (("v3-ended",), {"api_version": "admin-v3"}, [LIFE, SERVED_V3], {SERVED_V3} | V3_LIFE_BROKEN),
    ((), {"api_version": "v2"}, [LIFE, SERVED_V2, UNKNOWN_STATUS, RESULT], {LIFE}),
    (("v2-ended",), {"api_version": "v2"}, [LIFE, SERVED_V2], {LIFE, SERVED_V2}),
]


def probe_rows(stdout: str) -> list[tuple[str, str]]:
    """(verdict, assumption fragment) per row, in order."""
    rows = []
    body = stdout.splitlines()[2:-1]
    for line in body:
        verdict = next(v for v in ("holds", "does not hold", "could not tell") if line.startswith(v + " "))
        fragments = [f for f in (LIFE, SERVED_V4, SERVED_V3_FALLBACK, SERVED_V3, SERVED_V2, UNKNOWN_STATUS, RESULT) if f in line]
        assert len(fragments) == 1, line
        rows.append((verdict, fragments[0]))
    return rows


def test_every_variant_is_covered_by_a_case():
    assert {name for variants, _, _, _ in CASES for name in variants} == set(VoyadoApp.VARIANTS)


@pytest.mark.parametrize(("variants", "settings", "rows", "broken"), CASES, ids=lambda v: ",".join(v) if isinstance(v, tuple) else None)
def test_the_probe_says_does_not_hold_exactly_where_a_variant_breaks_an_assumption(
    sandbox, voyado_config, variants, settings, rows, broken
):
    sandbox.set_variants("voyado", *variants)
    run = run_tap("tap-voyado", voyado_config(["cust-probe"], **settings), args=["--probe"])
    shown = probe_rows(run.stdout)
    # a version not served leaves nothing to ask it: the checks on it are not made
    expected = [("does not hold" if row in broken else "holds", row) for row in rows]
    if len(rows) < 4:
        expected += [("could not tell", UNKNOWN_STATUS), ("could not tell", RESULT)]
    assert shown == expected
    assert run.returncode == (0 if not broken else 1), run.stderr
    assert run.stdout.splitlines()[-1] == f"{len(rows) - len(broken)} of {len(expected)} assumptions hold"
    assert_read_only_and_secret_free(sandbox, run)


def test_a_refused_key_is_a_row_that_does_not_hold_and_nothing_secret(sandbox, voyado_config):
    sandbox.faults.add("403", vendor="voyado", times=-1)
    run = run_tap("tap-voyado", voyado_config(["cust-probe"]), args=["--probe"])
    assert run.returncode == 1
    assert probe_rows(run.stdout) == [
        ("holds", LIFE),
        ("does not hold", SERVED_V4),
        ("could not tell", UNKNOWN_STATUS),
        ("could not tell", RESULT),
    ]
    assert "authentication failed: check api_key" in run.stdout
    assert_read_only_and_secret_free(sandbox, run)


def test_the_probe_makes_at_most_three_requests(sandbox, voyado_config):
    run = run_tap("tap-voyado", voyado_config(["cust-probe"]), args=["--probe"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in sandbox.requests if r.vendor == "voyado"] == [
        ("GET", "job-status"),
        ("GET", "job-status"),
        ("GET", "export-customer-job-result"),
    ]


def assert_read_only_and_secret_free(sandbox, run) -> None:
    requests = [r for r in list(sandbox.requests) if r.vendor == "voyado"]
    assert requests and all(r.method == "GET" for r in requests)
    assert not any("create-" in r.path for r in requests)  # never an export (or removal) job
    assert not sandbox.app("voyado").jobs
    assert API_KEY not in run.stdout + run.stderr
    assert [m for m in run.messages if m["type"] in ("RECORD", "STATE")] == []
