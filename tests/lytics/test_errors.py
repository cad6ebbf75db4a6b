"""Bad settings and vendor errors end on one clear line, non-zero, without leaking the token."""

from __future__ import annotations

import typing as t

import pytest

from tap_lytics.identity import MemberKey
from tap_lytics.tap import TapLytics
from tapkit import ConfigError, VendorResponseError
from tests.lytics.conftest import SECRET
from tests.support.singer import run_tap


def test_bad_setting_stops_before_any_request(sandbox, config):
    run = run_tap("tap-lytics", {**config, "scan_page_size": 0})
    assert run.returncode == 1
    assert run.last_stderr_line == "tap-lytics: error: setting scan_page_size must be at least 1, got 0"
    assert sandbox.count("lytics") == 0
    assert run.counts() == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_key": "  "}, "setting api_key is empty"),
        ({"table": "user/../x"}, "setting table must be a Lytics table name"),
        ({"profile_key": ""}, "setting profile_key is empty"),
        ({"segments": ["all", " "]}, "setting segments contains an empty entry"),
        ({"deletion_request_ids": [""]}, "setting deletion_request_ids contains an empty entry"),
        (
            {"profile_lookups": [{"field": "email", "value": ""}]},
            "profile_lookups: entry 1 needs a non-empty field and value",
        ),
    ],
)
def test_settings_checked_before_any_request(sandbox, config, change, message):
    with pytest.raises(ConfigError, match=message):
        TapLytics(config={**config, **change})
    assert sandbox.count("lytics") == 0


def test_refused_token_names_the_setting_and_stays_secret(sandbox, config):
    sandbox.faults.add("401", vendor="lytics", times=-1)
    run = run_tap("tap-lytics", config)
    assert run.returncode == 1
    assert "authentication failed: check api_key" in run.last_stderr_line
    assert sandbox.count("lytics") == 1  # discovery's schema request; nothing retried
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.usefixtures("capsys")
@pytest.mark.parametrize(("status", "shown"), [("400", "'400'"), (404, "404"), (" 409 ", "' 409 '")])
def test_lasting_error_envelope_with_http_200_stops_with_the_vendor_message(sandbox, config, status, shown):
    # an error is an envelope status of 400 or more, as a number or numeric text
    tap = TapLytics(config=config)
    sandbox.settings["lytics.envelope_error_status"] = status
    sandbox.settings["lytics.envelope_error_message"] = "invalid FilterQL: unexpected token"
    sandbox.faults.add("envelope-error", vendor="lytics", path="/api/account")
    tap.streams["accounts"].sync()  # the stream fails alone (tapkit.isolation); the run would fail at the end
    error = tap.failed_parts.error()
    assert error is not None
    [failed] = error.failed
    assert isinstance(failed.exc, VendorResponseError)
    assert (
        failed.cause == f"Lytics: GET /lytics/api/account answered status {shown}: invalid FilterQL: unexpected token"
    )
    assert sandbox.count("lytics", "/api/account") == 1  # not retried


def test_a_timed_out_answer_is_retried_on_any_endpoint(sandbox, config):
    clean = run_tap("tap-lytics", config)
    sandbox.reset()
    sandbox.settings.update({"lytics.envelope_error_status": 200, "lytics.envelope_error_message": "Timed out"})
    sandbox.faults.add("envelope-error", vendor="lytics", path="/api/account", times=1)
    run = run_tap("tap-lytics", config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records("accounts") == clean.records("accounts") != []
    assert sandbox.count("lytics", "/api/account") == 2
    assert "GET /lytics/api/account: envelope message 'Timed out'; attempt 1 of 6" in run.stderr


def test_one_lookup_that_stays_timed_out_is_unknown_and_the_others_sync(sandbox, config):
    lookups = [
        {"field": "email", "value": "user00003@example.com"},
        {"field": "user_id", "value": "user00010"},
        {"field": "user_id", "value": "no-such-user"},
    ]
    settings = {**config, "profile_lookups": lookups, "retry_max_attempts": 4}
    clean = {(r["lookup_field"], r["lookup_value"]): r for r in run_tap("tap-lytics", settings).records("profiles")}
    sandbox.reset()
    sandbox.settings.update({"lytics.envelope_error_status": 200, "lytics.envelope_error_message": "Timed out"})
    sandbox.faults.add("envelope-error", vendor="lytics", path="/api/entity/user/user_id/user00010", times=-1)
    run = run_tap("tap-lytics", settings)
    assert run.returncode == 0, run.stderr[-2000:]
    profiles = {(r["lookup_field"], r["lookup_value"]): r for r in run.records("profiles")}
    assert profiles == {
        **clean,
        ("user_id", "user00010"): {"lookup_field": "user_id", "lookup_value": "user00010", "found": None},
    }
    assert clean["email", "user00003@example.com"]["found"] is True
    assert clean["user_id", "no-such-user"]["found"] is False
    assert sandbox.count("lytics", "/api/entity/user/user_id/user00010") == settings["retry_max_attempts"]
    warning = (
        'profiles: profile_lookups entry 2 of 3 (field user_id) still answered "Timed out" after the last attempt; '
        "recorded with found=null (unknown)"
    )
    assert run.stderr.count(warning) == 1  # named by its place and field, not by the value (personal data)


@pytest.mark.usefixtures("capsys")
def test_transient_error_envelope_with_http_200_is_retried(sandbox, config):
    clean = run_tap("tap-lytics", {**config, "retry_backoff_seconds": 0.01})
    sandbox.reset()
    sandbox.faults.add("envelope-error", vendor="lytics", path="/api/account", times=1)
    run = run_tap("tap-lytics", {**config, "retry_backoff_seconds": 0.01})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records("accounts") == clean.records("accounts") != []
    assert sandbox.count("lytics", "/api/account") == 2
    assert "envelope status '503': query backend unavailable, try again later; attempt 1 of 6" in run.stderr


def test_transient_error_envelope_on_every_try_names_it_after_the_last_attempt(sandbox, config):
    sandbox.faults.add("envelope-error", vendor="lytics", path="/api/account", times=-1)
    run = run_tap("tap-lytics", {**config, "retry_max_attempts": 3, "retry_backoff_seconds": 0.01})
    assert run.returncode == 1
    assert run.last_stderr_line == (
        "tap-lytics: error: 1 part(s) failed, every other part synced: accounts: "
        "Lytics: GET /lytics/api/account failed after 3 attempts: "
        "envelope status '503': query backend unavailable, try again later"
    )
    assert sandbox.count("lytics", "/api/account") == 3


@pytest.mark.usefixtures("capsys")
def test_unknown_audience_is_a_setting_error(sandbox, config):
    tap = TapLytics(config={**config, "segments": ["all", "no_such_audience"]})
    with pytest.raises(ConfigError, match="setting segments: 'no_such_audience' is not an audience"):
        tap.streams["audience_members"].sync()
    assert sandbox.count("lytics", "/scan") == 0


def test_profiles_without_the_profile_key_are_counted_in_one_warning(sandbox, config):
    # Before issue 14 this stopped the sync; now the rows are counted and reported, the rest syncs.
    app = sandbox.app("lytics")
    sweden = app.find_segment("sweden")["id"]
    run = run_tap("tap-lytics", {**config, "segments": ["sweden"], "profile_key": "company"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.counts()["audience_members"] == 0
    assert run.counts()["accounts"] == len(app.accounts())
    warning = (
        f"audience_members: {len(app.members('sweden'))} profile(s) had no usable identity in field 'company' "
        f"(setting profile_key) and were not emitted (audience {sweden}: {len(app.members('sweden'))})"
    )
    assert run.stderr.count(warning) == 1
    assert run.stderr.count("had no usable identity") == 1


@pytest.mark.usefixtures("capsys")
def test_a_schema_without_identity_fields_stops_with_one_line_asking_for_profile_key(sandbox, config):
    tap = TapLytics(config={key: value for key, value in config.items() if key != "profile_key"})
    members: t.Any = tap.streams["audience_members"]  # its own member_key: not singer-sdk Stream's
    members.member_key = MemberKey(None, ())  # as if /api/schema listed no by_fields and no is_by column
    with pytest.raises(
        ConfigError,
        match=r"lists no identity field \(by_fields, is_by\), so no audience member can be keyed: set profile_key",
    ):
        list(members.get_records(members.partitions[0]))
    assert sandbox.count("lytics", "/scan") == 0


def test_an_envelope_status_404_inside_http_200_on_a_lookup_is_no_such_profile(sandbox, config):
    # the not-found placeholder may carry the status 404 in its envelope: not an error on a lookup
    lookups = [{"field": "user_id", "value": "user00010"}, {"field": "user_id", "value": "user00011"}]
    sandbox.settings.update({"lytics.envelope_error_status": 404, "lytics.envelope_error_message": "Not Found"})
    sandbox.faults.add("envelope-error", vendor="lytics", path="/api/entity/user/user_id/user00010", times=-1)
    run = run_tap("tap-lytics", {**config, "profile_lookups": lookups})
    assert run.returncode == 0, run.stderr[-2000:]
    found = {r["lookup_value"]: r["found"] for r in run.records("profiles")}
    assert found == {"user00010": False, "user00011": True}
    assert sandbox.count("lytics", "/api/entity/user/user_id/user00010") == 1
    assert run.stderr.count("profiles: 1 of 2 lookups matched no Lytics profile (recorded with found=false)") == 1


def test_a_deletion_status_that_stays_timed_out_is_unknown(sandbox, config):
    known = sandbox.app("lytics").deletion_requests()[0]["request_id"]
    settings = {**config, "deletion_request_ids": [known, "unknown-request-1"], "retry_max_attempts": 2}
    sandbox.settings.update({"lytics.envelope_error_status": 200, "lytics.envelope_error_message": "Timed out"})
    sandbox.faults.add("envelope-error", vendor="lytics", path=f"/api/entity/deletestatus/{known}", times=-1)
    run = run_tap("tap-lytics", settings)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {r["request_id"]: r for r in run.records("deletion_requests")}
    assert {request: row["found"] for request, row in rows.items()} == {known: None, "unknown-request-1": False}
    assert set(rows[known]) == {"found", "request_id", "checked_at"}  # no state: Lytics did not say
    assert sandbox.count("lytics", f"/api/entity/deletestatus/{known}") == settings["retry_max_attempts"]
    warning = f'deletion_requests: request {known} still answered "Timed out" after the last attempt'
    assert run.stderr.count(warning) == 1


def test_a_retried_lookup_names_its_path_without_the_looked_up_value(sandbox, config):
    """The value is personal data: retry lines, give-up lines and metric tags name the endpoint instead."""
    lookups = [{"field": "email", "value": "user00003@example.com"}]
    settings = {**config, "profile_lookups": lookups, "retry_max_attempts": 3}
    sandbox.faults.add("503", vendor="lytics", path="/api/entity/user/email/", times=1)
    run = run_tap("tap-lytics", settings)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sandbox.count("lytics", "/api/entity/user/email/user00003") == 2
    assert [r["found"] for r in run.records("profiles")] == [True]
    retry = "GET /lytics/api/entity/user/email/{lookup_value}: HTTP 503 Service Unavailable; attempt 1 of 3"
    assert retry in run.stderr
    lookup_metrics = [line for line in run.stderr.splitlines() if "METRIC" in line and '"lookup_field"' in line]
    assert len(lookup_metrics) >= 2  # the lookup's attempts are counted, tagged with the field only
    assert "user00003" not in run.stderr  # neither the value nor its URL-quoted form


def test_a_lookup_that_keeps_failing_ends_without_the_looked_up_value(sandbox, config):
    lookups = [{"field": "email", "value": "user00003@example.com"}]
    sandbox.faults.add("503", vendor="lytics", path="/api/entity/user/email/", times=-1)
    run = run_tap("tap-lytics", {**config, "profile_lookups": lookups, "retry_max_attempts": 2})
    assert run.returncode == 1
    assert run.last_stderr_line.endswith(
        "GET /lytics/api/entity/user/email/{lookup_value} failed after 2 attempts: HTTP 503 Service Unavailable"
    )
    assert "user00003" not in run.stderr
