"""A full sync: exact records per stream against the simulator's ground truth."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_lytics.tap import TapLytics
from tests.lytics.conftest import SECRET
from tests.lytics.truth import expected_table_rows, ground_truth
from tests.support.singer import run_tap


def utc(text: str) -> str:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()


def profile_columns(profile: dict) -> dict:
    """The typed columns a raw Lytics profile becomes (columns are snake_case: `_uid` -> `uid`)."""
    columns = {("uid" if field == "_uid" else field): value for field, value in profile.items()}
    columns["last_active_ts"] = utc(profile["last_active_ts"])
    return columns


def test_full_sync_matches_ground_truth(sandbox, config):
    run = run_tap("tap-lytics", config)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = ground_truth(sandbox, config)
    counts = run.counts()
    assert dict(counts) == expected_table_rows(sandbox, config)
    assert counts["audience_members"] == 60 + len(sandbox.app("lytics").members("sweden"))  # "dormant" is empty

    accounts = {r["id"]: r for r in run.records("accounts")}
    for raw in truth["accounts"]:
        assert accounts[raw["id"]] == {**raw, "created": utc(raw["created"]), "updated": utc(raw["updated"])}

    segments = {r["id"]: r for r in run.records("segments")}
    for raw in truth["segments"]:
        assert segments[raw["id"]] == {**raw, "created": utc(raw["created"]), "updated": utc(raw["updated"])}

    # the schema that typed the profile columns at discovery is the one schema_fields emits, and the
    # audience list that resolves segments is the one segments emits: one request each
    assert sandbox.count("lytics", "/api/schema/") == 1
    assert sum(1 for r in sandbox.requests if r.vendor == "lytics" and r.path == "/api/segment") == 1
    fields = {(r["table"], r["field"]): r for r in run.records("schema_fields")}
    for raw in truth["schema_fields"]:
        assert fields["user", raw["as"]] == {
            "table": "user",
            "field": raw["as"],
            "type": raw["type"],
            "is_identity": raw["is_by"],
            "merge_op": raw["op"],
            "short_description": raw["shortdesc"],
            "long_description": raw["longdesc"],
            "source_fields": raw["froms"],
            "identities": raw["identities"],
        }

    sizes = run.records("segment_sizes")
    assert len({r["measured_at"] for r in sizes}) == 1
    assert {r["segment_id"]: r["size"] for r in sizes} == {raw["id"]: raw["size"] for raw in truth["segment_sizes"]}

    members = {(r["segment_id"], r["profile_id"]): r for r in run.records("audience_members")}
    assert len(members) == len(truth["audience_members"])
    for raw in truth["audience_members"]:
        profile = raw["profile"]
        expected = {**profile_columns(profile), "segment_id": raw["segment_id"], "profile_id": profile["_uid"]}
        assert members[raw["segment_id"], profile["_uid"]] == expected

    profiles = {(r["lookup_field"], r["lookup_value"]): r for r in run.records("profiles")}
    for raw in truth["profiles"]:
        identity = {"lookup_field": raw["lookup_field"], "lookup_value": raw["lookup_value"]}
        if raw["data"] is None:
            assert profiles[raw["lookup_field"], raw["lookup_value"]] == {**identity, "found": False}
        else:
            assert profiles[raw["lookup_field"], raw["lookup_value"]] == {
                **identity,
                "found": True,
                **profile_columns(raw["data"]),
            }
    assert "profiles: 1 of 3 lookups matched no Lytics profile" in run.stderr

    checked = {r["request_id"]: r for r in run.records("deletion_requests")}
    assert {r["checked_at"] for r in checked.values()} == {sizes[0]["measured_at"]}
    for raw in truth["deletion_requests"]:
        data = raw["data"]
        expected = {"request_id": raw["request_id"], "checked_at": sizes[0]["measured_at"]}
        if data is None:
            expected["found"] = False
        else:
            expected.update(found=True, state=data["state"]["current"], completed=data["completed"])
        assert checked[raw["request_id"]] == expected
    assert {r.get("state") for r in checked.values()} == {"initial", "primary", "archive", "secondary", "done", None}

    # scans follow `_next` until it is empty: all (60) in pages of 25, sweden in pages of 25, dormant (empty)
    scans = [r for r in sandbox.requests if r.path.endswith("/scan")]
    sweden_pages = -(-len(sandbox.app("lytics").members("sweden")) // 25)
    assert len(scans) == 3 + sweden_pages + 1
    assert {tuple(r.query["limit"]) for r in scans} == {("25",)}
    assert sum("start" not in r.query for r in scans) == 3  # one first page per audience

    # read only (never a DELETE), and the token never shows
    assert sandbox.requests and {r.method for r in sandbox.requests} == {"GET"}
    assert all(r.status in (200, 404) for r in sandbox.requests)
    assert SECRET not in run.stdout and SECRET not in run.stderr


def test_segments_by_id_or_slug(sandbox, config):
    app = sandbox.app("lytics")
    sweden_id = app.find_segment("sweden")["id"]
    run = run_tap("tap-lytics", {**config, "segments": [sweden_id, "sweden"]})
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["segment_id"] for r in run.records("audience_members")} == {sweden_id}
    assert run.counts()["audience_members"] == len(app.members("sweden"))
    assert [r["segment_id"] for r in run.records("segment_sizes")] == [sweden_id]


def test_without_segments_no_scan_and_every_audience_sized(sandbox, config):
    tap = TapLytics(config={**config, "segments": []})
    assert tap.streams["audience_members"].partitions == []
    sizes = t.cast("list[dict]", list(tap.streams["segment_sizes"].get_records(None)))  # rows, never pairs
    assert {row["id"]: row["size"] for row in sizes} == {
        s["id"]: len(sandbox.app("lytics").members(s["id"])) for s in sandbox.app("lytics").segments("user")
    }


@pytest.mark.usefixtures("capsys")
def test_transient_faults_are_retried_without_loss(sandbox, config):
    tap = TapLytics(config=config)
    sandbox.faults.add("500", vendor="lytics", path="/scan", times=2)
    sandbox.faults.add("reset", vendor="lytics", path="/api/entity/deletestatus", times=1)
    members = tap.streams["audience_members"]
    rows = [row for context in members.partitions for row in members.get_records(context)]
    assert len(rows) == expected_table_rows(sandbox, config)["audience_members"]
    requests = list(tap.streams["deletion_requests"].get_records(None))
    assert len(requests) == len(config["deletion_request_ids"])
    assert sandbox.count("lytics", "/scan") == 6 + 2
