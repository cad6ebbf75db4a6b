from __future__ import annotations

import datetime as dt
import logging

import pytest

from tapkit.shaping import Mismatch, RecordShaper, snake_case, to_datetime_text

SCHEMA = {
    "properties": {
        "cmp_id": {"type": ["integer", "null"]},
        "page_view": {"type": ["integer", "null"]},
        "rate": {"type": ["number", "null"]},
        "enabled": {"type": ["boolean", "null"]},
        "name": {"type": ["string", "null"]},
        "changed_at": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "payload": {"type": ["object", "null"]},
        "profile_id": {"type": ["string"]},
        "_extra": {"type": ["object", "null"]},
    }
}


@pytest.mark.parametrize(
    ("vendor", "column"),
    [
        ("cmpID", "cmp_id"),
        ("pageView", "page_view"),
        ("restrictCMP", "restrict_cmp"),
        ("externalID1", "external_id1"),
        ("already_snake", "already_snake"),
        ("URLPath", "url_path"),
        ("last-login", "last_login"),
    ],
)
def test_snake_case(vendor, column):
    assert snake_case(vendor) == column


def test_lenient_numbers_turn_numeric_text_into_numbers():
    shaper = RecordShaper("s", SCHEMA, lenient_numbers=True)
    record = shaper.shape({"cmpID": "3", "pageView": "-12", "rate": "0.25", "enabled": "1", "profile_id": "p"})
    assert record == {"cmp_id": 3, "page_view": -12, "rate": 0.25, "enabled": True, "profile_id": "p"}


def test_strict_numbers_keep_numeric_text_out_of_number_columns():
    shaper = RecordShaper("s", SCHEMA)
    record = shaper.shape({"cmpID": "3", "profile_id": "p"})
    assert record == {"cmp_id": None, "profile_id": "p", "_extra": {"cmpID": "3"}}


def test_datetimes_become_iso_utc():
    shaper = RecordShaper("s", SCHEMA)
    record = shaper.shape({"changed_at": "2026-11-20 13:05:09", "day": "2026-11-20", "profile_id": "p"})
    assert record["changed_at"] == "2026-11-20T13:05:09+00:00"
    assert record["day"] == "2026-11-20"
    assert shaper.shape({"changed_at": "2026-11-20T15:05:09+02:00", "profile_id": "p"})["changed_at"] == (
        "2026-11-20T13:05:09+00:00"
    )


def test_undeclared_fields_and_mistyped_values_land_in_extra_with_one_warning_each(caplog):
    shaper = RecordShaper("cmp_report", SCHEMA, logger=logging.getLogger("test.shaper"))
    with caplog.at_level(logging.WARNING, logger="test.shaper"):
        first = shaper.shape({"newMetric": 5, "pageView": "many", "profile_id": "p"})
        second = shaper.shape({"newMetric": 6, "pageView": "lots", "profile_id": "q"})
    assert first == {"page_view": None, "profile_id": "p", "_extra": {"newMetric": 5, "pageView": "many"}}
    assert second["_extra"] == {"newMetric": 6, "pageView": "lots"}
    assert len(caplog.records) == 2
    assert "'newMetric'" in caplog.records[0].getMessage() or "'newMetric'" in caplog.records[1].getMessage()
    assert shaper.drift_counts == {"newMetric": 2, "pageView": 2}


def test_a_null_in_a_required_column_is_kept_in_extra():
    shaper = RecordShaper("s", SCHEMA)
    assert shaper.shape({"profile_id": None}) == {"profile_id": None, "_extra": {"profile_id": None}}


def test_explicit_renames_win_over_snake_case():
    shaper = RecordShaper("s", SCHEMA, renames={"i": "profile_id"})
    assert shaper.shape({"i": "abc"}) == {"profile_id": "abc"}


@pytest.mark.parametrize(
    "value",
    ["2026-11-20T13:05:09+00:00", "2026-11-20 13:05:09+00:00", "2026-11-20T13:05:09Z", "2026-11-20T15:05:09+02:00"],
)
def test_a_utc_text_is_written_as_parsing_it_would(value):
    # the fast path (whole seconds, naive, Z or +00:00) writes what parsing and converting to UTC writes
    assert to_datetime_text(value) == dt.datetime.fromisoformat(value).astimezone(dt.UTC).isoformat()


@pytest.mark.parametrize("value", ["2026-13-45T10:00:00+00:00", "2026-11-20T24:00:00+00:00"])
def test_an_impossible_utc_text_does_not_fit(value):
    with pytest.raises(Mismatch):
        to_datetime_text(value)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T13:05:09.000Z",  # JavaScript's toISOString (Didomi's exports): the fast path
        "2026-11-20 13:05:09.0",
        "2026-11-20T13:05:09.000000",
        "2026-11-20T13:05:09.120Z",  # a fraction that is not zero keeps its digits (the general path)
        "2026-11-20T13:05:09.000+02:00",
    ],
)
def test_a_fraction_of_a_second_gives_the_text_the_parser_gives(text):
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    expected = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
    assert RecordShaper("s", SCHEMA).shape({"changed_at": text, "profile_id": "p"})["changed_at"] == expected


def test_an_impossible_time_with_a_zero_fraction_is_kept_in_extra():
    record = RecordShaper("s", SCHEMA).shape({"changed_at": "2026-11-20T25:05:09.000Z", "profile_id": "p"})
    assert record["changed_at"] is None
    assert record["_extra"] == {"changed_at": "2026-11-20T25:05:09.000Z"}
