"""Turn raw vendor rows into typed records without ever dropping data.

`RecordShaper` is compiled once per stream from its JSON schema:
- vendor field names become snake_case columns (`cmpID` -> `cmp_id`), or a stream's explicit rename;
- each value is converted to its column's declared type (strictly, or also from numeric strings
  where a vendor sends numbers as text);
- a field the schema does not declare, or a value that does not fit its type, is kept in the
  object column `_extra` (vendor field name -> raw value), the column gets null, and one warning
  per stream and field says so.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import typing as t

EXTRA_COLUMN = "_extra"

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z\d])([A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")
_INT_TEXT = re.compile(r"[+-]?\d+")
_NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_SQL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def snake_case(name: str) -> str:
    """`cmpID` -> `cmp_id`, `pageView` -> `page_view`, `restrictCMP` -> `restrict_cmp`."""
    name = _ACRONYM.sub(r"\1_\2", name)
    name = _CAMEL.sub(r"\1_\2", name)
    return _NON_WORD.sub("_", name).strip("_").lower()


class Mismatch(Exception):
    """A value does not fit its column's declared type."""


def to_datetime_text(value: t.Any) -> str:
    """ISO 8601 with time zone; naive vendor times ("YYYY-MM-DD hh:mm:ss") are taken as UTC."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and _SQL_DATETIME.match(value):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Mismatch from exc
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        parsed = dt.datetime.fromisoformat(value)
    else:
        raise Mismatch
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc).isoformat()


def _to_date_text(value: t.Any) -> str:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError as exc:
            raise Mismatch from exc
    raise Mismatch


def _converter(prop: dict, lenient_numbers: bool) -> t.Callable[[t.Any], t.Any]:
    types = prop.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    nullable = "null" in types
    kinds = [kind for kind in types if kind != "null"]
    fmt = prop.get("format")
    kind = kinds[0] if len(kinds) == 1 else None

    def convert(value: t.Any) -> t.Any:
        if value is None:
            if nullable:
                return None
            raise Mismatch
        return _convert_one(value)

    if not kinds or kind is None:
        return lambda value: value  # a union or untyped column takes anything

    if kind == "integer":

        def _convert_one(value: t.Any) -> t.Any:
            if type(value) is int:
                return value
            if type(value) is float and value.is_integer():
                return int(value)
            if lenient_numbers and isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
                return int(value)
            raise Mismatch

    elif kind == "number":

        def _convert_one(value: t.Any) -> t.Any:
            if type(value) in (int, float):
                return value
            if lenient_numbers and isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
                number = float(value)
                return int(number) if _INT_TEXT.fullmatch(value.strip()) else number
            raise Mismatch

    elif kind == "boolean":

        def _convert_one(value: t.Any) -> t.Any:
            if type(value) is bool:
                return value
            if lenient_numbers and value in (0, 1, "0", "1", "true", "false"):
                return value in (1, "1", "true")
            raise Mismatch

    elif kind == "string" and fmt == "date-time":
        _convert_one = to_datetime_text
    elif kind == "string" and fmt == "date":
        _convert_one = _to_date_text
    elif kind == "string":

        def _convert_one(value: t.Any) -> t.Any:
            if isinstance(value, str):
                return value
            raise Mismatch

    elif kind == "object":

        def _convert_one(value: t.Any) -> t.Any:
            if isinstance(value, dict):
                return value
            raise Mismatch

    elif kind == "array":

        def _convert_one(value: t.Any) -> t.Any:
            if isinstance(value, list):
                return value
            raise Mismatch

    else:
        return lambda value: value
    return convert


class RecordShaper:
    """Compiled per stream: `shape(raw_row) -> record`."""

    def __init__(
        self,
        stream_name: str,
        schema: dict,
        *,
        renames: t.Mapping[str, str] | None = None,
        lenient_numbers: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        self.stream_name = stream_name
        self.logger = logger or logging.getLogger(stream_name)
        properties = schema.get("properties", {})
        self.has_extra = EXTRA_COLUMN in properties
        self._converters = {
            column: _converter(prop, lenient_numbers) for column, prop in properties.items() if column != EXTRA_COLUMN
        }
        self._renames = dict(renames or {})
        self._column_of: dict[str, str] = {}
        self._warned: set[tuple[str, str]] = set()
        self.drift_counts: dict[str, int] = {}

    def column_for(self, field: str) -> str:
        column = self._column_of.get(field)
        if column is None:
            column = self._renames.get(field) or (field if field in self._converters else snake_case(field))
            self._column_of[field] = column
        return column

    def shape(self, row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        record: dict[str, t.Any] = {}
        extra: dict[str, t.Any] | None = None
        converters = self._converters
        for field, value in row.items():
            column = self.column_for(field)
            convert = converters.get(column)
            if convert is None:
                if field == EXTRA_COLUMN and isinstance(value, dict):
                    extra = {**(extra or {}), **value}
                    continue
                extra = extra or {}
                extra[field] = value
                self._drift("undeclared", field, column)
                continue
            try:
                record[column] = convert(value)
            except Mismatch:
                record[column] = None
                extra = extra or {}
                extra[field] = value
                self._drift("mistyped", field, column)
        if extra:
            record[EXTRA_COLUMN] = extra
        return record

    def _drift(self, kind: str, field: str, column: str) -> None:
        self.drift_counts[field] = self.drift_counts.get(field, 0) + 1
        if (kind, field) in self._warned:
            return
        self._warned.add((kind, field))
        if kind == "undeclared":
            self.logger.warning(
                "Schema drift in stream '%s': vendor field '%s' is not in the schema; its values are kept in '%s'.",
                self.stream_name,
                field,
                EXTRA_COLUMN,
            )
        else:
            self.logger.warning(
                "Schema drift in stream '%s': a value of vendor field '%s' does not fit the type of column '%s'; "
                "the raw value is kept in '%s' and the column is null.",
                self.stream_name,
                field,
                column,
                EXTRA_COLUMN,
            )
