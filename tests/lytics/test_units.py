"""Pure functions: the resume decision, the Lytics-type mapping, member keys, text values, scan ends (no server)."""

from __future__ import annotations

import datetime as dt

from tap_lytics import scan_state
from tap_lytics.api import is_success
from tap_lytics.identity import MemberKey, identity_fields
from tap_lytics.profile_schema import json_type, profile_properties
from tap_lytics.scalars import ScalarTyping, converter
from tap_lytics.scan_pages import ScanProgress

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def state(next_cursor, minutes_ago):
    return {"next": next_cursor, "saved_at": (NOW - dt.timedelta(minutes=minutes_ago)).isoformat()}


def test_resume_only_within_the_hour():
    assert scan_state.resume_cursor(state("c1", 59), NOW)[0] == "c1"
    assert scan_state.resume_cursor(state("c1", 60), NOW)[0] == "c1"
    assert scan_state.resume_cursor(state("c1", 61), NOW)[0] is None
    assert scan_state.resume_cursor(state("c1", -5), NOW)[0] is None  # saved "in the future": do not trust it
    assert scan_state.resume_cursor(state(None, 1), NOW)[0] is None
    assert scan_state.resume_cursor({"next": "c1", "saved_at": "garbage"}, NOW)[0] is None
    assert scan_state.resume_cursor({}, NOW)[0] is None


def test_save_records_cursor_and_time():
    saved: dict = {}
    scan_state.save(saved, "c2", NOW)
    assert saved == {"next": "c2", "saved_at": "2026-05-01T12:00:00+00:00"}


def test_status_as_number_or_string():
    assert is_success(200) and is_success("200")
    assert not is_success("503") and not is_success(None) and not is_success(404)


def test_lytics_types():
    assert json_type("int") == {"type": ["integer", "null"]}
    assert json_type("date") == {"type": ["string", "null"], "format": "date-time"}
    assert json_type("ts[]string") == {"type": ["array", "null"], "items": {"type": ["string"]}}
    assert json_type("map[string]int") == {"type": ["object", "null"], "additionalProperties": True}
    assert json_type("geohash") is None


def test_profile_properties_skip_reserved_and_unknown_types():
    columns = [
        {"as": "_uid", "type": "string", "op": "latest"},
        {"as": "segments", "type": "[]string"},
        {"as": "where", "type": "geohash"},
    ]
    properties, untyped = profile_properties(columns, {"segments"})
    assert list(properties) == ["uid"]
    assert untyped == ["where"]


# -- member keys, text values, scan ends (issue 14) -------------------------------------------------

def test_identity_fields_are_by_fields_then_is_by_columns():
    columns = [{"as": "email", "is_by": True}, {"as": "fbuid", "is_by": True}, {"as": "city", "is_by": False}]
    assert identity_fields(["user_id", "email", "_uids"], columns) == ("user_id", "email", "_uids", "fbuid")


def test_member_key_from_identity_fields_is_field_qualified_and_order_free_for_arrays():
    key = MemberKey(None, ("user_id", "_uids"))
    assert key({"user_id": "u1", "_uids": ["b", "a"]}) == "user_id:u1"
    assert key({"user_id": "", "_uids": ["c", "a", "b"]}) == "_uids:a"
    assert key({"_uids": ["a", "c", "b"]}) == key({"_uids": ["b", "a", "c"]})
    assert key({"user_id": 42}) == "user_id:42"
    for unkeyed in ({}, {"user_id": None}, {"user_id": "  "}, {"_uids": []}, {"_uids": [None, ""]}, {"user_id": True}, {"user_id": {}}):
        assert key(unkeyed) is None


def test_a_configured_profile_key_wins_unqualified():
    key = MemberKey("email", ("user_id",))
    assert key({"user_id": "u1", "email": "a@example.com"}) == "a@example.com"
    assert key({"user_id": "u1"}) is None
    assert MemberKey("_uids", ()).__call__({"_uids": ["z", "y"]}) == "y"


def test_text_values_are_typed_by_the_lytics_type():
    typing = ScalarTyping(
        [
            {"as": "n", "type": "int"},
            {"as": "x", "type": "number"},
            {"as": "b", "type": "bool"},
            {"as": "m", "type": "map[string]int"},
            {"as": "a", "type": "[]int"},
            {"as": "s", "type": "string"},
        ]
    )
    row = {"n": "100", "x": "12.5", "b": "t", "m": {"1": "28", "2": 3}, "a": ["1", 2], "s": "100"}
    assert typing.apply(row) == {"n": 100, "x": 12.5, "b": True, "m": {"1": 28, "2": 3}, "a": [1, 2], "s": "100"}
    assert typing.apply({"b": "FALSE", "x": "7"}) == {"b": False, "x": 7}
    assert typing.apply({"n": 5, "x": 1.5, "b": False}) == {"n": 5, "x": 1.5, "b": False}  # native values unchanged
    # text that is no number or boolean stays as it came (the shaper keeps it in _extra)
    assert typing.apply({"n": "12.5", "x": "nan", "b": "yes", "m": {"1": "lots"}}) == {"n": "12.5", "x": "nan", "b": "yes", "m": {"1": "lots"}}
    assert converter("string") is None and converter("[]string") is None and converter("geohash") is None


def test_scan_ends_on_an_empty_next():
    progress = ScanProgress(MemberKey("id", ()))
    first = progress.take([{"id": "a"}, {"id": "b"}], None, "c1")
    assert not first.done and [key for key, _ in first.members] == ["a", "b"]
    assert progress.take([{"id": "c"}], "c1", None).done


def test_a_repeating_next_ends_once_a_page_brings_no_unseen_row():
    progress = ScanProgress(MemberKey("id", ()))
    assert not progress.take([{"id": "a"}, {"id": "b"}], None, "same").done
    second = progress.take([{"id": "b"}, {"id": "c"}], "same", "same")  # the server pages by its own state
    assert not second.done and [key for key, _ in second.members] == ["c"] and second.repeated == 1
    last = progress.take([{"id": "b"}, {"id": "c"}], "same", "same")  # already seen: the end
    assert last.done and last.members == [] and last.repeated == 2


def test_unkeyed_rows_are_counted_once_even_when_served_again():
    progress = ScanProgress(MemberKey("id", ()))
    first = progress.take([{"id": "a"}, {"city": "Oslo"}, {"city": "Paris"}], None, "same")
    assert first.unidentified == 2 and not first.done
    again = progress.take([{"city": "Oslo"}], "same", "same")
    assert again.unidentified == 0 and again.repeated == 1 and again.done


def test_an_empty_page_with_a_new_cursor_is_followed():
    progress = ScanProgress(MemberKey("id", ()))
    assert not progress.take([], None, "c1").done
    assert progress.take([], "c1", "c1").done  # the same cursor again, nothing new: the end
