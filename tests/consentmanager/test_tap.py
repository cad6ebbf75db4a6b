"""tap-consentmanager against the simulator: exact records, incremental windows, vendor errors."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.consentmanager.truth import raw_rows
from tests.support.singer import run_tap

SECRET = "cm-sentinel-Key-8f2e"
FAST_RETRIES = {"retry_backoff_seconds": 0.01, "retry_max_attempts": 3}


def config(sandbox, days_back: int = 9, **overrides) -> dict:
    return {
        "api_key": SECRET,
        "start_date": (sandbox.today() - dt.timedelta(days=days_back)).isoformat(),
        "api_url": sandbox.url("consentmanager"),
        **FAST_RETRIES,
        **overrides,
    }


def requested_days(sandbox, data_type: int) -> list[str]:
    """The days asked of a report, in day order (days are fetched several at once: they arrive in any order)."""
    return sorted(
        r.query["from"][0]
        for r in sandbox.requests
        if r.vendor == "consentmanager" and r.query.get("type") == [str(data_type)]
    )


def test_full_sync_emits_exactly_the_ground_truth(sandbox):
    cfg = config(sandbox)
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = raw_rows(sandbox, cfg)
    assert dict(run.counts()) == {stream: len(rows) for stream, rows in truth.items() if rows}
    assert set(truth) == set(run.schemas())  # all 17 streams, and only them

    # numbers sent as strings arrive typed; names arrive snake_case
    report = {
        (
            r["date"],
            r["hour"],
            r["cmp_id"],
            r["url_id"],
            r["os_id"],
            r["ua_id"],
            r["device_id"],
            r["country"],
            r["design_id"],
        ): r
        for r in run.records("cmp_report")
    }
    for raw in truth["cmp_report"]:
        key = (
            raw["date"],
            int(raw["hour"]),
            int(raw["cmpID"]),
            int(raw["urlID"]),
            int(raw["osID"]),
            int(raw["uaID"]),
            int(raw["deviceID"]),
            raw["country"],
            int(raw["designID"]),
        )
        assert report[key]["page_view"] == int(raw["pageView"])
        assert report[key]["consent_reject"] == int(raw["consentReject"])
    # "YYYY-MM-DD hh:mm:ss" becomes an ISO date-time in UTC; nested objects stay objects
    changes = {r["id"]: r for r in run.records("changelog")}
    for raw in truth["changelog"]:
        record = changes[int(raw["id"])]
        assert record["changedate"] == raw["changedate"].replace(" ", "T") + "+00:00"
        assert record["new_data"] == raw["newData"]
    assert {r["id"] for r in run.records("consent_log")} == {int(raw["id"]) for raw in truth["consent_log"]}
    # types 2 and 4 are retired: never requested
    assert not [r for r in sandbox.requests if r.query.get("type") in (["2"], ["4"])]


def test_one_request_per_day_and_a_second_run_rereads_only_the_lookback(sandbox):
    cfg = config(sandbox, days_back=9)
    first = run_tap("tap-consentmanager", cfg)
    assert first.returncode == 0, first.stderr[-2000:]
    today = sandbox.today()
    all_days = [(today - dt.timedelta(days=n)).isoformat() for n in range(9, -1, -1)]
    assert requested_days(sandbox, 1) == all_days
    assert first.last_state["bookmarks"]["cmp_report"]["replication_key_value"] == today.isoformat()

    sandbox.requests.clear()
    second = run_tap("tap-consentmanager", cfg, state=first.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    lookback_days = all_days[-3:]  # lookback_days=2: the bookmark day and the two before it
    for data_type in (1, 3, 16, 18, 19):
        assert requested_days(sandbox, data_type) == lookback_days
    truth = raw_rows(sandbox, {**cfg, "start_date": lookback_days[0]})
    assert len(second.records("cmp_report")) == len(truth["cmp_report"])
    assert len(second.records("consent_log")) == len(truth["consent_log"])


def test_interrupted_run_resumes_at_the_last_completed_day(sandbox):
    cfg = config(sandbox, days_back=9)
    completed = (sandbox.today() - dt.timedelta(days=5)).isoformat()
    state = {"bookmarks": {"cmp_report": {"replication_key": "date", "replication_key_value": completed}}}
    run = run_tap("tap-consentmanager", cfg, state=state)
    assert run.returncode == 0, run.stderr[-2000:]
    assert requested_days(sandbox, 1)[0] == (sandbox.today() - dt.timedelta(days=7)).isoformat()
    # each fully emitted day is committed to state before the next day starts
    days_in_states = [
        m["value"]["bookmarks"]["cmp_report"]["replication_key_value"]
        for m in run.messages
        if m["type"] == "STATE" and "cmp_report" in m["value"]["bookmarks"]
    ]
    assert days_in_states == sorted(days_in_states)


def test_consent_log_is_clamped_to_seven_days_with_one_warning(sandbox):
    cfg = config(sandbox, days_back=20)
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 0, run.stderr[-2000:]
    today = sandbox.today()
    assert requested_days(sandbox, 19) == [(today - dt.timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    lost_first, lost_last = (today - dt.timedelta(days=20)).isoformat(), (today - dt.timedelta(days=7)).isoformat()
    warnings = [line for line in run.stderr.splitlines() if "can no longer be fetched" in line]
    assert len(warnings) == 1
    assert lost_first in warnings[0] and lost_last in warnings[0]


def test_custom_vendors_all_asks_for_every_vendor(sandbox):
    run = run_tap("tap-consentmanager", config(sandbox, days_back=1, custom_vendors_all=True))
    assert run.returncode == 0, run.stderr[-2000:]
    truth = sandbox.app("consentmanager").ground_truth(start=sandbox.today(), custom_vendors_all=True)
    assert len(run.records("custom_vendors")) == len(truth["custom_vendors"]) == 12
    assert [r.query.get("all") for r in sandbox.requests if r.query.get("type") == ["9"]] == [["1"]]


def test_envelope_error_shows_the_vendor_message(sandbox):
    sandbox.faults.add("envelope-error", vendor="consentmanager", path="type=5")
    run = run_tap("tap-consentmanager", config(sandbox, days_back=1))
    assert run.returncode == 1
    assert "internal limit reached" in run.last_stderr_line
    assert "consentmanager.net" in run.last_stderr_line
    assert SECRET not in run.stdout + run.stderr


def test_authentication_failure_names_the_setting(sandbox):
    sandbox.faults.add("401", vendor="consentmanager", times=-1)
    run = run_tap("tap-consentmanager", config(sandbox, days_back=1))
    assert run.returncode == 1
    assert "authentication failed: check api_key" in run.last_stderr_line
    assert run.records() == []
    assert SECRET not in run.stdout + run.stderr


def test_the_key_in_the_query_string_is_never_printed(sandbox):
    sandbox.faults.add("503", vendor="consentmanager", times=-1)
    run = run_tap("tap-consentmanager", config(sandbox, days_back=1))
    assert run.returncode == 1
    assert "failed after 3 attempts: HTTP 503" in run.last_stderr_line
    assert "GET /consentmanager/api/data.php failed after" in run.last_stderr_line  # the path: no query, no key
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start_date": None}, "start_date"),
        ({"start_date": "22/11/2026"}, "start_date"),
        ({"end_date": "2020-01-01"}, "end_date"),
        ({"api_key": None}, "api_key"),
    ],
)
def test_bad_config_fails_before_any_request(sandbox, overrides, message):
    cfg = {k: v for k, v in {**config(sandbox), **overrides}.items() if v is not None}
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode != 0
    assert message in run.stderr
    assert sandbox.count("consentmanager") == 0


def test_new_column_is_kept_in_extra_with_one_warning(sandbox):
    sandbox.settings["consentmanager.drift"] = "add"
    run = run_tap("tap-consentmanager", config(sandbox, days_back=2))
    assert run.returncode == 0, run.stderr[-2000:]
    records = run.records("cmp_report")
    assert records and all("bounce_rate" not in r and "bounceRate" in r["_extra"] for r in records)
    assert sum("'bounceRate'" in line for line in run.stderr.splitlines()) == 1


def test_retyped_value_goes_to_extra_and_its_column_is_null(sandbox):
    sandbox.settings["consentmanager.drift"] = "retype"
    run = run_tap("tap-consentmanager", config(sandbox, days_back=1))
    assert run.returncode == 0, run.stderr[-2000:]
    records = run.records("cmp_report")
    assert records and all(r["page_view"] is None and r["_extra"] == {"pageView": "many"} for r in records)


def test_removed_column_does_not_break_the_sync(sandbox):
    sandbox.settings["consentmanager.drift"] = "remove"
    cfg = config(sandbox, days_back=1)
    run = run_tap("tap-consentmanager", cfg)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("cmp_report")) == len(raw_rows(sandbox, cfg)["cmp_report"])
    assert all("consent_reject" not in r for r in run.records("cmp_report"))
