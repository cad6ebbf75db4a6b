"""Turn raw vendor rows into typed records without ever dropping data.

`RecordShaper` is compiled once per stream from its JSON schema:
- vendor field names become snake_case columns (`cmpID` -> `cmp_id`), or a stream's explicit rename;
- each value is converted to its column's declared type (strictly, or also from numeric strings
  where a vendor sends numbers as text);
- a field the schema does not declare, or a value that does not fit its type, is kept in the
  object column `_extra` (vendor field name -> raw value), the column gets null, and one warning
  per stream and field says so;
- a field named like a credential is dropped, at any depth, `_extra` included, with one warning per
  stream and field that names it and never its value (the rule: `tapkit.credentials`).

Speed: most rows of a stream share one layout (the same vendor fields in the same order). For each
layout whose every field is a declared, non-credential column, the shaper compiles (once) a Python
function that unpacks the row's values and builds the record in one dict display, with the common
conversions inline; a row whose value does not fit takes the general path, which warns and keeps
`_extra` exactly as before. The general path is the reference: both give the same record.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import typing as t

from tapkit.credentials import CredentialFilter

EXTRA_COLUMN = "_extra"

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z\d])([A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")
_INT_TEXT = re.compile(r"[+-]?\d+")
_NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_SQL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
#: naive, Z or +00:00 (what the taps' own epoch conversions write), whole seconds (a zero fraction too:
#: JavaScript's ".000Z" writes the same instant)
_SECONDS_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.0{1,6})?(?:Z|\+00:00)?")
#: layouts compiled per stream at most (rows of a sparse vendor can come in many layouts)
MAX_LAYOUTS = 64
#: "0".."1023" -> int: the ids and counts vendors send as text, converted by one lookup
_SMALL_INTS = {str(number): number for number in range(1024)}


def snake_case(name: str) -> str:
    """`cmpID` -> `cmp_id`, `pageView` -> `page_view`, `restrictCMP` -> `restrict_cmp`."""
    name = _ACRONYM.sub(r"\1_\2", name)
    name = _CAMEL.sub(r"\1_\2", name)
    return _NON_WORD.sub("_", name).strip("_").lower()


class Mismatch(Exception):
    """A value does not fit its column's declared type."""


def to_datetime_text(value: t.Any) -> str:
    """ISO 8601 with time zone; naive vendor times ("YYYY-MM-DD hh:mm:ss") are taken as UTC."""
    if type(value) is str and _SECONDS_DATETIME.fullmatch(value):
        # The vendors' usual shapes, validated by the parser, written without building a second datetime:
        # the same text as the general path below ("YYYY-MM-DDThh:mm:ss+00:00").
        try:
            dt.datetime.fromisoformat(value[:19])
        except ValueError as exc:
            raise Mismatch from exc
        return f"{value[:10]}T{value[11:19]}+00:00"
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
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat()


def _to_date_text(value: t.Any) -> str:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError as exc:
            raise Mismatch from exc
    raise Mismatch


def _is_int_text(value: str) -> bool:
    digits = value[1:] if value[:1] in ("+", "-") else value
    return digits.isascii() and digits.isdigit()


class ColumnPlan(t.NamedTuple):
    """How one column takes its values: `exact` passes unchanged, anything else goes through `convert`."""

    column: str
    exact: type | None
    nullable: bool
    convert: t.Callable[[t.Any], t.Any] | None  # None: the column takes anything (a union or untyped)
    nested: bool = False  # the column can hold objects or lists: credentials are looked for inside


def _integer(lenient: bool) -> t.Callable[[t.Any], t.Any]:
    def convert(value: t.Any) -> int:
        if type(value) is float and value.is_integer():
            return int(value)
        if lenient and type(value) is str:
            if value.isdigit() and value.isascii():  # the common case, in C
                return int(value)
            if _is_int_text(value.strip()):
                return int(value)
        raise Mismatch

    return convert


def _number(lenient: bool) -> t.Callable[[t.Any], t.Any]:
    def convert(value: t.Any) -> float | int:
        if type(value) is int:
            return value
        if lenient and type(value) is str and _NUMBER_TEXT.fullmatch(value.strip()):
            return int(value) if _is_int_text(value.strip()) else float(value)
        raise Mismatch

    return convert


def _boolean(lenient: bool) -> t.Callable[[t.Any], t.Any]:
    def convert(value: t.Any) -> bool:
        if lenient and value in (0, 1, "0", "1", "true", "false"):
            return value in (1, "1", "true")
        raise Mismatch

    return convert


def _refuse(_value: t.Any) -> t.NoReturn:
    raise Mismatch


def column_plan(column: str, prop: dict, lenient_numbers: bool) -> ColumnPlan:
    types = prop.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    nullable = "null" in types
    kinds = [kind for kind in types if kind != "null"]
    if len(kinds) != 1:
        return ColumnPlan(column, None, True, None, nested=True)
    kind, fmt = kinds[0], prop.get("format")
    if kind == "string" and fmt == "date-time":
        return ColumnPlan(column, None, nullable, to_datetime_text)
    if kind == "string" and fmt == "date":
        return ColumnPlan(column, None, nullable, _to_date_text)
    exact, convert = {
        "integer": (int, _integer(lenient_numbers)),
        "number": (float, _number(lenient_numbers)),
        "boolean": (bool, _boolean(lenient_numbers)),
        "string": (str, _refuse),
        "object": (dict, _refuse),
        "array": (list, _refuse),
    }.get(kind, (None, None))
    return ColumnPlan(column, exact, nullable, convert, nested=exact in (dict, list, None))


def _expression(n: int, plan: ColumnPlan, lenient: bool) -> str:
    """The value of column n in the compiled function: what the general path does for a value that
    fits; `_c{n}` (the plan's converter) raises Mismatch for one that does not."""
    v = f"v{n}"
    if plan.convert is None:  # takes anything
        return f"(_strip({v}, _f{n}) if type({v}) is dict or type({v}) is list else {v})"
    none = f" or {v} is None" if plan.nullable else ""
    if plan.exact is None:  # date-time, date: always converted
        return f"({v} if {v} is None else _c{n}({v}))" if plan.nullable else f"_c{n}({v})"
    fits = f"_strip({v}, _f{n})" if plan.nested else v
    if plan.exact is dict or plan.exact is list:
        return f"({fits} if type({v}) is _t{n} else {v} if {v} is None and {plan.nullable} else _c{n}({v}))"
    if plan.exact is int and lenient:  # numeric text, the lenient common case, inline; small ones looked up
        # (`in` raises TypeError for a dict or list value: the general path takes that row)
        converted = f"(int({v}) if type({v}) is str and {v}.isdigit() and {v}.isascii() else _c{n}({v}))"
        return f"(_SMALL_INTS[{v}] if {v} in _SMALL_INTS else {v} if type({v}) is int{none} else {converted})"
    return f"({v} if type({v}) is _t{n}{none} else _c{n}({v}))"


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
        credentials: CredentialFilter | None = None,
    ) -> None:
        self.stream_name = stream_name
        self.logger = logger or logging.getLogger(stream_name)
        properties = schema.get("properties", {})
        self.has_extra = EXTRA_COLUMN in properties
        self._lenient = lenient_numbers
        self._properties = {column: prop for column, prop in properties.items() if column != EXTRA_COLUMN}
        self._renames = dict(renames or {})
        self._plans: dict[str, ColumnPlan | None] = {}  # vendor field -> plan (None: not in the schema)
        self._warned: set[tuple[str, str]] = set()
        self.drift_counts: dict[str, int] = {}
        self.credentials = credentials or CredentialFilter()
        self._credential_fields: set[str] = set()  # top-level vendor fields dropped by name
        self.dropped_credentials: set[str] = set()  # every field path dropped (for the one warning each)
        #: layout (the row's vendor fields in order) -> its compiled shaping function, or False
        self._layouts: dict[tuple[str, ...], t.Any] = {}

    def column_for(self, field: str) -> str:
        return self._renames.get(field) or (field if field in self._properties else snake_case(field))

    def _plan_for(self, field: str) -> ColumnPlan | None:
        if field != EXTRA_COLUMN and self.credentials.drops(field):
            self._credential_fields.add(field)
            self._plans[field] = None
            return None
        column = self.column_for(field)
        prop = self._properties.get(column)
        plan = None if prop is None else column_plan(column, prop, self._lenient)
        self._plans[field] = plan
        return plan

    def shape(self, row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        layout = tuple(row)
        compiled = self._layouts.get(layout)
        if compiled is None:
            compiled = self._compile(layout)
        if compiled:
            try:
                return compiled(row)
            except (Mismatch, TypeError):
                pass  # a value that does not fit: the general path warns and keeps it in _extra
        return self._shape_general(row)

    def _compile(
        self, layout: tuple[str, ...]
    ) -> t.Callable[[t.Mapping[str, t.Any]], dict[str, t.Any]] | t.Literal[False]:
        """The record-building function of one layout, or False where the general path must judge each
        row (an undeclared or credential field, `_extra` from the vendor, too many layouts already)."""
        if len(self._layouts) >= MAX_LAYOUTS:
            return False
        plans = [self._plans[field] if field in self._plans else self._plan_for(field) for field in layout]
        if not layout or any(plan is None for plan in plans) or len(set(layout)) != len(layout):
            self._layouts[layout] = False
            return False
        names: dict[str, t.Any] = {"_strip": self._without_credentials, "_SMALL_INTS": _SMALL_INTS}
        items = []
        for n, (field, plan) in enumerate(zip(layout, plans, strict=True)):
            assert plan is not None
            names[f"_c{n}"] = plan.convert or _refuse
            names[f"_f{n}"] = field
            names[f"_t{n}"] = plan.exact
            items.append(f"{plan.column!r}: {_expression(n, plan, self._lenient)}")
        unpack = ", ".join(f"v{n}" for n in range(len(layout)))
        source = f"def shape(row):\n    {unpack}, = row.values()\n    return {{{', '.join(items)}}}\n"
        exec(
            compile(source, f"<shaper {self.stream_name}>", "exec"), names
        )  # the source names columns by repr and fields by reference: no vendor text is code
        function = names["shape"]
        self._layouts[layout] = function
        return function

    def _shape_general(self, row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        record: dict[str, t.Any] = {}
        extra: dict[str, t.Any] | None = None
        plans = self._plans
        for field, value in row.items():
            plan = plans[field] if field in plans else self._plan_for(field)
            if plan is None:
                if field in self._credential_fields:
                    self._dropped(field)
                    continue
                if field == EXTRA_COLUMN and isinstance(value, dict):
                    extra = {**(extra or {}), **self.credentials.strip(value, EXTRA_COLUMN, self._dropped_in_extra)}
                    continue
                extra = extra or {}
                extra[field] = self._without_credentials(value, field)
                self._drift("undeclared", field, self.column_for(field))
                continue
            # The common cases first, without a function call: the value already has the column's type.
            if type(value) is plan.exact or plan.convert is None or (value is None and plan.nullable):
                record[plan.column] = self._without_credentials(value, field) if plan.nested else value
                continue
            try:
                if value is None:
                    raise Mismatch
                record[plan.column] = plan.convert(value)
            except Mismatch:
                record[plan.column] = None
                extra = extra or {}
                extra[field] = self._without_credentials(value, field)
                self._drift("mistyped", field, plan.column)
        if extra:
            record[EXTRA_COLUMN] = extra
        return record

    def _without_credentials(self, value: t.Any, field: str) -> t.Any:
        kind = type(value)
        if kind is dict or kind is list:
            return self.credentials.strip(value, field, self._dropped)
        return value

    def _dropped_in_extra(self, path: str) -> None:
        self._dropped(path.removeprefix(EXTRA_COLUMN + "."))

    def _dropped(self, path: str) -> None:
        """One warning per stream and field path; the value is never shown."""
        if path in self.dropped_credentials:
            return
        self.dropped_credentials.add(path)
        self.logger.warning(
            "Credential dropped in stream '%s': vendor field '%s' is named like a credential; its values are "
            "never stored (rule: tapkit.credentials; a stream lists a field that is not one in "
            "credential_allowed_fields).",
            self.stream_name,
            path,
        )

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
