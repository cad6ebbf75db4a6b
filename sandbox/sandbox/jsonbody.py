"""Encode large JSON bodies as a stream of chunks, so a 1 GB response never sits in memory."""

from __future__ import annotations

import json
import typing as t

_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
CHUNK_BYTES = 256 * 1024


def json_array_chunks(rows: t.Iterable[t.Any], *, head: bytes = b"", tail: bytes = b"") -> t.Iterator[bytes]:
    """`head + [row, row, ...] + tail`, in chunks of about CHUNK_BYTES."""
    parts: list[str] = []
    size = 0
    first = True
    yield head + b"["
    for row in rows:
        text = _ENCODE(row)
        parts.append(text if first else "," + text)
        first = False
        size += len(text) + 1
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode()
            parts, size = [], 0
    if parts:
        yield "".join(parts).encode()
    yield b"]" + tail


def envelope_chunks(
    rows: t.Iterable[t.Any], before: dict, after: dict | None = None, key: str = "data"
) -> t.Iterator[bytes]:
    """An object envelope whose `key` member is a streamed array: {"status":..,"data":[...]}."""
    head = _ENCODE(before)[:-1].encode() + (b"," if before else b"") + f'"{key}":'.encode()
    tail = b"}"
    if after:
        tail = b"," + _ENCODE(after)[1:].encode()
    return json_array_chunks(rows, head=head, tail=tail)
