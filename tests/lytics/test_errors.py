"""Bad settings and vendor errors end on one clear line, non-zero, without leaking the token."""

from __future__ import annotations

import pytest
from tapkit import ConfigError, VendorResponseError

from tap_lytics.identity import MemberKey
from tap_lytics.tap import TapLytics
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
        ({"profile_lookups": [{"field": "email", "value": ""}]}, "profile_lookups: entry 1 needs a non-empty field and value"),
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


def test_lasting_error_envelope_with_http_200_stops_with_the_vendor_message(sandbox, config, capsys):
    tap = TapLytics(config=config)
    sandbox.settings["lytics.envelope_error_status"] = "400"
    sandbox.faults.add("envelope-error", vendor="lytics", path="/api/account")
    tap.streams["accounts"].sync()  # the stream fails alone (tapkit.isolation); the run would fail at the end
    error = tap.failed_parts.error()
    assert error is not None
    [failed] = error.failed
    assert isinstance(failed.exc, VendorResponseError)
    assert failed.cause == "Lytics: GET /lytics/api/account answered status '400': invalid FilterQL: unexpected token"
    assert sandbox.count("lytics", "/api/account") == 1  # not retried


def test_transient_error_envelope_with_http_200_is_retried(sandbox, config, capsys):
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


def test_unknown_audience_is_a_setting_error(sandbox, config, capsys):
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


def test_a_schema_without_identity_fields_stops_with_one_line_asking_for_profile_key(sandbox, config, capsys):
    tap = TapLytics(config={key: value for key, value in config.items() if key != "profile_key"})
    members = tap.streams["audience_members"]
    members.member_key = MemberKey(None, ())  # as if /api/schema listed no by_fields and no is_by column
    with pytest.raises(ConfigError, match=r"lists no identity field \(by_fields, is_by\), so no audience member can be keyed: set profile_key"):
        list(members.get_records(members.partitions[0]))
    assert sandbox.count("lytics", "/scan") == 0
