"""Pure functions: the resume decision and the Lytics-type mapping (no server needed)."""

from __future__ import annotations

import datetime as dt

from tap_lytics import scan_state
from tap_lytics.client import is_success
from tap_lytics.profile_schema import json_type, profile_properties

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
