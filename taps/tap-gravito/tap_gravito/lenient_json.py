"""JSON as Gravito writes it: the vendor's own sample of `gravitoData` ends a list with `},]}`.

`loads` first tries strict JSON; only if that fails does it drop the commas that stand right
before a `}` or `]` (outside strings) and try again. Anything else that is not JSON still fails.
"""

from __future__ import annotations

import json
import typing as t

_CLOSERS = "}]"
_WHITESPACE = " \t\r\n"


def strip_trailing_commas(text: str) -> str:
    out: list[str] = []
    in_string = escaped = False
    pending_comma: int | None = None  # index in `out` of a comma that may turn out to be trailing
    for char in text:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char in _CLOSERS and pending_comma is not None:
            del out[pending_comma]
        if char not in _WHITESPACE:
            pending_comma = None
        if char == ",":
            pending_comma = len(out)
        elif char == '"':
            in_string = True
        out.append(char)
    return "".join(out)


def loads(text: str) -> t.Any:
    """Parse `text`, tolerating trailing commas; raises `ValueError` for anything else."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(strip_trailing_commas(text))
