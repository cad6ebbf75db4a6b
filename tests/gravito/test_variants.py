"""tap-gravito against every reading of the docs the simulator serves (its VARIANTS), and content that changes
without a timestamp."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.gravito import DOMAINS, UNKNOWN_DOMAIN, GravitoApp
from tap_gravito import fingerprints
from tests.gravito.test_sync import TOKEN, assert_matches_ground_truth, config, keyed
from tests.support.singer import run_tap

TAP = "tap-gravito"
VARIANT_SETS = [
    (),
    *((name,) for name in GravitoApp.VARIANTS),
    ("changed-without-timestamp", "timestamps-in-milliseconds"),
]
EMPTY_WARNING = "returned no profiles for the last 7 days"
PROFILE_STREAMS = ("microprofiles", "tcf_consents", "non_tcf_vendor_consents")


def app(sandbox) -> GravitoApp:
    return sandbox.app("gravito")


def empty_warnings(run) -> list[str]:
    return [line for line in run.stderr.splitlines() if EMPTY_WARNING in line]


def test_every_variant_is_exercised():
    assert {name for names in VARIANT_SETS for name in names} == set(GravitoApp.VARIANTS)


@pytest.mark.parametrize("variants", VARIANT_SETS, ids=lambda v: "+".join(v) or "default")
def test_first_sync_is_exact_under_every_variant(sandbox, variants):
    sandbox.set_variants("gravito", *variants)
    run = run_tap(TAP, config(sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    assert TOKEN not in run.stdout + run.stderr
    assert_matches_ground_truth(sandbox, run, DOMAINS)
    if "changed-without-timestamp" in variants:
        changed = {pid for domain in DOMAINS for pid in app(sandbox).changed_profile_ids(domain)}
        assert changed and all(
            r["match_on_id"].startswith("changed-") for r in run.records("microprofiles") if r["profile_id"] in changed
        )
    # The warning names exactly the domains that returned nothing.
    expected_empty = [UNKNOWN_DOMAIN] if "unknown-domain" in variants else []
    assert [line.split("domain '")[1].split("'")[0] for line in empty_warnings(run)] == expected_empty


def test_a_mistyped_domain_gets_one_warning_naming_it_and_the_others_sync(sandbox):
    typo = "shop.exmaple.com"
    run = run_tap(TAP, config(sandbox, domains=[DOMAINS[0], typo]))
    assert run.returncode == 0, run.stderr[-2000:]
    warnings = empty_warnings(run)
    assert len(warnings) == 1
    assert f"gravito: domain '{typo}' returned no profiles" in warnings[0]
    assert "setting domains" in warnings[0]
    assert {r["domain"] for r in run.records("microprofiles")} == {DOMAINS[0]}
    assert_matches_ground_truth(sandbox, run, [DOMAINS[0], typo])


# -- content that changes without a newer timestamp -------------------------------------------


def changed_truth(sandbox) -> tuple[set[tuple[str, str]], dict]:
    sandbox.set_variants("gravito", "changed-without-timestamp")
    changed = {(domain, pid) for domain in DOMAINS for pid in app(sandbox).changed_profile_ids(domain)}
    return changed, app(sandbox).ground_truth()


def test_changed_profiles_are_emitted_again_and_only_they(sandbox):
    first = run_tap(TAP, config(sandbox, lookback_hours=0))
    assert first.returncode == 0, first.stderr[-2000:]
    before = app(sandbox).ground_truth()
    changed, after = changed_truth(sandbox)
    assert len(changed) >= len(DOMAINS)
    # Same timestamps: the bookmarks alone would hide every change.
    stamps = lambda truth: {(p["domain"], p["profile_id"]): p["updated_at"] for p in truth["microprofiles"]}  # noqa: E731
    assert stamps(before) == stamps(after)

    second = run_tap(TAP, config(sandbox, lookback_hours=0), state=first.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    profiles = keyed(second.records("microprofiles"), "domain", "profile_id")
    assert set(profiles) == changed
    assert len(second.records("microprofiles")) == len(changed)
    truth_profiles = keyed(after["microprofiles"], "domain", "profile_id")
    for key, record in profiles.items():
        assert record["match_on_id"] == truth_profiles[key]["match_on_id"]
        assert record["updated_at"] == truth_profiles[key]["updated_at"]

    tcf_expected = {
        (r["domain"], r["profile_id"]): r for r in after["tcf_consents"] if (r["domain"], r["profile_id"]) in changed
    }
    tcf = keyed(second.records("tcf_consents"), "domain", "profile_id")
    assert set(tcf) == set(tcf_expected)
    assert len(second.records("tcf_consents")) == len(tcf_expected)
    for key, record in tcf.items():
        assert record["tc_string"] == tcf_expected[key]["tc_string"]
        if tcf_expected[key]["decodes"]:
            assert record["cmp_version"] == tcf_expected[key]["decoded"]["cmp_version"]
    vendor_key = ("domain", "profile_id", "vendor_id")
    assert set(keyed(second.records("non_tcf_vendor_consents"), *vendor_key)) == {
        tuple(r[k] for k in vendor_key)
        for r in after["non_tcf_vendor_consents"]
        if (r["domain"], r["profile_id"]) in changed
    }
    # Entries are timed one by one: none is new, none is emitted.
    assert second.records("consents") == second.records("keyring") == []

    # Profiles emitted again under their old times leave every bookmark where it was.
    def bookmark(run, stream):
        return [
            (p["context"], p.get("replication_key_value")) for p in run.last_state["bookmarks"][stream]["partitions"]
        ]

    for stream in PROFILE_STREAMS:
        assert bookmark(second, stream) == bookmark(first, stream), stream

    # Once emitted, a change is not emitted again.
    third = run_tap(TAP, config(sandbox, lookback_hours=0), state=second.last_state)
    assert third.returncode == 0, third.stderr[-2000:]
    assert {stream: n for stream, n in third.counts().items()} == {}


def test_a_state_without_fingerprints_emits_every_profile_again(sandbox):
    first = run_tap(TAP, config(sandbox, lookback_hours=0))
    assert first.returncode == 0, first.stderr[-2000:]
    state = first.last_state
    for stream in state["bookmarks"].values():
        for partition in stream["partitions"]:
            partition.pop(fingerprints.STATE_KEY, None)  # as a tap from before fingerprints wrote it
    second = run_tap(TAP, config(sandbox, lookback_hours=0), state=state)
    assert second.returncode == 0, second.stderr[-2000:]
    # Nothing is known of the profiles' content: every profile-level row again, entries by their timestamps (none new).
    for stream in PROFILE_STREAMS:
        assert second.counts()[stream] == first.counts()[stream], stream
    assert second.records("consents") == second.records("keyring") == []


def test_the_state_stays_small(sandbox):
    run = run_tap(TAP, config(sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    truth = app(sandbox).ground_truth()
    for partition in run.last_state["bookmarks"]["microprofiles"]["partitions"]:
        domain = partition["context"]["domain"]
        served = sum(p["domain"] == domain for p in truth["microprofiles"]) + sum(
            u["domain"] == domain for u in truth["unparsed_messages"]
        )
        # 8 base64 characters per profile served, nothing else.
        assert len(partition[fingerprints.STATE_KEY]) == 8 * served


# -- pure functions: the fingerprint set's encoding and its cap --------------------------------


def test_fingerprints_round_trip_and_unreadable_values_are_unknown():
    marks = {fingerprints.fingerprint(text) for text in ("a", "b", "ä")}
    known = fingerprints.decode(fingerprints.encode(marks))
    assert len(known) == 3 and all(mark in known for mark in marks)
    assert fingerprints.fingerprint("c") not in known
    assert len(fingerprints.decode(fingerprints.encode([]))) == 0
    for bad in (None, 42, "not base64!", "QUJD"):  # "QUJD" is 3 bytes: not a whole fingerprint
        assert fingerprints.decode(bad) is None


def test_a_domain_over_the_cap_keeps_no_fingerprints_and_bounded_memory():
    collector = fingerprints.Collector(cap=3)
    for n in range(3):
        collector.add(fingerprints.fingerprint(str(n)))
    state: dict = {}
    collector.save(state)
    assert len(fingerprints.decode(state[fingerprints.STATE_KEY])) == 3
    for n in range(3, 1000):
        collector.add(fingerprints.fingerprint(str(n)))
    assert collector.overflowed and len(collector.seen) == 0
    collector.save(state)
    assert fingerprints.STATE_KEY not in state  # unknown: the next run emits every profile again


def test_timestamps_in_milliseconds_give_the_same_rows_as_seconds(sandbox):
    seconds = run_tap(TAP, config(sandbox, domains=[DOMAINS[0]]))
    sandbox.set_variants("gravito", "timestamps-in-milliseconds")
    millis = run_tap(TAP, config(sandbox, domains=[DOMAINS[0]]))
    assert seconds.returncode == millis.returncode == 0
    for stream in ("consents", "keyring"):
        key = lambda r: (r["profile_id"], r["recorded_at"], str(r.get("consent_id") or r.get("key_id")))  # noqa: E731
        assert sorted(seconds.records(stream), key=key) == sorted(millis.records(stream), key=key)
    # read as milliseconds, not as seconds (which would land thousands of years ahead): within the simulated week
    recorded = dt.datetime.fromisoformat(millis.records("consents")[0]["recorded_at"]).date()
    assert sandbox.today() - dt.timedelta(days=8) <= recorded <= sandbox.today()
