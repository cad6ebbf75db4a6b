"""Response bodies that never have to fit in memory.

The whole body is read inside the retried request (so a reset or a timeout mid-body is retried
like any other transient fault) into a spooled file: small bodies stay in memory and are decoded
in C by msgspec in one go; bodies past `SPOOL_LIMIT` go to a temporary file and their records are
decoded block by block, so peak memory does not grow with the size of the response.

A large body's array is cut into runs of whole elements and each run is decoded by msgspec, in C
(`_iter_array_runs`): a block of about `BLOCK_BYTES` is cut after its last `}` + `,` + `{"` (or `],[`
for an array of arrays) and `[` + run + `]` is decoded. A cut inside a string or a nested value cannot
decode (the run would end inside the string, or unbalanced), so a run that decodes holds exactly the
elements between two true boundaries; one that does not is cut at an earlier boundary, or the block
grows. Where no cut works (an element larger than `MAX_RUN_BYTES`, an array of scalars, an array
not found in the body's first `BLOCK_BYTES`), ijson parses the body instead, from the first element
not yet yielded: the same elements, and the same errors, either way.

Spool files live in the temporary directory (TMPDIR) as anonymous files (`tempfile.TemporaryFile`:
on Linux O_TMPFILE, elsewhere unlinked as soon as created), so no exit path can leave one behind, not
even SIGKILL; a body is also closed as soon as its attempt fails (a broken or refused body being
retried), not when the garbage collector gets to it. `TAPKIT_SPOOL_MAX_MEMORY` (bytes) sets the size
past which a body goes to disk (default 4 MiB): lower on a small machine, or in tests to exercise it.
"""

from __future__ import annotations

import os
import re
import tempfile
import typing as t

import ijson
import msgspec

SPOOL_LIMIT = int(os.environ.get("TAPKIT_SPOOL_MAX_MEMORY") or 4 * 1024 * 1024)
CHUNK_SIZE = 256 * 1024  # bytes read from the socket at a time
_DECODER = msgspec.json.Decoder()
BLOCK_BYTES = 1024 * 1024  # bytes of a large body decoded at a time
MAX_RUN_BYTES = 32 * 1024 * 1024  # past this without a boundary, ijson parses the rest
_OBJECT_BOUNDARY = re.compile(rb'\}\s*,\s*\{\s*["}]')  # `},{"`: one object ends, the next begins
_ARRAY_BOUNDARY = re.compile(rb"\]\s*,\s*\[")
_SPACE = b" \t\r\n"


_NOT_DECODED = object()


class BodyDecodeError(ValueError):
    """The body is not the JSON it should be (truncated, HTML, empty...)."""


class SpooledBody:
    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115 - the body outlives this call; close() and __del__ close it
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
        return self._file  # type: ignore[return-value]  # SpooledTemporaryFile is a binary file, typed apart from BinaryIO

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
    done = 0
    for run in _iter_array_runs(body, prefix):
        if run is None:  # no cut works here: ijson from the first element not yet yielded
            break
        yield from run
        done += len(run)
    else:
        return
    try:
        items = ijson.items(body.raw_file(), prefix, use_float=True)
        for _ in range(done):
            next(items)
        yield from items
    except ijson.JSONError as exc:
        raise BodyDecodeError(f"the body is not valid JSON ({exc})") from exc
    except StopIteration:  # pragma: no cover  # ijson found fewer elements than were decoded: cannot be
        raise BodyDecodeError("the body changed while it was read") from None


def _array_start(head: bytes, prefix: str) -> int | None:
    """Offset just after the `[` of the array at `prefix` ("item", "data.item", "data.columns.item"),
    if it opens in `head`: each candidate is checked by decoding what precedes it, closed."""
    keys = prefix.split(".")
    if keys[-1] != "item" or any(not key or key == "item" for key in keys[:-1]):
        return None
    keys = keys[:-1]
    if not keys:
        stripped = head.lstrip(_SPACE)
        return len(head) - len(stripped) + 1 if stripped[:1] == b"[" else None
    name = re.escape(msgspec.json.encode(keys[-1]))
    for match in re.finditer(name + rb"\s*:\s*\[", head):
        try:
            node = _DECODER.decode(head[: match.start()] + match.group()[:-1] + b"null" + b"}" * len(keys))
            for key in keys[:-1]:
                node = node[key]
            if isinstance(node, dict) and keys[-1] in node and node[keys[-1]] is None:
                return match.end()
        except (msgspec.DecodeError, KeyError, TypeError):
            continue
    return None


def _decode_run(pending: bytearray, end: int) -> list | None:
    """The elements in `pending[:end]`, or None if that is not a run of whole elements."""
    try:
        decoded = _DECODER.decode(b"[" + pending[:end] + b"]")
    except msgspec.DecodeError:
        return None
    return decoded if isinstance(decoded, list) else None


def _iter_array_runs(body: SpooledBody, prefix: str) -> t.Iterator[list | None]:
    """Lists of consecutive elements of the array at `prefix`, in order; None where ijson must take over."""
    file = body.raw_file()
    head = file.read(BLOCK_BYTES)
    start = _array_start(head, prefix)
    if start is None:
        yield None
        return
    pending = bytearray(head[start:])
    first = bytes(pending.lstrip(_SPACE)[:1])
    if first == b"]":
        return  # an empty array
    boundary = {b"{": _OBJECT_BOUNDARY, b"[": _ARRAY_BOUNDARY}.get(first)
    if boundary is None:
        yield None  # an array of scalars
        return
    searched = 0  # bytes of `pending` already known to hold no usable boundary
    while True:
        block = file.read(BLOCK_BYTES)
        if not block:
            break
        pending += block
        run = None
        # the last boundaries first: at most a few tries, each a C decode of the run
        for cut in reversed([m.start() for m in boundary.finditer(pending, max(0, searched - 8))][-4:]):
            run = _decode_run(pending, cut + 1)
            if run is not None:
                del pending[: pending.index(b",", cut) + 1]
                searched = 0
                yield run
                break
        else:
            searched = len(pending)
            if len(pending) > MAX_RUN_BYTES:
                yield None
                return
    # the last elements, the array's `]` and whatever of the envelope follows
    cuts = [m.start() for m in boundary.finditer(pending)]
    for cut in reversed(cuts[-4:]):
        run = _decode_run(pending, cut + 1)
        if run is not None:
            del pending[: pending.index(b",", cut) + 1]
            yield run
            break
    for end in (m.start() for m in re.finditer(rb"\]", pending)):
        run = _decode_run(pending, end)
        if run is not None:
            yield run
            if not _envelope_closes(head[: start - 1], pending[end + 1 :], file):
                yield None  # what follows the array is cut short or malformed: ijson says where
            return
    yield None  # truncated or malformed: ijson says where


def _envelope_closes(before: bytes, after: bytes | bytearray, file: t.BinaryIO) -> bool:
    """Whether the document around the array is whole: what precedes it, a null, and what follows."""
    rest = after + file.read(SPOOL_LIMIT)
    if file.read(1):
        return False  # more than a few MB after the array: let ijson judge the whole body
    try:
        _DECODER.decode(before + b"null" + rest)
    except msgspec.DecodeError:
        return False
    return True


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


def top_level_members(body: SpooledBody) -> list[str]:
    """The member names of a top-level JSON object, in order, without building their values."""
    if body.in_memory:
        document = decode_document(body)
        return [str(name) for name in document] if isinstance(document, dict) else []
    try:
        events = ijson.parse(body.raw_file(), use_float=True)
        return [str(value) for prefix, event, value in events if not prefix and event == "map_key"]
    except ijson.JSONError as exc:
        raise BodyDecodeError(f"the body is not valid JSON ({exc})") from exc


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
