"""Response bodies that never have to fit in memory.

The whole body is read inside the retried request (so a reset or a timeout mid-body is retried
like any other transient fault) into a spooled file: small bodies stay in memory and are decoded
in C by msgspec in one go; bodies past `SPOOL_LIMIT` go to a temporary file and their records are
parsed incrementally with ijson, so peak memory does not grow with the size of the response.

Spool files live in the temporary directory (TMPDIR) as anonymous files (`tempfile.TemporaryFile`:
on Linux O_TMPFILE, elsewhere unlinked as soon as created), so no exit path can leave one behind, not
even SIGKILL; a body is also closed as soon as its attempt fails (a broken or refused body being
retried), not when the garbage collector gets to it. `TAPKIT_SPOOL_MAX_MEMORY` (bytes) sets the size
past which a body goes to disk (default 4 MiB): lower on a small machine, or in tests to exercise it.
"""

from __future__ import annotations

import os
import tempfile
import typing as t

import ijson
import msgspec

SPOOL_LIMIT = int(os.environ.get("TAPKIT_SPOOL_MAX_MEMORY") or 4 * 1024 * 1024)
CHUNK_SIZE = 256 * 1024  # bytes read from the socket at a time
_DECODER = msgspec.json.Decoder()


_NOT_DECODED = object()


class BodyDecodeError(ValueError):
    """The body is not the JSON it should be (truncated, HTML, empty...)."""


class SpooledBody:
    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115
        self.size = 0
        self.document: t.Any = _NOT_DECODED  # a small body, decoded once for every reader of it
        self.scalars: dict[frozenset[str], dict[str, t.Any]] = {}  # a large body's top-level scalars, by keys

    @classmethod
    def read_from(cls, chunks: t.Iterable[bytes]) -> SpooledBody:
        body = cls()
        try:
            for chunk in chunks:
                body._file.write(chunk)
                body.size += len(chunk)
        except BaseException:  # a broken body (to be retried), or a stop signal: its spool goes now
            body.close()
            raise
        body._file.seek(0)
        return body

    @property
    def in_memory(self) -> bool:
        return not getattr(self._file, "_rolled", False)

    def head(self, length: int = 200) -> bytes:
        self._file.seek(0)
        data = self._file.read(length)
        self._file.seek(0)
        return data

    def read_all(self) -> bytes:
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(0)
        return data

    def raw_file(self) -> t.BinaryIO:
        self._file.seek(0)
        return self._file  # type: ignore[return-value]

    def close(self) -> None:
        self._file.close()

    def __del__(self) -> None:
        self._file.close()


def decode_document(body: SpooledBody) -> t.Any:
    """Decode a whole (small) JSON document, once: the envelope checks and the records share it."""
    if body.document is not _NOT_DECODED:
        return body.document
    if body.size == 0:
        raise BodyDecodeError("the body is empty")
    try:
        body.document = _DECODER.decode(body.read_all())
    except msgspec.DecodeError as exc:
        raise BodyDecodeError(f"the body is not valid JSON ({exc})") from exc
    return body.document


def _prefix_get(document: t.Any, prefix: str) -> t.Any:
    """Follow an ijson prefix ('data.item', 'item') in an already decoded document."""
    node = document
    parts = prefix.split(".") if prefix else []
    if parts and parts[-1] == "item":
        parts = parts[:-1]
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def iter_items(body: SpooledBody, prefix: str) -> t.Iterator[t.Any]:
    """Yield each element of the array at `prefix` ("item" = top-level array, "data.item" ...)."""
    if body.in_memory:
        array = _prefix_get(decode_document(body), prefix)
        if array is None:
            return
        if not isinstance(array, list):
            raise BodyDecodeError(f"expected a JSON array at '{prefix.removesuffix('.item') or '$'}'")
        yield from array
        return
    if body.size == 0:
        raise BodyDecodeError("the body is empty")
    try:
        yield from ijson.items(body.raw_file(), prefix, use_float=True)
    except ijson.JSONError as exc:
        raise BodyDecodeError(f"the body is not valid JSON ({exc})") from exc


def top_level_scalars(body: SpooledBody, keys: t.Collection[str]) -> dict[str, t.Any]:
    """The scalar members `keys` of a top-level JSON object, without building its arrays."""
    if body.in_memory:
        document = decode_document(body)
        if not isinstance(document, dict):
            raise BodyDecodeError("expected a JSON object")
        return {key: document.get(key) for key in keys}
    wanted = frozenset(keys)
    if wanted in body.scalars:  # a large body is scanned once per set of keys, however many checks ask
        return dict(body.scalars[wanted])
    found: dict[str, t.Any] = {}
    try:
        for prefix, event, value in ijson.parse(body.raw_file(), use_float=True):
            if prefix in wanted and event in ("string", "number", "boolean", "null"):
                found[prefix] = value
                if len(found) == len(wanted):
                    break  # envelopes that put their status first need no read of the records
    except ijson.JSONError as exc:
        raise BodyDecodeError(f"the body is not valid JSON ({exc})") from exc
    body.scalars[wanted] = found
    return dict(found)


_KIND_OF_EVENT = {
    "start_array": "array",
    "start_map": "object",
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "null": "null",
}


def member_kind(body: SpooledBody, key: str) -> tuple[str, t.Any]:
    """(JSON kind, value if scalar) of the top-level member `key`, without building it: ("array", None),
    ("string", "text"), ("missing", None) ... A large body is read only up to the member's first event."""
    if body.in_memory:
        document = decode_document(body)
        if not isinstance(document, dict) or key not in document:
            return "missing", None
        value = document[key]
        if isinstance(value, (list, dict)):
            return ("array" if isinstance(value, list) else "object"), None
        kind = (
            "null"
            if value is None
            else "string"
            if isinstance(value, str)
            else "boolean"
            if isinstance(value, bool)
            else "number"
        )
        return kind, value
    try:
        for prefix, event, value in ijson.parse(body.raw_file(), use_float=True):
            if prefix == key:
                kind = _KIND_OF_EVENT.get(event, event)
                return kind, value if kind not in ("array", "object") else None
    except ijson.JSONError as exc:
        raise BodyDecodeError(f"the body is not valid JSON ({exc})") from exc
    return "missing", None
