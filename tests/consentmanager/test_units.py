"""Pure parts of tap-consentmanager: what `data` is (small and large bodies), duplicate keys, text ids."""

from __future__ import annotations

import json

import pytest

from tap_consentmanager.duplicates import DuplicateKeys
from tap_consentmanager.envelope import data_member
from tap_consentmanager.ids import id_text
from tapkit import body as bodies


def spooled(data: bytes) -> bodies.SpooledBody:
    return bodies.SpooledBody.read_from([data[i : i + 65536] for i in range(0, len(data), 65536)])


def envelope(data: object) -> bytes:
    return json.dumps({"status": "created", "message": "Data report created", "data": data}).encode()


CSV = "cmpID,designID,country\n" + "3,13,DE\n" * 3
#: (data, kind, is_array, is_empty_report)
SHAPES = [
    ([{"id": "1"}], "array", True, False),
    ([], "array", True, False),
    ("", "string", False, True),
    (None, "null", False, True),
    (CSV, "string", False, False),
    ({"rows": []}, "object", False, False),
    (7, "number", False, False),
]


@pytest.mark.parametrize(("data", "kind", "is_array", "is_empty"), SHAPES)
def test_data_member_of_a_small_body(data, kind, is_array, is_empty):
    member = data_member(spooled(envelope(data)))
    assert (member.kind, member.is_array, member.is_empty_report) == (kind, is_array, is_empty)


@pytest.mark.parametrize(("data", "kind", "is_array", "is_empty"), SHAPES)
def test_data_member_of_a_large_body_is_found_without_reading_the_rest(data, kind, is_array, is_empty):
    # 5 MB of padding after `data`: the body spills to disk and is scanned with ijson
    padded = json.dumps({"status": "created", "data": data, "padding": "p" * (5 * 1024 * 1024)}).encode()
    body = spooled(padded)
    assert not body.in_memory
    member = data_member(body)
    assert (member.kind, member.is_array, member.is_empty_report) == (kind, is_array, is_empty)


def test_large_csv_text_is_described_with_its_length_and_start():
    text = "cmpID,designID,country,date\n" + "3,13,DE,2026-11-30\n" * 300_000
    body = spooled(envelope(text))
    assert not body.in_memory
    member = data_member(body)
    assert member.text == text
    assert (
        member.describe() == f"CSV text ({len(text):,} characters) starting 'cmpID,designID,country,date 3,13,DE,2026…'"
    )


def test_a_missing_data_member_and_a_body_that_is_not_json():
    assert data_member(spooled(b'{"status":"created"}')).kind == "missing"
    with pytest.raises(bodies.BodyDecodeError):
        data_member(spooled(b"<html>Maintenance</html>"))


def test_duplicate_keys_count_repeats_and_name_the_columns_that_differ():
    check = DuplicateKeys(("cmpID", "hour"))
    check.check(
        [
            {"cmpID": "1", "hour": "0", "pageView": "10", "region": "north"},
            {"cmpID": "1", "hour": "1", "pageView": "10", "region": "north"},
            {"cmpID": "1", "hour": "0", "pageView": "7", "region": "south"},
            {"cmpID": "1", "hour": "0", "pageView": "10", "region": "west"},
        ]
    )
    assert check.repeats == 2 and len(check.keys) == 1
    assert (
        check.summary() == "2 rows repeat the primary key of an earlier row (keys "
        "affected: 1); the columns that differ: pageView, region"
    )


def test_identical_repeated_rows_are_counted_too():
    check = DuplicateKeys(("id",))
    check.check([{"id": "1", "a": "x"}, {"id": "1", "a": "x"}])
    assert (
        check.summary() == "1 rows repeat the primary key of an earlier row (keys "
        "affected: 1); the columns that differ: none (identical rows)"
    )


@pytest.mark.parametrize(
    ("value", "text"), [(1, "1"), (1.0, "1"), ("c52", "c52"), ("1", "1"), (None, None), (True, True)]
)
def test_ids_become_text(value, text):
    assert id_text(value) == text


def test_unique_keys_count_no_repeat_even_when_the_bit_set_gives_false_candidates():
    rows = [{"id": str(n), "hour": str(n % 24)} for n in range(200_000)]
    check = DuplicateKeys(("id", "hour"))
    for row in rows:
        check.add(row)
    check.confirm(rows)
    assert (check.repeats, check.keys, check.differing) == (0, set(), set())


def test_a_small_day_of_unique_keys_is_not_read_again():
    check = DuplicateKeys(("id",))
    for n in range(1_000):
        check.add({"id": str(n)})
    assert not check.has_candidates


def test_the_second_pass_keeps_rows_of_candidate_keys_only():
    rows = [{"id": str(n), "v": "a"} for n in range(50_000)] + [{"id": "7", "v": "b"}, {"id": "9", "v": "a"}]
    check = DuplicateKeys(("id",))
    for row in rows:
        check.add(row)
    assert check.has_candidates
    check.confirm(iter(rows))
    assert (check.repeats, sorted(check.keys), check.differing) == (2, [("7",), ("9",)], {"v"})
