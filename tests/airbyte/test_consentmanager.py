"""source-consentmanager read against the simulator: exact counts, resuming, sync modes, errors."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_consentmanager.tap import TapConsentmanager
from tests.airbyte.protocol import SourceRun, configured_catalog, run_in_process
from tests.airbyte.sources import SECRET, days_ago
from tests.consentmanager.truth import raw_rows


def read(**inputs: t.Any) -> SourceRun:
    """A read in-process (the console script itself is exercised in test_sources.py)."""
    return run_in_process(TapConsentmanager, "read", **inputs)


#: a report whose requests keep failing fails alone (tapkit.isolation)
FAILED_ALONE = "1 part(s) failed, every other part synced: crawler_report: "
DATA_REQUEST = "consentmanager.net: GET /consentmanager/api/data.php?key=***"
REPORTS = ["changelog", "cmp_report", "consent_log", "crawler_report", "delivery_domains"]
LOOKBACK_DAYS = 2


@pytest.fixture
def config(sandbox) -> dict:
    return {
        "api_key": SECRET,
        "start_date": days_ago(4),
        "lookback_days": LOOKBACK_DAYS,
        "api_url": sandbox.url("consentmanager"),
        "retry_backoff_seconds": 0,
    }


def test_read_emits_every_vendor_row_of_the_selected_streams(sandbox, config) -> None:
    selected = {
        "changelog": "incremental",
        "cmp_report": "incremental",
        "consent_log": "incremental",
        "text_versions": "full_refresh",
    }
    run = read(config=config, catalog=configured_catalog(selected))
    assert run.returncode == 0
    truth = raw_rows(sandbox, config)
    assert run.counts() == {name: len(truth[name]) for name in selected}
    assert {record["id"] for record in run.records("changelog")} == {int(row["id"]) for row in truth["changelog"]}
    assert sandbox.count("consentmanager") == 3 * 5 + 1  # one request per day of the three reports, one list
    emitted_at = [message.record.emitted_at for message in run.messages if message.record]
    assert all(abs(stamp / 1000 - dt.datetime.now().timestamp()) < 300 for stamp in emitted_at)


def test_a_read_given_the_earlier_state_rereads_only_the_lookback_days(sandbox, config) -> None:
    catalog = configured_catalog({name: "incremental" for name in REPORTS} | {"cmps": "full_refresh"})
    first = read(config=config, catalog=catalog)
    assert first.returncode == 0
    today = sandbox.today()
    for name in REPORTS:
        assert first.bookmarks()[name]["replication_key_value"][:10] == today.isoformat()

    second = read(config=config, catalog=catalog, state=first.final_state())
    assert second.returncode == 0
    recent = raw_rows(sandbox, {"start_date": (today - dt.timedelta(days=LOOKBACK_DAYS)).isoformat()})
    assert second.counts() == {name: len(recent[name]) for name in REPORTS} | {"cmps": 3}
    assert second.counts()["cmp_report"] < first.counts()["cmp_report"]
    assert sandbox.count("consentmanager") == 2 * (5 * 5 + 1) - 5 * 2  # the second read skips two days per report


def test_full_refresh_ignores_the_state_of_an_incremental_stream(sandbox, config) -> None:
    incremental = configured_catalog({"crawler_report": "incremental"})
    first = read(config=config, catalog=incremental)
    full = configured_catalog({"crawler_report": "full_refresh"})
    second = read(config=config, catalog=full, state=first.final_state())
    assert second.returncode == 0
    assert second.counts() == first.counts() == {"crawler_report": len(raw_rows(sandbox, config)["crawler_report"])}


def test_state_messages_are_per_stream_and_count_the_records_they_cover(sandbox, config) -> None:
    run = read(config=config, catalog=configured_catalog({"crawler_report": "incremental", "cmps": "full_refresh"}))
    states = run.state_messages()
    assert {state.type.value for state in states} == {"STREAM"}
    covered: dict[str, float] = {}
    for state in states:
        name = state.stream.stream_descriptor.name
        covered[name] = covered.get(name, 0) + state.sourceStats.recordCount
    assert covered == {name: float(count) for name, count in run.counts().items()}
    assert run.bookmarks()["crawler_report"] == {
        "replication_key": "date",
        "replication_key_value": sandbox.today().isoformat(),
    }


def test_incremental_asked_of_a_stream_without_cursor_reads_it_whole(sandbox, config) -> None:
    # PyAirbyte asks every stream incremental; Airbyte's CDK reads a stream without cursor whole.
    run = read(config=config, catalog=configured_catalog({"cmps": "incremental", "devices": "incremental"}))
    assert run.returncode == 0
    truth = raw_rows(sandbox, config)
    assert run.counts() == {"cmps": len(truth["cmps"]), "devices": len(truth["devices"])}


def test_a_singer_state_is_accepted_as_legacy_state(sandbox, config) -> None:
    yesterday = (sandbox.today() - dt.timedelta(days=1)).isoformat()
    singer_state = {"bookmarks": {"crawler_report": {"replication_key": "date", "replication_key_value": yesterday}}}
    run = read(config=config, catalog=configured_catalog({"crawler_report": "incremental"}), state=singer_state)
    assert run.returncode == 0
    start = (sandbox.today() - dt.timedelta(days=1 + LOOKBACK_DAYS)).isoformat()
    assert run.counts()["crawler_report"] == len(raw_rows(sandbox, {"start_date": start})["crawler_report"])


def test_drift_is_kept_in_extra_and_logged_once(sandbox, config) -> None:
    sandbox.settings["consentmanager.drift"] = "add"
    run = read(config=config, catalog=configured_catalog({"cmp_report": "incremental"}))
    assert run.returncode == 0
    records = run.records("cmp_report")
    assert len(records) == len(raw_rows(sandbox, config)["cmp_report"])
    assert all(set(record["_extra"]) == {"bounceRate"} for record in records)
    warnings = [
        m.log.message for m in run.messages if m.log and m.log.level.value == "WARN" and "bounceRate" in m.log.message
    ]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    ("fault", "failure_type", "message_start"),
    [
        ("401", "config_error", "authentication failed: check api_key"),
        (
            "503",
            "transient_error",
            f"{FAILED_ALONE}consentmanager.net: GET /consentmanager/api/data.php failed after 2 attempts",
        ),
        ("envelope-error", "system_error", f"{FAILED_ALONE}{DATA_REQUEST}"),
    ],
)
def test_a_failed_read_ends_with_one_trace_error_and_exit_1(
    sandbox, config, fault, failure_type, message_start
) -> None:
    sandbox.faults.add(fault, vendor="consentmanager", path="type=3", times=-1)
    catalog = configured_catalog({"cmps": "full_refresh", "crawler_report": "incremental"})
    run = read(config=config | {"retry_max_attempts": 2}, catalog=catalog)
    assert run.returncode == 1
    (error,) = run.errors()
    assert error.failure_type.value == failure_type
    assert error.message.startswith(message_start)
    assert SECRET not in run.stdout + run.stderr
    assert run.statuses("crawler_report") == ["STARTED", "INCOMPLETE"]
    assert run.counts() == {"cmps": 3}
    if message_start.startswith(FAILED_ALONE):  # the report failed alone: the list synced whole
        assert run.statuses("cmps")[-1] == "COMPLETE"


@pytest.mark.parametrize(
    ("catalog", "state", "message"),
    [
        (
            configured_catalog({"consents": "full_refresh"}),
            None,
            "the catalog asks for stream 'consents', which this source does not have",
        ),
        (
            configured_catalog({"cmps": "full_refresh"}),
            [{"type": "GLOBAL"}],
            "the state holds a message this source cannot resume from",
        ),
    ],
)
def test_bad_catalog_or_state_is_a_config_error_before_any_request(sandbox, config, catalog, state, message) -> None:
    run = read(config=config, catalog=catalog, state=state)
    assert run.returncode == 1
    (error,) = run.errors()
    assert error.failure_type.value == "config_error"
    assert error.message.startswith(message)
    assert sandbox.count("consentmanager") == 0


def test_bad_config_on_read_is_a_config_error_naming_the_setting(sandbox, config) -> None:
    run = read(config=config | {"lookback_days": "two"}, catalog=configured_catalog({"cmps": "full_refresh"}))
    assert run.returncode == 1
    (error,) = run.errors()
    assert error.failure_type.value == "config_error"
    assert error.message == 'invalid config: setting lookback_days must be a whole number, got "two" (a text)'
    assert sandbox.count("consentmanager") == 0


def test_a_report_answered_as_csv_stops_alone_and_the_read_ends_with_one_trace_error(sandbox, config) -> None:
    sandbox.set_variants("consentmanager", "string-data-csv")  # type 1 answers CSV text from yesterday on
    catalog = configured_catalog({"cmp_report": "incremental", "crawler_report": "incremental", "cmps": "full_refresh"})
    run = read(config=config, catalog=catalog)
    assert run.returncode == 1
    (error,) = run.errors()
    assert error.failure_type.value == "system_error"
    assert error.message.startswith(
        "1 part(s) failed, every other part synced: "
        f"cmp_report: cmp_report (type 1) on {days_ago(1)}: `data` is CSV text"
    )
    truth = raw_rows(sandbox, config)  # cmp_report: the days before yesterday only
    assert run.counts() == {
        "cmp_report": len(truth["cmp_report"]),
        "crawler_report": len(truth["crawler_report"]),
        "cmps": 3,
    }
    assert run.bookmarks()["cmp_report"]["replication_key_value"] == days_ago(2)
    assert run.bookmarks()["crawler_report"]["replication_key_value"] == days_ago(0)
    assert error.stream_descriptor.name == "cmp_report"
    assert run.statuses("cmp_report")[-1] == "INCOMPLETE"
    assert run.statuses("crawler_report")[-1] == run.statuses("cmps")[-1] == "COMPLETE"
    assert SECRET not in run.stdout + run.stderr
