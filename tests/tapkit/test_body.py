from __future__ import annotations

import json

import pytest

from tapkit import body as bodies


def spooled(data: bytes) -> bodies.SpooledBody:
    return bodies.SpooledBody.read_from([data[i : i + 65536] for i in range(0, len(data), 65536)])


def test_small_envelope_is_decoded_in_memory():
    body = spooled(json.dumps({"status": "created", "data": [{"a": 1}, {"a": 2}]}).encode())
    assert body.in_memory
    assert list(bodies.iter_items(body, "data.item")) == [{"a": 1}, {"a": 2}]
    assert bodies.top_level_scalars(body, ("status",)) == {"status": "created"}


def test_large_body_spills_to_disk_and_streams_the_same_records():
    rows = [{"id": n, "text": "x" * 100, "rate": 0.5} for n in range(60_000)]
    body = spooled(json.dumps({"status": "created", "data": rows, "message": "done"}).encode())
    assert body.size > bodies.SPOOL_LIMIT and not body.in_memory
    assert list(bodies.iter_items(body, "data.item")) == rows
    assert bodies.top_level_scalars(body, ("status", "message")) == {"status": "created", "message": "done"}


@pytest.mark.parametrize(
    "data",
    [b"", b"<!DOCTYPE html><html>Maintenance</html>", b'{"status":"created","data":[{"a":1},{"a"'],
)
def test_bad_bodies_raise_a_decode_error(data):
    with pytest.raises(bodies.BodyDecodeError):
        list(bodies.iter_items(spooled(data), "data.item"))


def test_truncated_large_body_raises_a_decode_error():
    data = json.dumps([{"id": n, "text": "y" * 200} for n in range(30_000)]).encode()
    body = spooled(data[: len(data) - 50])
    assert not body.in_memory
    with pytest.raises(bodies.BodyDecodeError):
        list(bodies.iter_items(body, "item"))


def test_a_small_body_is_decoded_once_for_every_reader(monkeypatch):
    body = spooled(json.dumps({"status": 200, "data": [{"id": 1}, {"id": 2}]}).encode())
    decodes = []
    real = bodies._DECODER

    class CountingDecoder:
        def decode(self, data):
            decodes.append(len(data))
            return real.decode(data)

    monkeypatch.setattr(bodies, "_DECODER", CountingDecoder())
    assert bodies.top_level_scalars(body, ["status"]) == {"status": 200}  # the envelope check
    assert bodies.top_level_scalars(body, ["status"]) == {"status": 200}  # a second check, in parse_response
    assert list(bodies.iter_items(body, "data.item")) == [{"id": 1}, {"id": 2}]
    assert len(decodes) == 1


def test_a_large_body_is_scanned_once_for_its_envelope_however_many_checks_ask(monkeypatch):
    rows = [{"id": n, "text": "x" * 100} for n in range(50_000)]  # about 6 MB: spooled to disk
    body = spooled(json.dumps({"data": rows, "status": 200, "message": "success"}).encode())  # status after data
    assert not body.in_memory
    scans = []
    real_parse = bodies.ijson.parse

    def counting_parse(*args, **kwargs):
        scans.append(1)
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(bodies.ijson, "parse", counting_parse)
    assert bodies.top_level_scalars(body, ("status", "message")) == {"status": 200, "message": "success"}
    assert bodies.top_level_scalars(body, ["message", "status"]) == {"status": 200, "message": "success"}
    assert len(scans) == 1
    assert sum(1 for _ in bodies.iter_items(body, "data.item")) == 50_000


def test_top_level_members_are_named_in_order_in_memory_and_spooled():
    small = spooled(json.dumps({"fields": ["a"], "rows": [["1"]], "rowMetadata": [{"n": 1}]}).encode())
    assert small.in_memory
    assert bodies.top_level_members(small) == ["fields", "rows", "rowMetadata"]
    rows = [[str(n), "x" * 100] for n in range(60_000)]
    large = spooled(json.dumps({"fields": ["a", "b"], "rows": rows, "meta": {"rows": 1}, "note": "n"}).encode())
    assert not large.in_memory
    assert bodies.top_level_members(large) == ["fields", "rows", "meta", "note"]  # nested keys are not members
    assert bodies.top_level_members(spooled(b"[1, 2]")) == []
    with pytest.raises(bodies.BodyDecodeError):
        bodies.top_level_members(spooled(b'{"fields": ["a"], "rows": [["1"'))
