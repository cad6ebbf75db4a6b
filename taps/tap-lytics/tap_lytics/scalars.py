"""Profile values Lytics sends as text, typed by the column type of `/api/schema/<table>`.

Evidence (vendor-evidence.md): go-lytics' mocks send `"score_frequency": "100"`, `"visitct": "214"`,
`"app_ismobile": "t"`, map values `{"1": "28"}`; webhooks send native numbers but still `"t"`/`"f"`.
So an `int`, `number`/`float` or `bool` field (and the items of `[]int`, the values of
`map[string]int` ...) is converted from text: `"100"` -> 100, `"12.5"` -> 12.5, `"t"`/`"true"` -> true,
`"f"`/`"false"` -> false (any case). Native values pass unchanged. Text that does not convert is left
as it came, so the kit's shaper keeps it in `_extra` and warns (as for any drift); an array or map
with one such item is left whole. A `dynamic` field (any JSON value) is moved whole into `_extra`
on purpose, without a drift warning (see profile_schema.py).
"""

from __future__ import annotations

import math
import re
import typing as t

from tap_lytics.profile_schema import KEPT_IN_EXTRA
from tapkit import EXTRA_COLUMN

_INT_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_TRUE = frozenset({"t", "true"})
_FALSE = frozenset({"f", "false"})


class _NotConvertible(Exception):
    pass


def _to_int(text: str) -> int:
    if _INT_TEXT.fullmatch(text):
        return int(text)
    raise _NotConvertible


def _to_number(text: str) -> int | float:
    if _INT_TEXT.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        raise _NotConvertible from None
    if not math.isfinite(number):  # "nan", "inf" are words, not measurements
        raise _NotConvertible
    return number


def _to_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _NotConvertible


_SCALARS: dict[str, t.Callable[[str], t.Any]] = {
    "int": _to_int,
    "number": _to_number,
    "float": _to_number,
    "bool": _to_bool,
}


def _scalar(convert: t.Callable[[str], t.Any]) -> t.Callable[[t.Any], t.Any]:
    def coerce(value: t.Any) -> t.Any:
        if type(value) is not str:
            return value
        try:
            return convert(value)
        except _NotConvertible:
            return value

    return coerce


def _items(convert: t.Callable[[str], t.Any]) -> t.Callable[[t.Any], t.Any]:
    def coerce(value: t.Any) -> t.Any:
        if type(value) is not list or not any(type(item) is str for item in value):
            return value
        try:
            return [convert(item) if type(item) is str else item for item in value]
        except _NotConvertible:
            return value

    return coerce


def _values(convert: t.Callable[[str], t.Any]) -> t.Callable[[t.Any], t.Any]:
    def coerce(value: t.Any) -> t.Any:
        if type(value) is not dict or not any(type(item) is str for item in value.values()):
            return value
        try:
            return {key: convert(item) if type(item) is str else item for key, item in value.items()}
        except _NotConvertible:
            return value

    return coerce


def converter(lytics_type: str) -> t.Callable[[t.Any], t.Any] | None:
    """How a value of this Lytics type is typed from text; None when no conversion applies."""
    kind = lytics_type.strip()
    if kind in _SCALARS:
        return _scalar(_SCALARS[kind])
    if kind.startswith("map[") and "]" in kind:
        inner = _SCALARS.get(kind.split("]", 1)[1])
        return _values(inner) if inner else None
    if "[]" in kind:
        inner = _SCALARS.get(kind.split("]", 1)[1])
        return _items(inner) if inner else None
    return None


class ScalarTyping:
    """Compiled once from the schema's columns: `apply(row)` types the row's text values in place."""

    def __init__(self, columns: t.Iterable[dict]) -> None:
        self._converters: dict[str, t.Callable[[t.Any], t.Any]] = {}
        self._kept: list[str] = []  # `dynamic` fields, moved whole into `_extra`
        for column in columns:
            field, kind = str(column.get("as") or ""), str(column.get("type") or "")
            if field and kind.strip() in KEPT_IN_EXTRA:
                self._kept.append(field)
                continue
            convert = converter(kind)
            if field and convert is not None:
                self._converters[field] = convert

    def apply(self, row: dict) -> dict:
        for field, convert in self._converters.items():
            if field in row:
                row[field] = convert(row[field])
        kept = {field: row.pop(field) for field in self._kept if field in row}
        if kept:
            extra = row.get(EXTRA_COLUMN)
            row[EXTRA_COLUMN] = {**(extra if isinstance(extra, dict) else {}), **kept}
        return row
