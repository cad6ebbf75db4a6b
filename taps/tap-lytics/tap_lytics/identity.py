"""Which value keys an audience member (the `profile_id` column), read from one scan row.

Evidence (vendor-evidence.md): public profile samples carry `_uids`, an array of strings, and no
scalar `_uid`; `by_fields` lists the identity fields (`user_id`, `email`, ..., `_uids` last in
go-lytics' mock); scan rows carry only populated fields, so no identity field is guaranteed on a row.

The rule (also in the README and on setting `profile_key`):
- a configured `profile_key` wins: the row's value of that field, as text;
- otherwise the table's identity fields (`by_fields` in their order, then columns marked `is_by`):
  the first one with a usable value on the row, written `<field>:<value>` (field-qualified, so an
  email and a user id that happen to read the same never collide);
- an array value (such as `_uids`) gives its smallest usable element: the same set of ids in
  another order gives the same key, scan after scan;
- null, "", booleans, objects and empty arrays are no identity: such a row has no key.
"""

from __future__ import annotations

import typing as t


def usable(value: t.Any) -> str | None:
    """The text of an identity value, or None when the value identifies nobody."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        items = [text for text in (usable(item) for item in value if not isinstance(item, list)) if text is not None]
        return min(items) if items else None
    return None


def identity_fields(by_fields: t.Iterable[t.Any], columns: t.Iterable[dict]) -> tuple[str, ...]:
    """`by_fields` in order, then the `is_by` columns the list left out."""
    fields = [field for field in by_fields if isinstance(field, str) and field]
    fields += [str(column["as"]) for column in columns if column.get("is_by") is True and column.get("as")]
    return tuple(dict.fromkeys(fields))


class MemberKey:
    """`key(row) -> str | None`: a member's `profile_id`, None when the row has no usable identity."""

    def __init__(self, profile_key: str | None, identity: t.Sequence[str]) -> None:
        self.profile_key = profile_key or None
        self.identity = tuple(identity)

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.profile_key,) if self.profile_key else self.identity

    def describe(self) -> str:
        if self.profile_key:
            return f"field {self.profile_key!r} (setting profile_key)"
        return f"identity fields {', '.join(self.identity)} (from /api/schema; setting profile_key unset)"

    def __call__(self, row: t.Mapping[str, t.Any]) -> str | None:
        if self.profile_key:
            return usable(row.get(self.profile_key))
        for field in self.identity:
            text = usable(row.get(field))
            if text is not None:
                return f"{field}:{text}"
        return None
