"""A large body's array decoded run by run (msgspec, in C) yields exactly what ijson yields, for
every shape that can fool a cut (boundaries inside strings and nested values, whitespace, arrays
of arrays, nested prefixes), and hands over to ijson where no cut works."""

from __future__ import annotations

import json

import ijson
import pytest

from tapkit import body as bodies


def spooled(data: bytes) -> bodies.SpooledBody:
    return bodies.SpooledBody.read_from([data[i : i + 65536] for i in range(0, len(data), 65536)])


def tricky_rows(count: int) -> list:
    return [
        {
            "id": n,
            "text": '},{"' * (n % 3) + "x" * (n % 50),  # a boundary's bytes inside a string
            "nested": [{"a": n}, {"b": [n, {"c": "]"}]}] if n % 2 else {},
            "quote": 'he said "},{" and left',
            "rate": n / 7,
            "none": None,
            "unicode": "åäö ☃",
        }
        for n in range(count)
    ]


def ijson_items(data: bytes, prefix: str) -> list:
    return list(ijson.items(data, prefix, use_float=True))


@pytest.mark.parametrize(
    ("document", "prefix"),
    [
        (lambda rows: {"status": "created", "data": rows, "message": "done"}, "data.item"),
        (lambda rows: rows, "item"),
        (lambda rows: {"meta": {"data": [1]}, "data": rows}, "data.item"),  # a nested "data" comes first
        (lambda rows: {"data": {"columns": rows, "total": 1}}, "data.columns.item"),
        (
            lambda rows: {
                "fields": ["a", "b"],
                "rows": [[r["id"], r["text"], [r["id"]], r["quote"], r["unicode"], "x" * 60] for r in rows],
            },
            "rows.item",
        ),
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_runs_yield_what_ijson_yields(document, prefix, indent):
    data = json.dumps(document(tricky_rows(40_000)), indent=indent, ensure_ascii=False).encode()
    body = spooled(data)
    assert not body.in_memory
    decoded = list(bodies.iter_items(body, prefix))
    assert len(decoded) == 40_000
    assert decoded == ijson_items(data, prefix)


def test_runs_are_decoded_by_msgspec_not_ijson(monkeypatch):
    data = json.dumps({"status": "ok", "data": tricky_rows(30_000)}).encode()
    monkeypatch.setattr(bodies.ijson, "items", lambda *_args, **_kwargs: pytest.fail("ijson was used"))
    assert len(list(bodies.iter_items(spooled(data), "data.item"))) == 30_000


@pytest.mark.parametrize(
    "data",
    [
        json.dumps({"data": list(range(1_000_000))}).encode(),  # scalars: no boundary to cut at
        json.dumps({"big": "x" * 2_000_000, "data": tricky_rows(20_000)}).encode(),  # array opens late
    ],
)
def test_where_no_cut_works_ijson_takes_over_with_the_same_elements(data):
    assert list(bodies.iter_items(spooled(data), "data.item")) == ijson_items(data, "data.item")


def test_an_element_larger_than_a_run_hands_over_mid_array(monkeypatch):
    monkeypatch.setattr(bodies, "MAX_RUN_BYTES", 3 * bodies.BLOCK_BYTES)
    rows = tricky_rows(20_000)
    rows[15_000] = {"huge": "y" * (5 * bodies.BLOCK_BYTES)}
    data = json.dumps({"data": rows}).encode()
    assert list(bodies.iter_items(spooled(data), "data.item")) == rows


@pytest.mark.parametrize("cut", [1, 50, 5000])
def test_a_truncated_body_yields_what_it_holds_then_a_decode_error(cut):
    data = json.dumps({"data": tricky_rows(30_000), "status": "ok"}).encode()[:-cut]
    got = []
    with pytest.raises(bodies.BodyDecodeError):
        for item in bodies.iter_items(spooled(data), "data.item"):
            got.append(item)
    assert got == tricky_rows(30_000)[: len(got)]


def test_a_malformed_envelope_after_the_array_is_a_decode_error_as_with_ijson():
    data = json.dumps({"data": tricky_rows(30_000)}).encode()[:-1] + b',"status":}'
    with pytest.raises(bodies.BodyDecodeError):
        list(bodies.iter_items(spooled(data), "data.item"))


def test_an_empty_large_array_yields_nothing():
    data = json.dumps({"pad": "z" * 5_000_000, "data": []}).encode()
    assert list(bodies.iter_items(spooled(data), "data.item")) == []
    data = json.dumps({"data": [], "pad": "z" * 5_000_000}).encode()
    assert list(bodies.iter_items(spooled(data), "data.item")) == []
