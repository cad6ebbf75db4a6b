"""JSON as Gravito writes it: the vendor's own sample of `gravitoData` ends a list with `},]}`.

`loads` first tries strict JSON; only if that fails does it drop the commas that stand right
before a `}` or `]` (outside strings) and try again. Anything else that is not JSON still fails.

`strict_loads` is how every Gravito JSON text is read: msgspec (several times faster than the standard
library on these messages), and the standard library's `json` only for a text msgspec refuses, so that
what it alone accepts (NaN, Infinity, a number out of float range) reads as before, and an error says
what it said before (`JSONDecodeError` with its position).
"""

from __future__ import annotations

import json
import re
import typing as t

import msgspec

_decode = msgspec.json.decode

# A whole string literal (kept as it is), or a comma that only JSON whitespace separates from a `}` or `]`
# (dropped). Strings are matched first, so a comma inside one is never touched.
_STRING_OR_TRAILING_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"|,(?=[ \t\r\n]*[}\]])', re.DOTALL)


def _keep_strings(match: re.Match[str]) -> str:
    token = match.group(0)
    return token if token[0] == '"' else ""


def strip_trailing_commas(text: str) -> str:
    return _STRING_OR_TRAILING_COMMA.sub(_keep_strings, text)


def strict_loads(text: str) -> t.Any:
    """Parse JSON `text` exactly as `json.loads` would, mostly at msgspec's speed; raises `ValueError`."""
    try:
        return _decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


# msgspec names a trailing comma and the byte of the bracket that follows it
_TRAILING_COMMA_AT = re.compile(r"trailing comma in (?:array|object) \(byte (\d+)\)")
_WHITESPACE = b" \t\r\n"
_MISSED = object()


def _decode_dropping_trailing_commas(text: str) -> t.Any:
    """msgspec's decoding of `text` with each trailing comma it reports dropped, one after the other (no regex
    over every string literal: the vendor's texts have one or two); `_MISSED` at the first other error."""
    data = text.encode()  # a lone surrogate raises here, as msgspec's own decoding of the text did
    while True:
        try:
            return _decode(data)
        except msgspec.DecodeError as exc:
            found = _TRAILING_COMMA_AT.search(str(exc))
            if found is None:
                return _MISSED
            head = data[: int(found.group(1))].rstrip(_WHITESPACE)
            if not head.endswith(b","):
                return _MISSED
            data = head[:-1] + data[len(head) :]


def loads(text: str) -> t.Any:
    """Parse `text`, tolerating trailing commas; raises `ValueError` for anything else."""
    # Most vendor texts have the trailing comma. Dropping only the commas msgspec reports gives the same text
    # as `strip_trailing_commas` whenever the result decodes (it then holds no trailing comma outside a string).
    value = _decode_dropping_trailing_commas(text)
    if value is not _MISSED:
        return value
    try:
        return _decode(strip_trailing_commas(text))
    except msgspec.DecodeError:
        pass
    # What only the standard library reads (NaN ...), and its errors, exactly as before. A text it reads has no
    # trailing comma, so msgspec refused it for another reason, and stripping could not have helped.
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(strip_trailing_commas(text))
