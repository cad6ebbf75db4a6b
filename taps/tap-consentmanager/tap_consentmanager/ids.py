"""Custom purpose and vendor ids are text.

The vendor's own SDKs address custom purposes and vendors as "c53" and "s2789", the type 9 sample shows
"c24", the type 10 sample "1" (vendor-evidence.md). A column typed integer would null every "c52" (and
park it in `_extra`), so these columns are strings, and an id the vendor sends as a JSON number becomes
its text ("1"), the same value the text form would have given.
"""

from __future__ import annotations

import typing as t


def id_text(value: t.Any) -> t.Any:
    """1 -> "1", 1.0 -> "1"; text and null unchanged; anything else is left for the shaper to judge."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def ids_as_text(row: dict, fields: t.Iterable[str]) -> dict:
    for field in fields:
        if field in row:
            row[field] = id_text(row[field])
    return row
