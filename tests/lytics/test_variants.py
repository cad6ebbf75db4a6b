"""Every reading of the Lytics docs the simulator serves (`LyticsApp.VARIANTS`): a full sync by the real
tap process is exactly the ground truth under each, with the default member key (profile_key unset)."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.lytics import LyticsApp
from tapkit import snake_case
from tests.lytics.conftest import SECRET
from tests.lytics.truth import SANDBOX_CONFIG, expected_table_rows, ground_truth, member_key
from tests.support.singer import run_tap

VARIANT_SETS = [(), *[(name,) for name in LyticsApp.VARIANTS], tuple(LyticsApp.VARIANTS)]
VARIANT_IDS = ["default", *LyticsApp.VARIANTS, "all-variants"]
PAGE_CAP = 100


def variant_config(config: dict) -> dict:
    settings = {name: value for name, value in config.items() if name != "profile_key"}
    return {**settings, "scan_page_size": 500, "retry_max_attempts": 3}  # 500: more than Lytics serves, asked as 100


def utc(text: str) -> str:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()


def profile_columns(profile: dict, types: dict[str, str]) -> dict:
    """A profile's record as the README promises it: timestamps (date, datetime) in UTC ISO form, a
    `dynamic` field kept whole in `_extra`, the rest under its snake_case name."""
    columns: dict = {}
    for field, value in profile.items():
        if types.get(field) == "dynamic":
            columns.setdefault("_extra", {})[field] = value
        else:
            columns[snake_case(field)] = utc(value) if types.get(field) in ("date", "datetime") else value
    return columns


def scan_pages_expected(sizes: list[int], repeating: bool) -> int:
    """Pages of 100 until `_next` is empty; with a repeating `_next`, one more (the last page served again)."""
    return sum(-(-size // PAGE_CAP) + (1 if repeating else 0) if size else 1 for size in sizes)


@pytest.mark.usefixtures("size_two")
@pytest.mark.parametrize("variants", VARIANT_SETS, ids=VARIANT_IDS)
def test_sync_is_exactly_the_ground_truth(sandbox, config, variants):
    sandbox.set_variants("lytics", *variants)
    app = sandbox.app("lytics")
    settings = variant_config(config)
    run = run_tap("tap-lytics", settings, timeout=120)  # a scan that never ends fails here, not in 5 minutes
    assert run.returncode == 0, run.stderr[-2000:]
    truth = ground_truth(sandbox, settings)
    assert dict(run.counts()) == expected_table_rows(sandbox, settings)
    types = {column["as"]: column["type"] for column in app.columns("user")}

    # accounts: exactly the vendor's rows, never a credential field (not in _extra either)
    accounts = {r["id"]: r for r in run.records("accounts")}
    assert accounts == {
        raw["id"]: {**raw, "created": utc(raw["created"]), "updated": utc(raw["updated"])} for raw in truth["accounts"]
    }
    output = run.stdout + run.stderr  # records, state and logs
    assert SECRET not in output
    assert not any(value in output for value in app.credential_values())
    dropped = run.stderr.count("accounts: dropped credential field(s) apikey, dataapikey from the account records")
    assert dropped == (1 if "account-credentials" in variants else 0)

    # audience members: typed values, each member once, keyed as the README says
    expected: dict[tuple[str, str], dict] = {}
    unkeyed: dict[str, int] = {}
    for raw in truth["audience_members"]:
        key = member_key(sandbox, settings, raw["profile"])
        if key is None:
            unkeyed[raw["segment_id"]] = unkeyed.get(raw["segment_id"], 0) + 1
            continue
        identity = {"segment_id": raw["segment_id"], "profile_id": key}
        expected[raw["segment_id"], key] = {**profile_columns(raw["profile"], types), **identity}
    members = run.records("audience_members")
    assert len(members) == len(expected)  # no duplicate
    assert {(r["segment_id"], r["profile_id"]): r for r in members} == expected

    # rows without identity: one warning with the exact counts per audience
    warnings = [line for line in run.stderr.splitlines() if "had no usable identity" in line]
    if unkeyed:
        assert "sparse-rows" in variants
        (line,) = warnings
        assert f"audience_members: {sum(unkeyed.values())} profile(s) had no usable identity in identity fields" in line
        assert "(" + ", ".join(f"audience {segment}: {count}" for segment, count in unkeyed.items()) + ")" in line
    else:
        assert warnings == []

    # schema_fields: every field of /api/schema, whichever shape it came in
    assert sorted(r["field"] for r in run.records("schema_fields")) == sorted(types)

    # profiles (entity lookups): typed like the members; unknown people are found=false (never the placeholder
    # segments), lookups that time out on every attempt found=null, each named in one warning
    profiles = {(r["lookup_field"], r["lookup_value"]): r for r in run.records("profiles")}
    for number, raw in enumerate(truth["profiles"], start=1):
        identity = {"lookup_field": raw["lookup_field"], "lookup_value": raw["lookup_value"]}
        found = {"found": True, **profile_columns(raw["data"], types)} if raw["found"] else {"found": raw["found"]}
        assert profiles[raw["lookup_field"], raw["lookup_value"]] == {**identity, **found}
        timed_out = (
            f"profiles: profile_lookups entry {number} of {len(truth['profiles'])} (field {raw['lookup_field']}) "
            'still answered "Timed out" after the last attempt; recorded with found=null (unknown)'
        )
        assert run.stderr.count(timed_out) == (1 if raw["found"] is None else 0)
    unknown = sum(1 for raw in truth["profiles"] if raw["found"] is False)
    missing = (
        f"profiles: {unknown} of {len(truth['profiles'])} lookups matched no Lytics profile (recorded with found=false)"
    )
    assert run.stderr.count(missing) == (1 if unknown else 0)
    lookups = [r for r in sandbox.requests if r.path.startswith("/api/entity/user/")]
    tries = 1  # each lookup once; "Timed out" once (entity-timeout), or on every attempt (-lasting)
    if "entity-timeout-lasting" in variants:
        tries = settings["retry_max_attempts"]
    elif "entity-timeout" in variants:
        tries = 2
    assert len(lookups) == tries * len(truth["profiles"])  # a "Timed out" answer is retried, nothing else is

    # field types: datetime typed, geolocation text, dynamic kept in _extra on purpose (no drift warning)
    columns = run.schemas()["profiles"]["schema"]["properties"]
    for field, kind in types.items():
        if kind == "dynamic":
            assert field not in columns
        elif kind in ("date", "datetime"):
            assert columns[field]["format"] == "date-time"
    assert "Lytics fields of unknown type" not in run.stderr
    assert "Schema drift" not in run.stderr

    # scans: pages of 100 however many were asked for, and a repeating `_next` ends the scan
    scans = [r for r in sandbox.requests if r.path.endswith("/scan")]
    assert {tuple(r.query["limit"]) for r in scans} == {("100",)}
    assert run.stderr.count("setting scan_page_size is 500; Lytics serves at most 100 rows per scan page") == 1
    sizes = [len(app.members(ref)) for ref in settings["segments"]]
    assert len(scans) == scan_pages_expected(sizes, "repeating-next" in variants)
    repeated = [line for line in run.stderr.splitlines() if "repeated a member already read" in line]
    if "repeating-next" in variants:
        (line,) = repeated  # the last page served again: min(size, 100) rows per non-empty audience
        assert f"audience_members: {sum(min(size, PAGE_CAP) for size in sizes if size)} row(s) repeated" in line
    else:
        assert repeated == []
    partitions = run.last_state["bookmarks"]["audience_members"]["partitions"]
    assert [p["next"] for p in partitions] == [None] * len(settings["segments"])
    assert {r.method for r in sandbox.requests} == {"GET"}


def test_a_configured_array_profile_key_gives_its_smallest_element(sandbox, config):
    sandbox.set_variants("lytics", "uids-array")
    settings = {**config, "segments": ["sweden"], "profile_key": "_uids"}
    run = run_tap("tap-lytics", settings)
    assert run.returncode == 0, run.stderr[-2000:]
    profiles = sandbox.app("lytics").members("sweden")
    assert sorted(r["profile_id"] for r in run.records("audience_members")) == sorted(min(p["_uids"]) for p in profiles)
    assert any(len(p["_uids"]) > 1 and p["_uids"][0] != min(p["_uids"]) for p in profiles)  # the order matters here


def test_the_sandbox_profile_key_still_keys_on_uid_by_default(sandbox, config):
    assert SANDBOX_CONFIG["profile_key"] == "_uid"  # the Meltano sandbox environment sets it explicitly
    run = run_tap("tap-lytics", {**variant_config(config), "segments": ["sweden"]})
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(r["profile_id"] for r in run.records("audience_members")) == sorted(
        f"_uid:{p['_uid']}" for p in sandbox.app("lytics").members("sweden")
    )
