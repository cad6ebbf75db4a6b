"""`tap-voyado --probe` against every simulator variant: read-only, one row per assumption, exact verdicts."""

from __future__ import annotations

import pytest

from sandbox.voyado import VoyadoApp
from tap_voyado.versions import VERSIONS, today
from tests.support.singer import run_tap
from tests.voyado.conftest import API_KEY

#: the probe's rows, by a fragment of their assumption text
LIFE = "has not reached its end of life"
NEWEST = "is the newest version whose export paths answer"
UNKNOWN_STATUS = "job-status answers HTTP 200 with {jid, status: not_found}"
RESULT = "export-customer-job-result answers HTTP 200 with a job status document"


def served(version: str, fallback_of: str | None = None) -> str:
    if fallback_of:
        return f"{version}, a fallback of {fallback_of}, serves the export API"
    return f"api_version {version} serves the export API"


SERVED_V4, SERVED_V3, SERVED_V2, SERVED_V5 = (served(v) for v in ("admin-v4", "admin-v3", "v2", "admin-v5"))
V3_FALLBACK, V2_FALLBACK = served("admin-v3", "admin-v4"), served("v2", "admin-v4")
FRAGMENTS = [
    LIFE,
    NEWEST,
    UNKNOWN_STATUS,
    RESULT,
    *(served(v, of) for v in ("admin-v5", "admin-v4", "admin-v3", "v2") for of in (None, "admin-v4", "admin-v5")),
]
#: admin/v3 is in long-time support until 2026-12-31; from 2027 its end-of-life row does not hold
V3_LIFE_BROKEN = {LIFE} if VERSIONS["admin-v3"].ended(today()) else set()
DEFAULT_ROWS = [LIFE, SERVED_V4, V3_FALLBACK, V2_FALLBACK, NEWEST, UNKNOWN_STATUS, RESULT]
#: no version of the chain is served: the two checks on a served version cannot be made
NONE_SERVED = DEFAULT_ROWS[:5]
ONLY_V5 = ("admin-v5-released", "v4-exports-missing", "v3-ended", "v2-ended")
V5_FALLBACKS = [served(v, "admin-v5") for v in ("admin-v4", "admin-v3", "v2")]
V5_ROWS = [LIFE, SERVED_V5, *V5_FALLBACKS, NEWEST, UNKNOWN_STATUS, RESULT]

#: (variants, settings, rows, rows that do not hold); every other row holds.
#: Variants the probe cannot see read-only (the tap tolerates them without an assumption) hold throughout:
#: jobs-per-version (a job is always polled on its own version), empty-zip and empty-as-text (only a
#: finished export shows them).
CASES = [
    ((), {}, DEFAULT_ROWS, set()),
    (("v4-exports-missing",), {}, DEFAULT_ROWS, {SERVED_V4, NEWEST}),
    (("v3-ended",), {}, DEFAULT_ROWS, {V3_FALLBACK}),
    (("v4-exports-missing", "v3-ended"), {}, DEFAULT_ROWS, {SERVED_V4, V3_FALLBACK, NEWEST}),
    (("v4-exports-missing", "v3-ended", "v2-ended"), {}, NONE_SERVED, {SERVED_V4, V3_FALLBACK, V2_FALLBACK, NEWEST}),
    (("not-found-as-404",), {}, DEFAULT_ROWS, {UNKNOWN_STATUS, RESULT}),
    (("result-400",), {}, DEFAULT_ROWS, {RESULT}),
    (("jobs-per-version",), {}, DEFAULT_ROWS, set()),
    (("empty-zip",), {}, DEFAULT_ROWS, set()),
    (("empty-as-text",), {}, DEFAULT_ROWS, set()),
    (("v2-ended",), {}, DEFAULT_ROWS, {V2_FALLBACK}),
    (("admin-v5-released",), {}, DEFAULT_ROWS, {NEWEST}),
    (ONLY_V5, {}, NONE_SERVED, {SERVED_V4, V3_FALLBACK, V2_FALLBACK, NEWEST}),
    (ONLY_V5, {"api_version": "admin-v5"}, V5_ROWS, set(V5_ROWS[2:5])),
    ((), {"api_version": "admin-v3"}, [LIFE, SERVED_V3, NEWEST, UNKNOWN_STATUS, RESULT], {NEWEST} | V3_LIFE_BROKEN),
    (("v3-ended",), {"api_version": "admin-v3"}, [LIFE, SERVED_V3, NEWEST], {SERVED_V3, NEWEST} | V3_LIFE_BROKEN),
    ((), {"api_version": "v2"}, [LIFE, SERVED_V2, NEWEST, UNKNOWN_STATUS, RESULT], {LIFE, NEWEST}),
    (("v2-ended",), {"api_version": "v2"}, [LIFE, SERVED_V2, NEWEST], {LIFE, SERVED_V2, NEWEST}),
]


def probe_rows(stdout: str) -> list[tuple[str, str]]:
    """(verdict, assumption fragment) per row, in order."""
    rows = []
    body = stdout.splitlines()[2:-1]
    for line in body:
        verdict = next(v for v in ("holds", "does not hold", "could not tell") if line.startswith(v + " "))
        fragments = [f for f in FRAGMENTS if f in line]
        assert len(fragments) == 1, line
        rows.append((verdict, fragments[0]))
    return rows


def test_every_variant_is_covered_by_a_case():
    assert {name for variants, _, _, _ in CASES for name in variants} == set(VoyadoApp.VARIANTS)


@pytest.mark.parametrize(
    ("variants", "settings", "rows", "broken"), CASES, ids=lambda v: ",".join(v) if isinstance(v, tuple) else None
)
def test_the_probe_says_does_not_hold_exactly_where_a_variant_breaks_an_assumption(
    sandbox, voyado_config, variants, settings, rows, broken
):
    sandbox.set_variants("voyado", *variants)
    run = run_tap("tap-voyado", voyado_config(["cust-probe"], **settings), args=["--probe"])
    shown = probe_rows(run.stdout)
    # a version not served leaves nothing to ask it: the checks on it are not made
    expected = [("does not hold" if row in broken else "holds", row) for row in rows]
    if UNKNOWN_STATUS not in rows:
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
        ("could not tell", NEWEST),
        ("could not tell", UNKNOWN_STATUS),
        ("could not tell", RESULT),
    ]
    assert "authentication failed: check api_key" in run.stdout
    assert_read_only_and_secret_free(sandbox, run)


def test_the_probe_asks_each_version_of_the_chain_and_the_next_one_then_the_result(sandbox, voyado_config):
    run = run_tap("tap-voyado", voyado_config(["cust-probe"]), args=["--probe"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert [(r.method, r.path.split("/voyado", 1)[-1]) for r in sandbox.requests if r.vendor == "voyado"] == [
        ("GET", "/api/admin/v4/event-data/job-status"),
        ("GET", "/api/admin/v3/event-data/job-status"),
        ("GET", "/api/v2/event-data/job-status"),
        ("GET", "/api/admin/v5/event-data/job-status"),
        ("GET", "/api/admin/v4/event-data/export-customer-job-result"),
    ]


def test_the_probe_names_the_newest_version_that_answers(sandbox, voyado_config):
    sandbox.set_variants("voyado", "admin-v5-released")
    newer = run_tap("tap-voyado", voyado_config(["cust-probe"]), args=["--probe"])
    line = next(line for line in newer.stdout.splitlines() if NEWEST in line)
    assert line.startswith("does not hold ")
    assert line.rstrip().endswith(
        "the newest version whose export paths answer is admin-v5: set api_version to admin-v5"
    )

    sandbox.set_variants("voyado", "v4-exports-missing", "v3-ended")
    older = run_tap("tap-voyado", voyado_config(["cust-probe"]), args=["--probe"])
    line = next(line for line in older.stdout.splitlines() if NEWEST in line)
    assert line.rstrip().endswith("the newest version whose export paths answer is v2: set api_version to v2")


def assert_read_only_and_secret_free(sandbox, run) -> None:
    requests = [r for r in list(sandbox.requests) if r.vendor == "voyado"]
    assert requests and all(r.method == "GET" for r in requests)
    assert not any("create-" in r.path for r in requests)  # never an export (or removal) job
    assert not sandbox.app("voyado").jobs
    assert API_KEY not in run.stdout + run.stderr
    assert [m for m in run.messages if m["type"] in ("RECORD", "STATE")] == []
