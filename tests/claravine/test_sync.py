"""tap-claravine against the Claravine simulator: exact rows, state, pending submissions, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.core import default_today
from tap_claravine.tap import TapClaravine
from tests.claravine.truth import expected_table_rows
from tests.support.singer import run_tap

TAP = "tap-claravine"
API_KEY = "clv-key-4f9a2b"
API_SECRET = "clv-secret-8e1d77"
TODAY = default_today()  # the run's pinned day (tests/conftest.py)
# The simulator's field name -> the column the naming rule (snake_case) gives it.
COLUMNS = {
    "Campaign Name": "campaign_name",
    "Site ID": "site_id",
    "Country": "country",
    "Launch Date": "launch_date",
    "Budget": "budget",
    "Email Name": "email_name",
    "Send Date": "send_date",
    "Audience": "audience",
    "Tracking Code": "tracking_code",
    "Post Title": "post_title",
    "Channel": "channel",
    "Boosted": "boosted",
    "Partner": "partner",
    "Landing URL": "landing_url",
    "Commission %": "commission",
}
STREAM_OF = {
    "Paid Media Campaigns": "dataset_paid_media_campaigns",
    "Email Tracking Codes": "dataset_email_tracking_codes",
    "Social Posts": "dataset_social_posts",
    "Affiliate Links": "dataset_affiliate_links",
}


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def config(sandbox, **overrides) -> dict:
    return {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "api_url": sandbox.url("claravine"),
        "start_date": day(-6),
        "end_date": day(-5),
        "retry_backoff_seconds": 0.01,
        **overrides,
    }


def app(sandbox):
    return sandbox.app("claravine")


def truth_for(sandbox, cfg: dict) -> dict:
    return app(sandbox).ground_truth(start=cfg["start_date"], end=cfg.get("end_date"), datasets=cfg.get("datasets"))


def expected_dataset_record(dataset: dict, row: dict, id_name: str | None = "CVID") -> dict:
    kinds = {field["name"]: field["type"] for field in dataset["fields"]}
    record = {"transaction_uuid": row["transactionUuid"], "row_number": row["rowNumber"]}
    for header, value in row["values"].items():
        if header == id_name:
            record["cvid"] = value
        elif kinds[header] == "number":
            record[COLUMNS[header]] = int(value) if value else None
        else:
            record[COLUMNS[header]] = value
    return record


def assert_clean(run) -> None:
    for secret in (API_KEY, API_SECRET):
        assert secret not in run.stdout
        assert secret not in run.stderr


# -- a first sync --------------------------------------------------------------------------------


def test_first_sync_yields_exactly_the_ground_truth(sandbox):
    cfg = config(sandbox)
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    truth = truth_for(sandbox, cfg)

    assert sorted(run.records("datasets"), key=lambda r: r["uuid"]) == sorted(
        ({**d, "stream_name": STREAM_OF[d["name"]]} for d in truth["datasets"]), key=lambda r: r["uuid"]
    )
    expected_tx = {
        (tx["datasetUuid"], tx["uuid"]): {
            "dataset_uuid": tx["datasetUuid"],
            "uuid": tx["uuid"],
            "name": tx["name"],
            "submitted_at": tx["submittedAt"].replace(".000Z", "+00:00"),
            "status": tx["status"],
            "row_count": tx["rowCount"],
        }
        for tx in truth["transactions"]
    }
    emitted_tx = run.records("transactions")
    assert len(emitted_tx) == len(expected_tx)
    assert {(r["dataset_uuid"], r["uuid"]): r for r in emitted_tx} == expected_tx

    expected_rows = [
        {
            "dataset_uuid": row["datasetUuid"],
            "transaction_uuid": row["transactionUuid"],
            "row_number": row["rowNumber"],
            "cvid": row["cvid"],
            "values": row["values"],
        }
        for row in truth["transaction_rows"]
    ]
    key = lambda r: (r["dataset_uuid"], r["transaction_uuid"], r["row_number"])  # noqa: E731
    assert sorted(run.records("transaction_rows"), key=key) == sorted(expected_rows, key=key)

    for dataset in truth["datasets"]:
        stream = STREAM_OF[dataset["name"]]
        expected = [
            expected_dataset_record(dataset, r)
            for r in truth["transaction_rows"]
            if r["datasetUuid"] == dataset["uuid"]
        ]
        by_position = lambda r: (r["transaction_uuid"], r["row_number"])  # noqa: E731
        assert sorted(run.records(stream), key=by_position) == sorted(expected, key=by_position), stream

    # Failed and pending submissions have no data: only complete ones are read, once per stream.
    complete = sum(1 for tx in truth["transactions"] if tx["status"] == "Complete")
    assert sum(1 for r in sandbox.requests if r.path.endswith("/data")) == 2 * complete
    assert run.counts()["transaction_rows"] == expected_table_rows(sandbox, cfg)["transaction_rows"]


#: each stream's primary key at discovery: a dataset's table is keyed by cvid where its rows carry one
DISCOVERED_KEYS = {
    "datasets": ["uuid"],
    "transactions": ["dataset_uuid", "uuid"],
    "transaction_rows": ["dataset_uuid", "transaction_uuid", "row_number"],
    "dataset_paid_media_campaigns": ["cvid"],
    "dataset_email_tracking_codes": ["cvid"],
    "dataset_social_posts": ["transaction_uuid", "row_number"],
    "dataset_affiliate_links": ["transaction_uuid", "row_number"],
}


def test_a_table_per_dataset_keyed_by_cvid_where_rows_carry_one(sandbox):
    catalog = TapClaravine(config=config(sandbox)).catalog_dict
    keys = {entry["tap_stream_id"]: list(entry["key_properties"]) for entry in catalog["streams"]}
    assert keys == DISCOVERED_KEYS
    paid = next(e for e in catalog["streams"] if e["tap_stream_id"] == "dataset_paid_media_campaigns")["schema"][
        "properties"
    ]
    assert paid["site_id"]["type"] == ["number", "null"]
    assert paid["launch_date"] == {**paid["launch_date"], "type": ["string", "null"], "format": "date"}
    assert paid["campaign_name"]["type"] == ["string", "null"]


def test_overwritten_cvids_land_once_per_cvid(sandbox):
    dataset = app(sandbox).datasets()[0]
    # a day whose update completed (one that failed has no rows to land): the ground truth picks it, not the calendar
    update_day = next(
        TODAY - dt.timedelta(days=back)
        for back in range(5, 55)
        if (first := app(sandbox).transactions(dataset, TODAY - dt.timedelta(days=back))[0]).overwrites
        and app(sandbox).status(first) == "Complete"
    )
    cfg = config(
        sandbox,
        start_date=(update_day - dt.timedelta(days=1)).isoformat(),
        end_date=update_day.isoformat(),
        datasets=[dataset.uuid],
    )
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    records = run.records("dataset_paid_media_campaigns")
    expected = expected_table_rows(sandbox, cfg)["dataset_paid_media_campaigns"]
    assert len({r["cvid"] for r in records}) == expected
    assert len(records) > expected  # the update resubmitted CVIDs of the day before
    assert set(run.counts()) == {"datasets", "transactions", "transaction_rows", "dataset_paid_media_campaigns"}


# -- incremental runs ----------------------------------------------------------------------------


def find_day_with_recent_pending(sandbox) -> dt.date:
    """A clock day on which some submission of that day or the day before is still pending.

    About one day in fifteen has none (no slow submission in those two days): pin the sandbox clock
    to a day the simulator's ground truth says has one, so the test does not depend on the calendar.
    """
    for back in range(30):
        today = sandbox.today() - dt.timedelta(days=back)
        sandbox.set_today(today)
        if app(sandbox).pending(today - dt.timedelta(days=1), today):
            return today
        sandbox.set_today(None)
    raise AssertionError("the simulator produced no recent pending submission in 30 days")


def test_state_is_one_bookmark_per_dataset_plus_its_pending_transactions(clock):
    sandbox = clock
    today = find_day_with_recent_pending(sandbox)
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    cfg = config(sandbox, start_date=yesterday, end_date=today.isoformat())
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    bookmarks = run.last_state["bookmarks"]
    partitions = bookmarks["transactions"]["partitions"]
    datasets = app(sandbox).datasets()
    assert sorted(p["context"]["dataset_uuid"] for p in partitions) == sorted(d.uuid for d in datasets)
    pending = {tx.uuid: tx for tx in app(sandbox).pending(yesterday, today)}
    assert pending  # recent slow submissions are still pending
    for partition in partitions:
        assert set(partition) == {"context", "replication_key", "replication_key_value", "pending_transactions"}
        assert partition["replication_key"] == "submitted_at"
        assert partition["replication_key_value"].startswith(today.isoformat())
        dataset_uuid = partition["context"]["dataset_uuid"]
        assert sorted(partition["pending_transactions"], key=lambda e: e["uuid"]) == sorted(
            ({"uuid": u, "day": tx.day.isoformat()} for u, tx in pending.items() if tx.dataset.uuid == dataset_uuid),
            key=lambda e: e["uuid"],
        )
    # The child streams keep no state per transaction.
    for stream in ("transaction_rows", *STREAM_OF.values()):
        assert "partitions" not in bookmarks.get(stream, {})


def test_second_run_reads_only_the_lookback_day_and_pending_transactions(sandbox):
    datasets = app(sandbox).datasets()[:2]
    cfg = config(sandbox, start_date=day(-4), end_date=day(-1), datasets=[d.uuid for d in datasets])
    first = run_tap(TAP, cfg)
    assert first.returncode == 0, first.stderr
    sandbox.requests.clear()

    second = run_tap(TAP, cfg, state=first.last_state)
    assert second.returncode == 0, second.stderr
    # Lookback 1: the last day and the one before it, and nothing earlier. (Days -4 and -3 hold no pending
    # submission on any clock day: the simulator settles one within SETTLE_DAYS. Carried pending submissions
    # are test_pending_transaction_is_emitted_with_its_rows_once_complete's.)
    assert not app(sandbox).pending(day(-4), day(-3))
    window = truth_for(sandbox, {**cfg, "start_date": day(-2)})
    expected = {tx["uuid"] for tx in window["transactions"]}
    assert sorted(r["uuid"] for r in second.records("transactions")) == sorted(expected)
    listed = sorted(
        (r.path.split("/")[3], r.query["start-date"][0]) for r in sandbox.requests if r.path.endswith("/transactions")
    )
    assert listed == sorted({(d.uuid, when) for d in datasets for when in (day(-2), day(-1))})


def find_day_with_old_pending(sandbox) -> dt.date:
    """A clock day on which some submission two or more days old (behind the lookback) is pending."""
    for back in range(5, 40):
        today = TODAY - dt.timedelta(days=back)
        sandbox.set_today(today)
        if any(
            tx.day <= today - dt.timedelta(days=2) for tx in app(sandbox).pending(today - dt.timedelta(days=5), today)
        ):
            return today
    raise AssertionError("the simulator produced no old pending submission in 35 days")


@pytest.fixture
def clock(sandbox):
    yield sandbox
    sandbox.set_today(None)


def test_pending_transaction_is_emitted_with_its_rows_once_complete(clock):
    sandbox = clock
    today = find_day_with_old_pending(sandbox)
    old_pending = [
        tx for tx in app(sandbox).pending(today - dt.timedelta(days=5), today) if tx.day <= today - dt.timedelta(days=2)
    ]
    cfg = config(
        sandbox,
        start_date=(today - dt.timedelta(days=5)).isoformat(),
        end_date=today.isoformat(),
        datasets=sorted({tx.dataset.uuid for tx in old_pending}),
    )
    first = run_tap(TAP, cfg)
    assert first.returncode == 0, first.stderr
    first_status = {r["uuid"]: r["status"] for r in first.records("transactions")}
    assert all(first_status[tx.uuid] == "Pending" for tx in old_pending)
    assert not {r["transaction_uuid"] for r in first.records("transaction_rows")} & {tx.uuid for tx in old_pending}

    later = today + dt.timedelta(days=3)  # every slow submission has settled by then
    sandbox.set_today(later)
    second = run_tap(TAP, {**cfg, "end_date": later.isoformat()}, state=first.last_state)
    assert second.returncode == 0, second.stderr
    emitted = {r["uuid"]: r for r in second.records("transactions")}
    rows = second.records("transaction_rows")
    for tx in old_pending:
        # Its day is behind the second run's window: only the state can have brought it back.
        assert tx.day < today - dt.timedelta(days=1)
        assert emitted[tx.uuid]["status"] == "Complete"
        expected = app(sandbox).rows_of(tx)
        got = sorted((r for r in rows if r["transaction_uuid"] == tx.uuid), key=lambda r: r["row_number"])
        assert [(r["row_number"], r["values"], r["cvid"]) for r in got] == [
            (e["rowNumber"], e["values"], e["cvid"]) for e in expected
        ]
        table = STREAM_OF[tx.dataset.name]
        assert len([r for r in second.records(table) if r["transaction_uuid"] == tx.uuid]) == len(expected)
    still_pending = {
        tx.uuid for tx in app(sandbox).pending(cfg["start_date"], later) if tx.dataset.uuid in cfg["datasets"]
    }
    tracked = {
        e["uuid"]
        for p in second.last_state["bookmarks"]["transactions"]["partitions"]
        for e in p["pending_transactions"]
    }
    assert tracked == still_pending
    assert not tracked & {tx.uuid for tx in old_pending}


# -- the data path, headers, faults --------------------------------------------------------------


@pytest.mark.parametrize("variants", [(), ("singular-data-path",)], ids=["nested-plural", "singular"])
def test_data_path_nested_plural_or_singular_is_found_once_and_kept(sandbox, variants):
    sandbox.set_variants("claravine", *variants)
    cfg = config(sandbox, datasets=[app(sandbox).datasets()[2].uuid])
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    truth = truth_for(sandbox, cfg)
    assert run.counts()["transaction_rows"] == len(truth["transaction_rows"]) > 0
    data = [r for r in sandbox.requests if r.path.endswith("/data")]
    nested = [r for r in data if "/transactions/" in r.path]
    singular = [r for r in data if "/transaction/" in r.path]
    assert len(nested) + len(singular) == len(data)
    if variants:  # the nested plural is asked first, once; then the singular is kept
        assert [r.status for r in nested] == [404]
        assert len(singular) == len(data) - 1 and all(r.status == 200 for r in singular)
    else:  # the documented reading: the nested plural answers, nothing else is asked
        assert singular == [] and all(r.status == 200 for r in nested)


def test_header_names_come_from_the_settings(sandbox):
    run = run_tap(TAP, config(sandbox, key_header="X-Claravine-Key"))
    assert run.returncode == 1
    assert "authentication failed: check api_key and api_secret" in run.last_stderr_line
    assert_clean(run)


@pytest.mark.parametrize("kind", ["401", "403"])
def test_refused_credentials_are_one_clear_line(sandbox, kind):
    sandbox.faults.add(kind, vendor="claravine", path="/transactions", times=-1)
    run = run_tap(TAP, config(sandbox))
    assert run.returncode == 1
    assert run.last_stderr_line.startswith("tap-claravine: error: authentication failed: check api_key and api_secret")
    assert_clean(run)


def test_transient_faults_are_retried_without_losing_rows(sandbox):
    cfg = config(sandbox, datasets=[app(sandbox).datasets()[3].uuid])
    sandbox.faults.add("429", vendor="claravine", path="/status", times=1, retry_after=0)
    sandbox.faults.add("500", vendor="claravine", path="/data", times=1)
    sandbox.faults.add("reset", vendor="claravine", path="/transactions?", times=1)
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    truth = truth_for(sandbox, cfg)
    assert run.counts()["transactions"] == len(truth["transactions"])
    assert run.counts()["transaction_rows"] == len(truth["transaction_rows"])


@pytest.mark.parametrize(
    ("kind", "expected"), [("envelope-error", "no list 'transactions'"), ("html", "not valid JSON")]
)
def test_a_body_of_another_shape_stops_the_sync_clearly(sandbox, kind, expected):
    sandbox.faults.add(kind, vendor="claravine", path="/transactions?", times=1)
    run = run_tap(TAP, config(sandbox))
    assert run.returncode == 1
    assert expected in run.last_stderr_line
    assert "/transactions?" in run.last_stderr_line
    assert_clean(run)


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"api_secret": None}, "setting api_secret is required"),
        ({"start_date": "last week"}, "start_date"),
        ({"end_date": day(-9)}, "end_date"),
        ({"secret_header": "x-api-key"}, "key_header and secret_header"),
        ({"lookback_days": -1}, "lookback_days"),
    ],
)
def test_bad_config_fails_before_any_request(sandbox, overrides, message):
    cfg = {k: v for k, v in {**config(sandbox), **overrides}.items() if v is not None}
    run = run_tap(TAP, cfg)
    assert run.returncode == 1
    assert message in run.stderr
    assert sandbox.count("claravine") == 0
    assert_clean(run)


def test_datasets_setting_limits_every_stream(sandbox):
    chosen = app(sandbox).datasets()[1]
    cfg = config(sandbox, datasets=[chosen.uuid])
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    assert set(run.counts()) == {"datasets", "transactions", "transaction_rows", "dataset_email_tracking_codes"}
    assert {r["dataset_uuid"] for r in run.records("transactions")} == {chosen.uuid}
    expected = expected_table_rows(sandbox, cfg)
    assert run.counts()["dataset_email_tracking_codes"] >= expected["dataset_email_tracking_codes"] > 0


def test_unknown_dataset_uuid_is_a_clear_error(sandbox):
    run = run_tap(TAP, config(sandbox, datasets=["00000000-0000-4000-8000-000000000000"]))
    assert run.returncode == 1
    assert (
        "setting datasets names datasets these credentials cannot read: 00000000-0000-4000-8000-000000000000"
        in run.last_stderr_line
    )


# -- drift ---------------------------------------------------------------------------------------


def test_drift_add_keeps_new_fields_in_extra_with_one_warning(sandbox):
    sandbox.settings["claravine.drift"] = "add"
    cfg = config(sandbox, datasets=[app(sandbox).datasets()[2].uuid])
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    rows = run.records("dataset_social_posts")
    assert rows
    assert all(r["_extra"] == {"Internal Note": f"note {r['row_number']}"} for r in rows)
    assert all(r["_extra"] == {"submittedBy": "api-user@example.com"} for r in run.records("transactions"))
    assert run.stderr.count("vendor field 'Internal Note' is not in the schema") == 1
    assert run.stderr.count("vendor field 'submittedBy' is not in the schema") == 1


def test_drift_retype_and_remove_lose_nothing(sandbox):
    cfg = config(sandbox, datasets=[app(sandbox).datasets()[3].uuid])
    sandbox.settings["claravine.drift"] = "retype"
    retyped = run_tap(TAP, cfg)
    assert retyped.returncode == 0, retyped.stderr
    assert all(
        r["row_count"] is None and r["_extra"] == {"rowCount": "unknown"} for r in retyped.records("transactions")
    )
    assert retyped.stderr.count("vendor field 'rowCount' does not fit") == 1

    sandbox.settings["claravine.drift"] = "remove"
    removed = run_tap(TAP, cfg)
    assert removed.returncode == 0, removed.stderr
    assert all(r.get("row_count") is None for r in removed.records("transactions"))
    assert removed.counts()["transactions"] == len(truth_for(sandbox, cfg)["transactions"])
