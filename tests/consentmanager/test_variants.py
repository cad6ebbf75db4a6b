"""tap-consentmanager against every simulator variant: exact output, or a stop on one line naming the assumption."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from sandbox.consentmanager import ConsentmanagerApp
from tapkit import snake_case
from tests.consentmanager.truth import VENDOR_KEYS, raw_rows
from tests.support.singer import run_tap

SECRET = "cm-sentinel-Key-8f2e"
FAST_RETRIES = {"retry_backoff_seconds": 0.01, "retry_max_attempts": 3}
REPORTS = ("cmp_report", "crawler_report", "delivery_domains", "changelog", "consent_log")
HISTORY_DAYS = 45  # the simulator's reports reach this many days back; older days are empty reports
#: vendor fields that carry custom purpose or vendor ids -> (stream, column)
TEXT_ID_FIELDS = {("custom_purposes", "id"): "id", ("custom_vendors", "id"): "id", ("changelog", "itemID"): "item_id"}


def config(sandbox, start: dt.date, end: dt.date | None = None, **overrides) -> dict:
    cfg = {"api_key": SECRET, "start_date": start.isoformat(), "api_url": sandbox.url("consentmanager"), **FAST_RETRIES}
    if end is not None:
        cfg["end_date"] = end.isoformat()
    return {**cfg, **overrides}


def days_ago(sandbox, n: int) -> dt.date:
    return sandbox.today() - dt.timedelta(days=n)


def key_counter(stream: str, rows: list[dict], shaped: bool) -> Counter:
    """A multiset of primary keys, from vendor rows or from records (compared as text)."""
    fields = VENDOR_KEYS.get(stream, ("id",))
    if shaped:
        fields = tuple(snake_case(field) for field in fields)
    else:  # the tap's documented rule: the default texts carry no language, their key's `lang` is "*"
        rows = [{**row, "lang": row["lang"] or "*"} if stream == "text_versions" else row for row in rows]
    return Counter(tuple(str(row[field]) for field in fields) for row in rows)


def stopped_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "part(s) failed" in line]


@pytest.mark.parametrize("variant", ["default", *ConsentmanagerApp.VARIANTS])
def test_every_variant_yields_exactly_the_ground_truth_or_stops_naming_the_assumption(sandbox, variant):
    if variant != "default":
        sandbox.set_variants("consentmanager", variant)
    # From before the simulator's history (empty reports) to today, every vendor list in full.
    cfg = config(sandbox, days_ago(sandbox, HISTORY_DAYS + 2), custom_vendors_all=True)
    run = run_tap("tap-consentmanager", cfg)
    truth = raw_rows(sandbox, cfg)

    if variant == "string-data-csv":
        assert run.returncode == 1
        assert stopped_lines(run.stderr) == [run.last_stderr_line]
        assert "cmp_report (type 1)" in run.last_stderr_line
        assert f"on {days_ago(sandbox, 1).isoformat()}: `data` is CSV text" in run.last_stderr_line
    else:
        assert run.returncode == 0, run.stderr[-2000:]
        assert stopped_lines(run.stderr) == []
    assert dict(run.counts()) == {stream: len(rows) for stream, rows in truth.items() if rows}
    for stream, rows in truth.items():
        assert key_counter(stream, run.records(stream), shaped=True) == key_counter(stream, rows, shaped=False), stream
    # custom purpose and vendor ids arrive as text, whatever JSON type the vendor used
    for (stream, field), column in TEXT_ID_FIELDS.items():
        assert [r[column] for r in run.records(stream)] == [str(row[field]) for row in truth[stream]], stream
    assert SECRET not in run.stdout + run.stderr


def test_an_empty_string_is_an_empty_report_with_one_warning_per_report(sandbox):
    sandbox.set_variants("consentmanager", "string-data-empty")
    empty_days = [days_ago(sandbox, HISTORY_DAYS + 2), days_ago(sandbox, HISTORY_DAYS + 1)]
    cfg = config(sandbox, empty_days[0], days_ago(sandbox, HISTORY_DAYS - 1))
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 0, run.stderr[-2000:]

    truth = raw_rows(sandbox, cfg)
    assert dict(run.counts()) == {stream: len(rows) for stream, rows in truth.items() if rows}
    assert len(run.records("cmp_report")) == 2 * 24  # the two days with data (24 rows a day at size 1)
    warnings = [line for line in run.stderr.splitlines() if '`"data": ""`' in line]
    named = ", ".join(day.isoformat() for day in empty_days)
    expected = {  # the consent log asks no day this old (it is clamped to the last seven days)
        "cmp_report (type 1): the vendor answered",
        "crawler_report (type 3): the vendor answered",
        "delivery_domains (type 16): the vendor answered",
        "changelog (type 18): the vendor answered",
    }
    assert len(warnings) == len(expected)
    for start in expected:
        [line] = [w for w in warnings if start in w]
        assert f"for 2 day(s): {named}; taken as no rows." in line
    # an empty day still moves the bookmark: a run ends at end_date
    assert (
        run.last_state["bookmarks"]["cmp_report"]["replication_key_value"]
        == days_ago(sandbox, HISTORY_DAYS - 1).isoformat()
    )


def test_csv_text_stops_that_report_at_its_last_complete_day_and_the_others_sync(sandbox):
    sandbox.set_variants("consentmanager", "string-data-csv")
    cfg = config(sandbox, days_ago(sandbox, 9))
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 1
    yesterday = days_ago(sandbox, 1).isoformat()
    last = run.last_stderr_line
    assert last.startswith(
        "tap-consentmanager: error: 1 part(s) failed, every other part synced: "
        f"cmp_report: cmp_report (type 1) on {yesterday}: `data` is CSV text"
    )
    assert f"its bookmark stays at {days_ago(sandbox, 2).isoformat()}" in last
    assert SECRET not in run.stdout + run.stderr

    # cmp_report: the eight days before yesterday, exactly; nothing from yesterday on
    truth = raw_rows(sandbox, cfg)
    assert len(run.records("cmp_report")) == len(truth["cmp_report"]) == 8 * 24
    assert max(r["date"] for r in run.records("cmp_report")) == days_ago(sandbox, 2).isoformat()
    # every other report and list: exactly the ground truth
    others = {stream: len(rows) for stream, rows in truth.items() if stream != "cmp_report"}
    assert {stream: n for stream, n in run.counts().items() if stream != "cmp_report"} == others
    assert others["crawler_report"] == 10 * 6 and others["changelog"] == len(truth["changelog"]) > 0
    bookmarks = run.last_state["bookmarks"]
    assert bookmarks["cmp_report"]["replication_key_value"] == days_ago(sandbox, 2).isoformat()
    for stream in ("crawler_report", "delivery_domains", "consent_log"):
        assert bookmarks[stream]["replication_key_value"][:10] == sandbox.today().isoformat(), stream

    # the next run (the vendor back to JSON) reads the report from its bookmark minus the lookback, no gap
    sandbox.set_variants("consentmanager")
    again = run_tap("tap-consentmanager", cfg, state=run.last_state)
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = raw_rows(sandbox, {**cfg, "start_date": days_ago(sandbox, 4).isoformat()})
    assert key_counter("cmp_report", again.records("cmp_report"), shaped=True) == key_counter(
        "cmp_report", resumed["cmp_report"], shaped=False
    )


def test_duplicate_keys_are_all_emitted_with_one_warning_per_day(sandbox):
    sandbox.set_variants("consentmanager", "duplicate-keys")
    cfg = config(sandbox, days_ago(sandbox, 2))
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = raw_rows(sandbox, cfg)["cmp_report"]
    assert len(run.records("cmp_report")) == len(truth)  # every row, nothing merged

    warnings = [line for line in run.stderr.splitlines() if "repeat the primary key" in line]
    assert len(warnings) == 3  # one per day
    for n in range(2, -1, -1):
        day = days_ago(sandbox, n).isoformat()
        rows = [row for row in truth if row["date"] == day]
        keys = key_counter("cmp_report", rows, shaped=False)
        repeats = len(rows) - len(keys)
        first: dict[tuple, dict] = {}
        differing: set[str] = set()
        for row in rows:
            key = tuple(str(row[field]) for field in VENDOR_KEYS["cmp_report"])
            if key in first:
                differing |= {field for field in row if row[field] != first[key][field]}
            first.setdefault(key, row)
        assert repeats > 0 and "region" in differing
        [line] = [w for w in warnings if f"cmp_report (type 1) on {day}:" in w]
        assert f"{repeats} rows repeat the primary key of an earlier row (keys affected: {repeats})" in line
        assert f"the columns that differ: {', '.join(sorted(differing))}." in line
    # the new column is kept, in _extra, on every row
    assert sorted(r["_extra"]["region"] for r in run.records("cmp_report")) == sorted(row["region"] for row in truth)


def test_custom_ids_are_text_columns(sandbox):
    sandbox.set_variants("consentmanager", "custom-ids-text")
    run = run_tap("tap-consentmanager", config(sandbox, days_ago(sandbox, 3), custom_vendors_all=True))
    assert run.returncode == 0, run.stderr[-2000:]
    schemas = run.schemas()
    for stream, column in (("custom_purposes", "id"), ("custom_vendors", "id"), ("changelog", "item_id")):
        assert "string" in schemas[stream]["schema"]["properties"][column]["type"], stream
        assert "integer" not in schemas[stream]["schema"]["properties"][column]["type"], stream
    assert [r["id"] for r in run.records("custom_purposes")] == ["c51", "c52", "c53", "c54"]
    assert {"s2789", "s2790"} <= {r["id"] for r in run.records("custom_vendors")}
    vendor_changes = [r for r in run.records("changelog") if r["datatype"] == "vendor"]
    assert vendor_changes and all(r["item_id"].startswith("c") and "_extra" not in r for r in vendor_changes)
    assert not [line for line in run.stderr.splitlines() if "Schema drift" in line]


def test_numeric_custom_ids_become_their_text(sandbox):
    sandbox.set_variants("consentmanager", "custom-ids-numeric")
    run = run_tap("tap-consentmanager", config(sandbox, days_ago(sandbox, 1)))
    assert run.returncode == 0, run.stderr[-2000:]
    assert [(r["id"], r.get("_extra")) for r in run.records("custom_purposes")] == [(str(n), None) for n in range(1, 5)]
