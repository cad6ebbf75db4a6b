"""tap-didomi against the Didomi simulator: exact rows for every stream, sessions, rate budget, Consents API,
bucket partitions (every file, late files, incomplete partitions), variants and bad input."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest

from sandbox.didomi import (
    BUCKET,
    EXPORT_TYPES,
    LATE_DAY,
    ORGANIZATION,
    PREFIX,
    REST_STREAMS,
    STREAM_OF_TYPE,
    DidomiApp,
)
from tap_didomi.api import host_root
from tests.didomi.support import API_KEY, API_SECRET, TAP, config, key_of, truth
from tests.support.singer import run_tap

CONFIGURATION = tuple(REST_STREAMS)  # the configuration lists, whole every run
ZULU_MILLIS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.000Z$")


def as_loaded(value: object) -> object:
    """A simulator value as the tap's column holds it: date-times in UTC are written `+00:00`."""
    if isinstance(value, str):
        match = ZULU_MILLIS.match(value)
        if match:
            return match.group(1) + "+00:00"
    return value


def by_key(stream: str, rows: list[dict]) -> dict[tuple, dict]:
    keyed = {}
    for row in rows:
        loaded = {name: as_loaded(value) for name, value in row.items() if name != "_extra"}
        keyed[key_of(stream, loaded)] = loaded
    return keyed


def assert_exact(run, expected: dict[str, list[dict]], streams: tuple[str, ...] | None = None) -> None:
    for stream in streams or tuple(expected):
        records = run.records(stream)
        assert len(records) == len(expected[stream]), stream
        assert by_key(stream, records) == by_key(stream, expected[stream]), stream


def app(sandbox) -> DidomiApp:
    return sandbox.app("didomi")


def test_every_stream_matches_the_ground_truth(sandbox):
    settings = config(sandbox)
    run = run_tap(TAP, settings)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = truth(sandbox, start_date=settings["start_date"])
    assert set(run.counts()) == set(expected)
    assert all(expected.values()), {stream: len(rows) for stream, rows in expected.items()}
    assert_exact(run, expected)


def didomi_requests(sandbox, path: str) -> list:
    return [request for request in sandbox.requests if request.vendor == "didomi" and request.path == path]


def test_regulations_are_the_compliance_apis_every_one_with_its_release_status(sandbox):
    run = run_tap(TAP, config(sandbox, export_bucket_url=None, consents_api=False))
    assert run.returncode == 0, run.stderr[-2000:]
    expected = truth(sandbox)
    assert_exact(run, expected, ("regulations",))
    statuses = {row["release_status"] for row in expected["regulations"]}
    assert "stable" in statuses and len(statuses) > 1  # the table keeps the regulations not (or no longer) stable
    assert {record["release_status"] for record in run.records("regulations")} == statuses
    (asked,) = didomi_requests(sandbox, "/compliance/v1/regulations")  # at the host root, beside /v1; not paged
    assert asked.status == 200
    assert asked.query == {}  # no organization (the list is Didomi's), no $limit, no releaseStatus filter
    assert sandbox.count("didomi", "/metadata/regulations") == 0


def test_a_compliance_api_that_refuses_the_unfiltered_request_gives_the_stable_regulations(sandbox):
    sandbox.set_variants("didomi", "regulations-filter-required")
    run = run_tap(TAP, config(sandbox, export_bucket_url=None, consents_api=False))
    assert run.returncode == 0, run.stderr[-2000:]
    everything = app(sandbox).rest_rows("regulations")
    expected = truth(sandbox)
    assert 0 < len(expected["regulations"]) < len(everything)
    assert_exact(run, expected, ("regulations",))
    assert {record["release_status"] for record in run.records("regulations")} == {"stable"}
    asked = didomi_requests(sandbox, "/compliance/v1/regulations")
    assert [(request.status, request.query) for request in asked] == [
        (400, {}),
        (200, {"$search[releaseStatus]": ["stable"]}),
    ]
    assert "/compliance/v1/regulations answered 400: asking the stable regulations only" in run.stderr


def test_regulations_answered_in_pages_are_paged_on(sandbox):
    sandbox.settings["didomi.regulations_page"] = 1
    run = run_tap(TAP, config(sandbox, export_bucket_url=None, consents_api=False))
    assert run.returncode == 0, run.stderr[-2000:]
    expected = truth(sandbox)
    assert_exact(run, expected, ("regulations",))
    asked = didomi_requests(sandbox, "/compliance/v1/regulations")
    # one row per answer: the first asked no $limit, each next one skips the rows received, until the total
    assert len(asked) == len(expected["regulations"])
    assert [request.query.get("$skip") for request in asked] == [None] + [[str(skip)] for skip in range(1, len(asked))]


def test_vendors_are_the_organizations_data_manager_list(sandbox):
    run = run_tap(TAP, config(sandbox, export_bucket_url=None, consents_api=False))
    assert run.returncode == 0, run.stderr[-2000:]
    expected = truth(sandbox)
    assert_exact(run, expected, ("vendors",))
    assert sandbox.count("didomi", "/metadata/partners") >= 1
    assert sandbox.count("didomi", "/metadata/vendors") == 0  # Didomi's URL-matching directory is not read
    owners = {record["owner_organization_id"] for record in run.records("vendors")}
    assert owners == {None, ORGANIZATION}  # custom vendors are the organization's, IAB/Google/global ones nobody's
    assert all(record["organization_id"] == ORGANIZATION for record in run.records("vendors"))
    assert any(record["spi_purposes_id"] for record in run.records("vendors"))


@pytest.mark.parametrize("variant", [None, "numeric-ids-at-root"])
def test_numeric_ids_are_asked_under_api_url_then_at_the_host_root_on_404(sandbox, variant):
    if variant:
        sandbox.set_variants("didomi", variant)
    run = run_tap(TAP, config(sandbox, export_bucket_url=None, consents_api=False))
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact(run, truth(sandbox), ("vendor_numeric_ids", "purpose_numeric_ids"))
    for path in ("/metadata/numeric-partners", "/metadata/numeric-purposes"):
        under_v1 = [request.status for request in didomi_requests(sandbox, "/v1" + path)]
        at_root = [request.status for request in didomi_requests(sandbox, path)]
        if variant:
            assert (under_v1, at_root) == ([404], [200]), path  # one 404, then every page at the root
            assert f"{path} answered 404: asking {path} at the host root" in run.stderr
        else:
            assert (under_v1, at_root) == ([200], []), path


@pytest.mark.parametrize(
    ("api_url", "root"),
    [
        ("https://api.didomi.io/v1", "https://api.didomi.io"),
        ("https://api.didomi.io/v1/", "https://api.didomi.io"),
        ("https://proxy.example/didomi/v1", "https://proxy.example/didomi"),
        ("https://proxy.example/didomi", "https://proxy.example/didomi"),
        ("https://proxy.example/v10", "https://proxy.example/v10"),
    ],
)
def test_the_host_root_is_api_url_without_its_trailing_v1(api_url, root):
    assert host_root(api_url) == root


def test_an_api_url_without_v1_is_its_own_host_root(sandbox):
    run = run_tap(TAP, config(sandbox, api_url=sandbox.url("didomi"), export_bucket_url=None, consents_api=False))
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact(run, truth(sandbox), CONFIGURATION)
    assert [request.status for request in didomi_requests(sandbox, "/compliance/v1/regulations")] == [200]
    assert not [
        request for request in sandbox.requests if request.vendor == "didomi" and request.path.startswith("/v1")
    ]


def test_exports_carry_their_export_id_and_partition_date_and_keep_nested_objects(sandbox):
    run = run_tap(TAP, config(sandbox))
    user = run.records("export_users")[0]
    assert user["export_id"] in EXPORT_TYPES
    dt.date.fromisoformat(user["partition_date"])
    assert isinstance(user["consents"], dict) and isinstance(user["consents"]["purposes"], list)
    assert isinstance(run.records("export_events")[0]["user"], dict)


def test_every_file_of_a_partition_is_read_and_nothing_else(sandbox):
    settings = config(sandbox)
    run = run_tap(TAP, settings)
    assert run.returncode == 0, run.stderr[-2000:]
    start = dt.date.fromisoformat(settings["start_date"])
    fetched = sorted(
        unquote(request.path.split(f"/s3/{BUCKET}/", 1)[1])
        for request in sandbox.requests
        if request.vendor == "didomi" and request.method == "GET" and request.path.startswith(f"/s3/{BUCKET}/")
    )
    data_files = sorted(
        f"{PREFIX}/export-id={export_id}/date={day}/{kind}/{name}"
        for export_id, kinds in EXPORT_TYPES.items()
        for day in app(sandbox).export_days()
        if app(sandbox).complete(day) and day >= start
        for kind in kinds
        for name, _index in app(sandbox).partition_files(export_id, day, kind)
    )
    names = {path.rsplit("/", 1)[1].split("-")[0] for path in data_files}
    assert len(names) >= 2  # the simulator's partitions hold files of unrelated names
    assert fetched == data_files  # each data file once; no _SUCCESS, no README, no partition still being written


def test_a_partition_still_being_written_waits_for_a_later_run(sandbox):
    today = sandbox.today()
    run = run_tap(TAP, config(sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    assert today.isoformat() not in {record["partition_date"] for record in run.records("export_users")}
    bookmarks = run.last_state["bookmarks"]["export_users"]["partitions"]
    assert {entry["replication_key_value"] for entry in bookmarks} == {(today - dt.timedelta(days=1)).isoformat()}
    assert "has no _SUCCESS yet" in run.stderr


def test_without_start_date_the_first_run_reads_from_30_days_before_today(sandbox):
    """The README's default: 30 days before today (UTC). The bucket holds fewer days, so the listing shows
    the first day asked for (each export is listed after the keys of the day before it)."""
    settings = {key: value for key, value in config(sandbox).items() if key != "start_date"}
    run = run_tap(TAP, settings)
    assert run.returncode == 0, run.stderr[-2000:]
    first_day = sandbox.today() - dt.timedelta(days=30)
    assert_exact(run, truth(sandbox, start_date=first_day.isoformat()), tuple(STREAM_OF_TYPE.values()))
    listed_after = {
        after
        for request in sandbox.requests
        if request.vendor == "didomi" and request.path == f"/s3/{BUCKET}"
        for after in request.query.get("start-after", [])
    }
    day_before = (first_day - dt.timedelta(days=1)).isoformat()
    assert listed_after == {f"{PREFIX}/export-id={export_id}/date={day_before}/~" for export_id in EXPORT_TYPES}


def test_a_late_file_within_the_lookback_is_picked_up_on_the_next_run(sandbox):
    settings = config(sandbox, lookback_days=LATE_DAY)
    first = run_tap(TAP, settings)
    assert first.returncode == 0, first.stderr[-2000:]
    sandbox.settings["didomi.late_file"] = True
    second = run_tap(TAP, settings, state=first.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    expected = truth(sandbox, start_date=settings["start_date"])
    late_day = (sandbox.today() - dt.timedelta(days=LATE_DAY)).isoformat()
    for stream in ("export_users", "cmp_hourly_metrics"):
        loaded = by_key(stream, first.records(stream)) | by_key(stream, second.records(stream))
        assert loaded == by_key(stream, expected[stream]), stream
        late = [row for row in second.records(stream) if row["partition_date"] == late_day]
        assert len(late) > len([row for row in first.records(stream) if row["partition_date"] == late_day])
    # the second run re-read only the lookback days
    assert {row["partition_date"] for row in second.records("export_users")} <= {
        (sandbox.today() - dt.timedelta(days=back)).isoformat() for back in range(1, LATE_DAY + 2)
    }


def test_the_access_token_is_renewed_before_it_expires_mid_run(sandbox):
    sandbox.settings["didomi.token_ttl"] = 2.0
    sandbox.latency = 0.15  # the REST part of the run outlasts two tokens
    settings = config(sandbox, export_bucket_url=None, max_concurrency=1)
    run = run_tap(TAP, settings)
    assert run.returncode == 0, run.stderr[-2000:]
    sessions = sandbox.count("didomi", "/sessions")
    assert sessions >= 2, sessions
    assert not [r for r in sandbox.requests if r.vendor == "didomi" and r.status == 401]  # renewed before expiry
    assert "access token renewed" in run.stderr
    expected = truth(sandbox)
    assert_exact(run, expected, CONFIGURATION)
    assert_exact(run, expected, ("consent_users", "consent_events"))


def test_a_token_without_a_readable_expiry_is_renewed_on_401_and_the_request_asked_again(sandbox):
    sandbox.set_variants("didomi", "opaque-token")
    sandbox.settings["didomi.token_ttl"] = 1.0
    sandbox.latency = 0.15
    run = run_tap(TAP, config(sandbox, export_bucket_url=None, max_concurrency=1))
    assert run.returncode == 0, run.stderr[-2000:]
    refused = [r for r in sandbox.requests if r.vendor == "didomi" and r.status == 401]
    assert refused, "the token never expired mid-run: the test proves nothing"
    assert sandbox.count("didomi", "/sessions") == len(refused) + 1  # one renewal per expiry
    expected = truth(sandbox)
    assert_exact(run, expected, CONFIGURATION)
    assert_exact(run, expected, ("consent_users", "consent_events"))


def test_the_rate_limit_headers_keep_the_run_within_the_budget(sandbox):
    sandbox.settings["didomi.rate_budget"] = {"limit": 6, "window": 1.0, "headers": "ietf"}
    sandbox.settings["didomi.max_limit"] = 2  # small pages: many requests
    run = run_tap(TAP, config(sandbox, export_bucket_url=None, consents_api=False, page_size=2))
    assert run.returncode == 0, run.stderr[-2000:]
    statuses = [r.status for r in sandbox.requests if r.vendor == "didomi"]
    assert len(statuses) > 12  # more than two windows' worth
    assert 429 not in statuses
    assert_exact(run, truth(sandbox), CONFIGURATION)


def test_consents_api_off_asks_nothing_of_it(sandbox):
    run = run_tap(TAP, config(sandbox, consents_api=False))
    assert run.returncode == 0, run.stderr[-2000:]
    assert sandbox.count("didomi", "/consents/") == 0
    assert not run.records("consent_users") and not run.records("consent_events")


@pytest.mark.parametrize("variant", [None, "consents-missing-404"])
def test_an_account_without_the_consents_api_gets_one_line_and_every_other_stream(sandbox, variant):
    if variant:
        sandbox.set_variants("didomi", variant)
    sandbox.settings["didomi.consents_product"] = False
    settings = config(sandbox)
    run = run_tap(TAP, settings)
    assert run.returncode == 1
    assert "the Consents API is not enabled for organization sandbox-org" in run.last_stderr_line
    assert "Traceback" not in run.stderr
    expected = truth(sandbox, start_date=settings["start_date"])
    others = tuple(stream for stream in expected if not stream.startswith("consent_"))
    assert_exact(run, expected, others)


@pytest.mark.parametrize("variant", sorted(DidomiApp.VARIANTS))
def test_every_variant_syncs_exactly(sandbox, variant):
    sandbox.set_variants("didomi", variant)
    settings = config(sandbox)
    run = run_tap(TAP, settings)
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact(run, truth(sandbox, start_date=settings["start_date"]))


def test_configured_export_ids_are_the_only_partitions(sandbox):
    settings = config(sandbox, export_ids=["analytics-2c91"])
    run = run_tap(TAP, settings)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = truth(sandbox, start_date=settings["start_date"], export_ids=["analytics-2c91"])
    assert not run.records("export_users")
    assert_exact(run, expected, ("cmp_hourly_metrics",))


def test_no_credential_lands_in_records_state_or_logs(sandbox):
    run = run_tap(TAP, config(sandbox))
    assert run.returncode == 0
    issued = list(app(sandbox)._tokens)  # the simulator's own ledger of issued tokens
    assert issued
    for secret in (API_KEY, API_SECRET, *issued):
        assert secret not in run.stdout
        assert secret not in run.stderr


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"organization_id": None}, "organization_id"),
        ({"organization_id": " "}, "setting organization_id must be your Didomi organization ID"),
        ({"export_bucket_url": "didomi-exports/data"}, "setting export_bucket_url must be s3://"),
        ({"lookback_days": -1}, "setting lookback_days must be 0 or more"),
        ({"export_ids": [""]}, "setting export_ids must be a list of export IDs"),
        ({"api_secret": ""}, "api_secret"),
    ],
)
def test_bad_config_is_one_clear_line(sandbox, change, line):
    settings = {key: value for key, value in {**config(sandbox), **change}.items() if value is not None}
    run = run_tap(TAP, settings)
    assert run.returncode != 0
    assert line in run.last_stderr_line
    assert "Traceback" not in run.stderr
    assert API_SECRET not in run.stderr


def test_an_unknown_bucket_is_one_clear_line(sandbox):
    run = run_tap(TAP, config(sandbox, export_bucket_url="s3://no-such-bucket/data"))
    assert run.returncode != 0
    assert "no such bucket" in run.last_stderr_line
    assert "Traceback" not in run.stderr
