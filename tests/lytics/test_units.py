"""Pure functions: the resume decision, the Lytics-type mapping, member keys, text values, scan ends (no server)."""

from __future__ import annotations

import datetime as dt

from tap_lytics import scan_state
from tap_lytics.api import is_not_found_placeholder, is_success, is_timed_out, is_transient, table_schema
from tap_lytics.identity import MemberKey, identity_fields
from tap_lytics.profile_schema import json_type, profile_properties
from tap_lytics.scalars import ScalarTyping, converter
from tap_lytics.scan_pages import ScanProgress

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


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


def test_an_envelope_error_is_a_status_of_400_or_more_as_number_or_numeric_text():
    # issue 23: Lytics' v1 examples show "success" and no status at all; lio-client fails only at >= 400
    for success in (200, "200", " 201 ", 302, "success", "ok", "OK", None, "", True, "4xx"):
        assert is_success(success), success
    for error in (400, "400", 404, " 404 ", "429", 500, "503", 999):
        assert not is_success(error), error
    statuses = (429, "429", 500, "503", 599, 400, "404", "success", None)
    assert [status for status in statuses if is_transient(status)] == [429, "429", 500, "503", 599]


def test_not_found_placeholder_by_message_or_segment():
    placeholder = {"segments": ["not_found", "all"]}
    assert is_not_found_placeholder({"status": 200, "message": "Not Found", "data": placeholder})
    assert is_not_found_placeholder({"status": 200, "message": "not found", "data": {}})  # the message alone
    assert is_not_found_placeholder({"status": 200, "message": "success", "data": placeholder})  # the segment alone
    assert not is_not_found_placeholder({"status": 200, "message": "success", "data": {"segments": ["all"], "x": 1}})
    assert not is_not_found_placeholder({"status": 200, "data": {"segments": "not_found"}})  # not a list of slugs
    assert is_timed_out("Timed out") and is_timed_out(" timed OUT ")
    assert not is_timed_out("success") and not is_timed_out(None)


def test_schema_in_either_shape():
    columns = [{"as": "user_id", "is_by": True, "type": "string"}, {"as": "city", "is_by": False, "type": "string"}]
    new = table_schema({"by_fields": ["user_id"], "columns": columns})
    old = table_schema({"fields": columns})
    assert (new.by_fields, new.columns, new.shape) == (("user_id",), tuple(columns), "columns")
    assert (old.by_fields, old.columns, old.shape) == ((), tuple(columns), "fields")
    assert identity_fields(old.by_fields, old.columns) == identity_fields(new.by_fields, new.columns) == ("user_id",)
    assert table_schema({}).columns == ()


def test_lytics_types():
    assert json_type("int") == {"type": ["integer", "null"]}
    assert json_type("date") == {"type": ["string", "null"], "format": "date-time"}
    assert json_type("ts[]string") == {"type": ["array", "null"], "items": {"type": ["string"]}}
    assert json_type("map[string]int") == {"type": ["object", "null"], "additionalProperties": True}
    assert json_type("geohash") is None
    # issue 23: the types vendor-evidence.md adds
    assert json_type("datetime") == {"type": ["string", "null"], "format": "date-time"}
    assert json_type("geolocation") == {"type": ["string", "null"]}


def test_profile_properties_skip_reserved_and_unknown_types():
    columns = [
        {"as": "_uid", "type": "string", "op": "latest"},
        {"as": "segments", "type": "[]string"},
        {"as": "where", "type": "geohash"},
    ]
    properties, untyped = profile_properties(columns, {"segments"})
    assert list(properties) == ["uid"]
    assert untyped == ["where"]


def test_dynamic_fields_are_kept_whole_in_extra_on_purpose():
    columns = [{"as": "traits", "type": "dynamic"}, {"as": "n", "type": "int"}]
    properties, untyped = profile_properties(columns, set())
    assert list(properties) == ["n"] and untyped == []  # no column, and not reported as an unknown type
    typing = ScalarTyping(columns)
    assert typing.apply({"traits": {"plan": "pro"}, "n": "3"}) == {"n": 3, "_extra": {"traits": {"plan": "pro"}}}
    assert typing.apply({"traits": "7", "_extra": {"x": 1}}) == {"_extra": {"x": 1, "traits": "7"}}
    assert typing.apply({"n": 1}) == {"n": 1}


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
    unkeyed: dict
    for unkeyed in (
        {},
        {"user_id": None},
        {"user_id": "  "},
        {"_uids": []},
        {"_uids": [None, ""]},
        {"user_id": True},
        {"user_id": {}},
    ):
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
    assert typing.apply({"n": "12.5", "x": "nan", "b": "yes", "m": {"1": "lots"}}) == {
        "n": "12.5",
        "x": "nan",
        "b": "yes",
        "m": {"1": "lots"},
    }
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
