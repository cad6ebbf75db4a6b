"""Rows of one day that share a primary key: counted and described, never merged.

The vendor warns that its report's columns "can change from time to time (new columns added …)". A new
dimension column splits rows that the tap's key (the documented dimensions) cannot tell apart. Merging
them would invent numbers and keeping one would lose the others, so every row is emitted and the day gets
one warning naming the count and the columns that differ.
"""

from __future__ import annotations

import typing as t


class DuplicateKeys:
    """Watches one day's raw rows (vendor field names) for keys seen before that day."""

    def __init__(self, key_fields: t.Sequence[str]) -> None:
        self.key_fields = tuple(key_fields)
        # key -> the first row with it. Holds one day's rows at most; the rows are not changed later.
        self._first: dict[tuple, t.Mapping[str, t.Any]] = {}
        self.repeats = 0  # rows whose key an earlier row of the day already had
        self.keys: set[tuple] = set()  # the keys that repeat
        self.differing: set[str] = set()  # vendor fields whose values differ between rows of one key

    def add(self, row: t.Mapping[str, t.Any]) -> None:
        key = tuple(str(row.get(field)) for field in self.key_fields)
        first = self._first.get(key)
        if first is None:
            self._first[key] = row
            return
        self.repeats += 1
        self.keys.add(key)
        self.differing.update(field for field in first.keys() | row.keys() if first.get(field) != row.get(field))

    def summary(self) -> str:
        """`12 rows repeat the primary key of an earlier row (keys affected: 12); the columns that differ: a, b`."""
        differ = ", ".join(sorted(self.differing)) if self.differing else "none (identical rows)"
        return (
            f"{self.repeats} rows repeat the primary key of an earlier row (keys affected: {len(self.keys)}); "
            f"the columns that differ: {differ}"
        )
