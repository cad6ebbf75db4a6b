"""tap-gravito against the live simulator: exact rows, one request per domain, state, bad input."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest

from sandbox.gravito import DOMAINS
from tap_gravito.microprofile import unparsed_id
from tapkit import clock
from tests.gravito.truth import expected_table_rows
from tests.support.live import sandbox as live_sandbox
from tests.support.singer import run_tap

TOKEN = "gravito-secret-token-123"
STREAMS = ("microprofiles", "consents", "keyring", "tcf_consents", "non_tcf_vendor_consents")


def config(sandbox, **overrides):
    return {
        "access_token": TOKEN,
        "domains": list(DOMAINS),
        "api_url": sandbox.url("gravito"),
        "retry_backoff_seconds": 0.01,
        **overrides,
    }


def keyed(rows, *key):
    return {tuple(row[k] for k in key): row for row in rows}


@pytest.fixture(scope="module")
def first_run():
    """One full first sync shared by the tests that only read it (each tap process costs seconds)."""
    box = live_sandbox()
    box.reset()
    run = run_tap("tap-gravito", config(box))
    assert run.returncode == 0, run.stderr[-2000:]
    run.requests = [r.query["domainName"][0] for r in box.requests]  # type: ignore[attr-defined]
    return run


def test_every_stream_matches_the_ground_truth(sandbox, first_run):
    assert_matches_ground_truth(sandbox, first_run, DOMAINS)
    # one request per domain feeds all five streams
    assert sorted(first_run.requests) == sorted(DOMAINS)


def assert_matches_ground_truth(sandbox, first_run, domains) -> None:
    """A first sync of `domains`: every stream's rows exactly the simulator's ground truth (counts and values)."""
    truth = sandbox.app("gravito").ground_truth(domains=list(domains))
    assert dict(first_run.counts()) == {
        k: v for k, v in expected_table_rows(sandbox, {"domains": list(domains)}).items() if v
    }

    profiles = keyed(first_run.records("microprofiles"), "domain", "profile_id")
    for expected in truth["microprofiles"]:
        record = profiles[(expected["domain"], expected["profile_id"])]
        for column in ("updated_at", "match_on_id", "consent_count", "key_count"):
            assert record[column] == expected[column], column
        assert record["parse_error"] is None and record["referer"] == expected["domain"]
        assert (record["gravito_data"] is not None) == expected["has_gravito_data"]
    for bad in truth["unparsed_messages"]:
        record = profiles[(bad["domain"], unparsed_id(bad["raw_message"]))]
        assert record["raw_message"] == bad["raw_message"] and record["parse_error"]

    for stream, key, columns in (
        ("consents", ("domain", "profile_id", "consent_id", "recorded_at"), ("consent_name", "granted")),
        ("keyring", ("domain", "profile_id", "key_id", "recorded_at"), ("key_name", "key_value")),
        (
            "non_tcf_vendor_consents",
            ("domain", "profile_id", "vendor_id"),
            ("vendor_name", "consent", "profile_updated_at"),
        ),
    ):
        records = keyed(first_run.records(stream), *key)
        assert set(records) == set(keyed(truth[stream], *key))
        for expected in truth[stream]:
            record = records[tuple(expected[k] for k in key)]
            assert {c: record[c] for c in columns} == {c: expected[c] for c in columns}

    tcf = keyed(first_run.records("tcf_consents"), "domain", "profile_id")
    assert {expected["decodes"] for expected in truth["tcf_consents"]} == {True, False}
    assert len(tcf) == len(truth["tcf_consents"])
    for expected in truth["tcf_consents"]:
        record = tcf[(expected["domain"], expected["profile_id"])]
        assert record["tc_string"] == expected["tc_string"]
        if expected["decodes"]:
            assert record["decode_error"] is None
            assert {column: record[column] for column in expected["decoded"]} == expected["decoded"]
        else:
            assert record["decode_error"]


@pytest.mark.usefixtures("sandbox")
def test_unparsed_messages_are_counted_and_logged_without_their_content(first_run):
    warnings = [line for line in first_run.stderr.splitlines() if "were not valid microprofile JSON" in line]
    assert len(warnings) == len(DOMAINS)
    assert all("2 message(s)" in line for line in warnings)
    assert "cut-off-profile" not in first_run.stderr
    assert TOKEN not in first_run.stdout + first_run.stderr


def test_state_is_one_bookmark_per_stream_and_domain(sandbox, first_run):
    truth = sandbox.app("gravito").ground_truth()
    bookmarks = first_run.last_state["bookmarks"]
    assert set(bookmarks) == set(STREAMS)
    for stream in STREAMS:
        partitions = bookmarks[stream]["partitions"]
        assert [p["context"] for p in partitions] == [{"domain": d} for d in DOMAINS]
        assert all("progress_markers" not in p for p in partitions)
    for domain in DOMAINS:
        latest = max(p["updated_at"] for p in truth["microprofiles"] if p["domain"] == domain and p["updated_at"])
        partition = next(p for p in bookmarks["microprofiles"]["partitions"] if p["context"] == {"domain": domain})
        assert partition == {
            "context": {"domain": domain},
            "replication_key": "updated_at",
            "replication_key_value": latest,
            "profile_fingerprints": served_fingerprints(sandbox, domain),
        }
    # The profile-level streams keep the same fingerprints; the entry streams (timed entries) keep none.
    for stream in ("tcf_consents", "non_tcf_vendor_consents"):
        for partition in bookmarks[stream]["partitions"]:
            assert partition["profile_fingerprints"] == served_fingerprints(sandbox, partition["context"]["domain"])
    for stream in ("consents", "keyring"):
        assert all("profile_fingerprints" not in partition for partition in bookmarks[stream]["partitions"])


def served_fingerprints(sandbox, domain: str) -> str:
    """The state's documented fingerprint set, computed from the simulator's own answer: BLAKE2b-48 of each message
    text as served, the latest snapshot of each profile id only, sorted, packed, base64."""
    latest: dict[str, str] = {}
    for element in sandbox.app("gravito").elements(domain):
        text = element["message"]
        try:
            key = json.loads(text)["i"]
        except (ValueError, KeyError, TypeError):
            key = text  # a message that does not parse is its own profile
        latest[key] = text  # the older snapshot of a profile is served first
    marks = {hashlib.blake2b(text.encode(), digest_size=6).digest() for text in latest.values()}
    return base64.b64encode(b"".join(sorted(marks))).decode()


def test_second_run_emits_only_what_changed_plus_the_lookback(sandbox, first_run):
    app = sandbox.app("gravito")
    before = app.ground_truth()
    at = dt.datetime.combine(sandbox.today(), dt.time(6), tzinfo=dt.UTC)
    app.add_changes(DOMAINS[0], new_profiles=2, updated_profiles=3, at=at)
    after = app.ground_truth()
    lookback = dt.timedelta(hours=2)
    run = run_tap("tap-gravito", config(sandbox, lookback_hours=2), state=first_run.last_state)
    assert run.returncode == 0, run.stderr[-2000:]

    def floor(stream, domain):
        value = next(
            p for p in first_run.last_state["bookmarks"][stream]["partitions"] if p["context"] == {"domain": domain}
        )
        return dt.datetime.fromisoformat(value["replication_key_value"]) - lookback

    def expected(stream, rk, key, *, untimed=True):
        # Entry streams emit untimed rows always; the profile-level streams only when their content is new.
        rows = [
            r
            for r in after[stream]
            if (untimed and r[rk] is None) or (r[rk] and dt.datetime.fromisoformat(r[rk]) > floor(stream, r["domain"]))
        ]
        return {tuple(r[k] for k in key) for r in rows}

    # The untimed profile and the unparsed messages are unchanged: their fingerprints are in the state.
    profile_keys = expected("microprofiles", "updated_at", ("domain", "profile_id"), untimed=False)
    assert set(keyed(run.records("microprofiles"), "domain", "profile_id")) == profile_keys
    assert len(run.records("microprofiles")) == len(profile_keys)
    consent_key = ("domain", "profile_id", "consent_id", "recorded_at")
    assert set(keyed(run.records("consents"), *consent_key)) == expected("consents", "recorded_at", consent_key)
    assert len(run.records("consents")) == len(expected("consents", "recorded_at", consent_key))
    key_key = ("domain", "profile_id", "key_id", "recorded_at")
    assert set(keyed(run.records("keyring"), *key_key)) == expected("keyring", "recorded_at", key_key)
    assert set(keyed(run.records("tcf_consents"), "domain", "profile_id")) == expected(
        "tcf_consents", "profile_updated_at", ("domain", "profile_id"), untimed=False
    )

    # the changes are there, and far fewer rows than a full sync
    new_consents = set(keyed(after["consents"], *consent_key)) - set(keyed(before["consents"], *consent_key))
    updated_or_new = {key[1] for key in new_consents}
    assert len(updated_or_new) == 3 + 2
    assert new_consents <= set(keyed(run.records("consents"), *consent_key))
    assert len(run.records("consents")) < len(after["consents"])
    bookmark = next(
        p for p in run.last_state["bookmarks"]["consents"]["partitions"] if p["context"] == {"domain": DOMAINS[0]}
    )
    assert bookmark["replication_key_value"] == at.isoformat()


def test_a_bookmark_older_than_seven_days_warns_once_per_domain(sandbox):
    old = (clock.now() - dt.timedelta(days=10)).replace(microsecond=0).isoformat()
    state = {
        "bookmarks": {
            "microprofiles": {
                "partitions": [
                    {"context": {"domain": DOMAINS[1]}, "replication_key": "updated_at", "replication_key_value": old}
                ]
            }
        }
    }
    run = run_tap("tap-gravito", config(sandbox), state=state)
    assert run.returncode == 0
    warnings = [line for line in run.stderr.splitlines() if "can no longer be fetched" in line]
    assert len(warnings) == 1
    assert f"domain '{DOMAINS[1]}': data between {old}" in warnings[0]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"domains": []}, "setting domains must list at least one domain"),
        ({"domains": ["a.com", "a.com"]}, "setting domains lists a.com more than once"),
        ({"lookback_hours": -1}, "setting lookback_hours must be 0 or more"),
    ],
)
def test_bad_config_stops_before_any_request(sandbox, overrides, message):
    run = run_tap("tap-gravito", config(sandbox, **overrides))
    assert run.returncode == 1
    assert message in run.last_stderr_line
    assert sandbox.count("gravito") == 0
    assert TOKEN not in run.stderr


def test_missing_token_is_refused_before_any_request(sandbox):
    settings = config(sandbox)
    del settings["access_token"]
    run = run_tap("tap-gravito", settings)
    assert run.returncode != 0
    assert "access_token" in run.stderr
    assert sandbox.count("gravito") == 0


def test_rejected_token_names_the_setting_and_never_shows_it(sandbox):
    sandbox.faults.add("401", vendor="gravito")
    run = run_tap("tap-gravito", config(sandbox))
    assert run.returncode == 1
    assert "authentication failed: check access_token" in run.last_stderr_line
    assert TOKEN not in run.stdout + run.stderr


def test_transient_faults_are_retried_and_lose_nothing(sandbox):
    sandbox.faults.add("503", vendor="gravito", times=2)
    sandbox.faults.add("reset", vendor="gravito", times=1)
    run = run_tap("tap-gravito", config(sandbox, domains=[DOMAINS[0]]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert dict(run.counts()) == expected_table_rows(sandbox, {"domains": [DOMAINS[0]]})
    assert sandbox.count("gravito") == 4  # 503, 503, reset, then the answer


def test_a_truncated_body_is_a_clear_error_not_a_short_sync(sandbox):
    sandbox.faults.add("truncate", vendor="gravito")
    run = run_tap("tap-gravito", config(sandbox, domains=[DOMAINS[0]]))
    assert run.returncode == 1
    assert "the body is not valid JSON" in run.last_stderr_line
    assert run.counts() == {}


def test_a_body_that_is_not_an_array_is_a_clear_error(sandbox):
    sandbox.faults.add("envelope-error", vendor="gravito")
    run = run_tap("tap-gravito", config(sandbox, domains=[DOMAINS[0]]))
    assert run.returncode == 1
    assert "expected a JSON array" in run.last_stderr_line


@pytest.mark.parametrize(
    ("drift", "stream", "field"),
    [("add", "microprofiles", "l"), ("add", "consents", "src"), ("retype", "consents", "s")],
)
def test_drift_lands_in_extra_with_one_warning(sandbox, drift, stream, field):
    sandbox.settings["gravito.drift"] = drift
    run = run_tap("tap-gravito", config(sandbox, domains=[DOMAINS[0]]))
    assert run.returncode == 0, run.stderr[-2000:]
    records = [r for r in run.records(stream) if r.get("parse_error") is None]
    assert records and all(field in r["_extra"] for r in records)
    if drift == "retype":
        assert all(r["granted"] is None and r["_extra"]["s"] in ("yes", "no") for r in records)
    warnings = [
        line
        for line in run.stderr.splitlines()
        if f"stream '{stream}': vendor field '{field}'" in line
        or f"stream '{stream}': a value of vendor field '{field}'" in line
    ]
    assert len(warnings) == 1


def test_a_domain_without_profiles_keeps_no_fingerprints_and_an_old_empty_value_is_repaired(sandbox, first_run):
    """An unknown domain serves no profile: its partitions hold no profile_fingerprints (not ""), and a
    state from an earlier build that holds "" there is accepted with one warning and written without it."""
    from sandbox.gravito import UNKNOWN_DOMAIN

    sandbox.set_variants("gravito", "unknown-domain")
    run = run_tap("tap-gravito", config(sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    for stream in ("microprofiles", "tcf_consents", "non_tcf_vendor_consents"):
        (partition,) = [
            p for p in run.last_state["bookmarks"][stream]["partitions"] if p["context"] == {"domain": UNKNOWN_DOMAIN}
        ]
        assert "profile_fingerprints" not in partition

    old = json.loads(json.dumps(first_run.last_state))
    for stream in ("microprofiles", "tcf_consents", "non_tcf_vendor_consents"):
        for partition in old["bookmarks"][stream]["partitions"]:
            if partition["context"] == {"domain": UNKNOWN_DOMAIN}:
                partition["profile_fingerprints"] = ""
    repaired = run_tap("tap-gravito", config(sandbox), state=old)
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    warnings = [line for line in repaired.stderr.splitlines() if "an empty profile_fingerprints" in line]
    assert len(warnings) == 3, repaired.stderr[-2000:]  # one per profile-level stream
    assert f"partition domain={UNKNOWN_DOMAIN}" in warnings[0]
    for stream in ("microprofiles", "tcf_consents", "non_tcf_vendor_consents"):
        for partition in repaired.last_state["bookmarks"][stream]["partitions"]:
            assert partition.get("profile_fingerprints") != ""
