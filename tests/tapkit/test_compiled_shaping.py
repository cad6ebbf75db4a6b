"""The shaper's compiled layouts give exactly the record, `_extra`, warnings and drift counts of its
general path, for values that fit and for every kind that does not."""

from __future__ import annotations

import itertools
import logging
import typing as t

import pytest

from tapkit.shaping import MAX_LAYOUTS, RecordShaper

SCHEMA = {
    "properties": {
        "cmp_id": {"type": ["integer", "null"]},
        "count": {"type": "integer"},
        "rate": {"type": ["number", "null"]},
        "enabled": {"type": ["boolean", "null"]},
        "name": {"type": ["string", "null"]},
        "changed_at": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "payload": {"type": ["object", "null"]},
        "tags": {"type": ["array", "null"]},
        "anything": {},
        "profile_id": {"type": ["string"]},
        "_extra": {"type": ["object", "null"]},
    }
}

VALUES: dict[str, list[t.Any]] = {
    "cmpID": ["3", 3, 3.0, 3.5, "-4", " 7 ", "x", None, True, "²", "1_000", "2526000001", {"a": 1}, [1]],
    "count": [5, "5", None, "five"],
    "rate": [0.5, 2, "0.25", "1e3", None, "n/a"],
    "enabled": [True, "1", "false", 0, None, "yes"],
    "name": ["a", None, 3, {"k": 1}],
    "changedAt": [
        "2026-11-20 13:05:09",
        "2026-11-20T13:05:09Z",
        "2026-11-20T15:05:09+02:00",
        "2026-11-20 13:05",
        "2026-11-20",
        "2026-13-45 10:00:00",
        "2026-11-20 13:05:09.25",
        None,
        17,
    ],
    "day": ["2026-11-20", "2026-11-20 10:00:00", None, "soon"],
    "payload": [{"a": 1}, {"password": "p", "a": [{"token": "t"}]}, None, [1], "text"],
    "tags": [[1, 2], None, {"a": 1}],
    "anything": [1, "x", None, {"api_key": "k"}, [{"secret": "s"}]],
    "profile_id": ["p", None, 9],
}


def shape_both(rows: list[dict], lenient: bool, caplog) -> tuple[list, list, list, list, dict, dict]:
    compiled = RecordShaper("s", SCHEMA, lenient_numbers=lenient, logger=logging.getLogger("compiled"))
    general = RecordShaper("s", SCHEMA, lenient_numbers=lenient, logger=logging.getLogger("general"))
    with caplog.at_level(logging.WARNING):
        fast = [compiled.shape(dict(row)) for row in rows]
        compiled_logs = [r.getMessage() for r in caplog.records if r.name == "compiled"]
        slow = [general._shape_general(dict(row)) for row in rows]
        general_logs = [r.getMessage() for r in caplog.records if r.name == "general"]
    return fast, slow, compiled_logs, general_logs, compiled.drift_counts, general.drift_counts


@pytest.mark.parametrize("lenient", [True, False])
def test_every_value_kind_gives_the_general_paths_record(lenient, caplog):
    # each field's values in turn, the others at their first (fitting) value: every branch of every column
    base = {field: values[0] for field, values in VALUES.items()}
    rows = [base] + [{**base, field: value} for field, values in VALUES.items() for value in values]
    fast, slow, fast_logs, slow_logs, fast_drift, slow_drift = shape_both(rows, lenient, caplog)
    assert [list(record.items()) for record in fast] == [list(record.items()) for record in slow]  # order too
    assert fast_logs == slow_logs
    assert fast_drift == slow_drift
    assert fast[0]["changed_at"] == "2026-11-20T13:05:09+00:00"
    assert (fast[0]["cmp_id"], fast[0].get("_extra")) == ((3, None) if lenient else (None, {"cmpID": "3"}))


def test_undeclared_and_credential_fields_take_the_general_path(caplog):
    rows: list[dict] = [
        {"cmpID": "1", "newField": 2},
        {"cmpID": "1", "apiKey": "k"},
        {"cmpID": "1", "_extra": {"a": 1}},
    ]
    fast, slow, fast_logs, slow_logs, _, _ = shape_both(rows, True, caplog)
    assert (
        fast
        == slow
        == [
            {"cmp_id": 1, "_extra": {"newField": 2}},
            {"cmp_id": 1},
            {"cmp_id": 1, "_extra": {"a": 1}},
        ]
    )
    assert fast_logs == slow_logs and len(fast_logs) == 2


def test_layouts_are_bounded_and_field_order_is_a_layout():
    shaper = RecordShaper("s", SCHEMA, lenient_numbers=True)
    fields = ["cmpID", "count", "rate", "name", "day"]
    for order in itertools.islice(itertools.permutations(fields), MAX_LAYOUTS + 10):
        row = {"cmpID": "1", "count": 2, "rate": 0.5, "name": "n", "day": "2026-11-20"}
        assert shaper.shape({field: row[field] for field in order}) == {
            "cmp_id": 1,
            "count": 2,
            "rate": 0.5,
            "name": "n",
            "day": "2026-11-20",
        }
    assert len(shaper._layouts) == MAX_LAYOUTS
