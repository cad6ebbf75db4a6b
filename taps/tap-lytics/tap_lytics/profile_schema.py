"""Profile columns from the table's Lytics schema (`GET /api/schema/<table>` -> `columns`).

Profiles are free-form maps, so their columns are whatever the account's schema lists, typed from
the Lytics field type. A field of a type not mapped here is left out of the schema: its values
land in `_extra` (kept, reported once), never in a mistyped column.

The types vendor-evidence.md adds to the documented ones (third round):
- `datetime` is a timestamp like `date` and `time`: a `date-time` column;
- `geolocation` is kept as the text Lytics sends ("lat,lon"): a string column (a value of another
  kind goes to `_extra`, with the usual drift warning);
- `dynamic` holds any JSON value, of another type from profile to profile, so no column type fits
  every loader: it is kept on purpose in `_extra`, under its field name, without a warning
  (`KEPT_IN_EXTRA`; `scalars.ScalarTyping` moves it there).
"""

from __future__ import annotations

import typing as t

from tapkit import snake_case

_SCALARS: dict[str, dict[str, t.Any]] = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "date-time"},
    "datetime": {"type": "string", "format": "date-time"},
    "geolocation": {"type": "string"},
}
#: Lytics field types whose values are kept whole in `_extra` on purpose (not drift)
KEPT_IN_EXTRA = frozenset({"dynamic"})


def json_type(lytics_type: str) -> dict[str, t.Any] | None:
    """JSON schema (nullable) of a Lytics field type; None for a type this tap does not know."""
    kind = lytics_type.strip()
    if kind in _SCALARS:
        scalar = _SCALARS[kind]
        return {**scalar, "type": [scalar["type"], "null"]}
    if kind.startswith("map["):
        return {"type": ["object", "null"], "additionalProperties": True}
    if "[]" in kind:  # []string, ts[]string, []int, []time ...
        item = _SCALARS.get(kind.split("]", 1)[1], {})
        return {"type": ["array", "null"], "items": {"type": [item["type"]]} if item else {}}
    return None


def profile_properties(columns: t.Iterable[dict], reserved: t.Collection[str]) -> tuple[dict[str, dict], list[str]]:
    """(column -> JSON schema, vendor fields left to `_extra`), from the schema's columns."""
    properties: dict[str, dict] = {}
    untyped: list[str] = []
    for column in columns:
        field = str(column.get("as") or "")
        name = snake_case(field)
        if not name or name in reserved or name in properties:
            continue
        kind = str(column.get("type") or "")
        if kind.strip() in KEPT_IN_EXTRA:
            continue
        schema = json_type(kind)
        if schema is None:
            untyped.append(field)
            continue
        summary = column.get("shortdesc") or ""
        schema["description"] = (
            f"Lytics field `{field}` ({column.get('type')}, merge op {column.get('op')}). {summary}".strip()
        )
        properties[name] = schema
    return properties, untyped
