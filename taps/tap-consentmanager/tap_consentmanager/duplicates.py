"""Rows of one day that share a primary key: counted and described, never merged.

The vendor warns that its report's columns "can change from time to time (new columns added …)". A new
dimension column splits rows that the tap's key (the documented dimensions) cannot tell apart. Merging
them would invent numbers and keeping one would lose the others, so every row is emitted and the day gets
one warning naming the count and the columns that differ.

Memory stays fixed however large the day is: the first pass (while the rows are emitted) keeps only a
fixed-size bit set of key hashes, which can say "maybe seen" but never misses a repeat. Only when it found
candidates does a second pass over the same day's answer keep whole rows, and only those of the candidate
keys, to count and describe the repeats exactly.
"""

from __future__ import annotations

import typing as t

SEEN_BITS = 1 << 26  # 8 MiB of bits: at 400,000 rows about 1 row in 20,000 is a false candidate (re-checked)
_MASK = SEEN_BITS - 1


class DuplicateKeys:
    """Watches one day's raw rows (vendor field names) for keys seen before that day."""

    def __init__(self, key_fields: t.Sequence[str]) -> None:
        self.key_fields = tuple(key_fields)
        self._seen = bytearray(SEEN_BITS // 8)
        self._candidates: set[int] = set()  # hashes of keys that may repeat (checked exactly in `confirm`)
        self.repeats = 0  # rows whose key an earlier row of the day already had
        self.keys: set[tuple] = set()  # the keys that repeat
        self.differing: set[str] = set()  # vendor fields whose values differ between rows of one key

    def _key(self, row: t.Mapping[str, t.Any]) -> tuple:
        return tuple(str(row.get(field)) for field in self.key_fields)

    def add(self, row: t.Mapping[str, t.Any]) -> None:
        """First pass: remember the key's hash in two bits; both set already means a candidate repeat."""
        digest = hash(self._key(row)) & 0xFFFFFFFFFFFFFFFF
        seen = self._seen
        hits = 0
        for bit in (digest & _MASK, (digest >> 32) & _MASK):
            byte, flag = bit >> 3, 1 << (bit & 7)
            if seen[byte] & flag:
                hits += 1
            else:
                seen[byte] |= flag
        if hits == 2:
            self._candidates.add(digest)

    @property
    def has_candidates(self) -> bool:
        """Whether `confirm` must read the day again (no candidate: no key repeats, exactly)."""
        return bool(self._candidates)

    def confirm(self, rows: t.Iterable[t.Mapping[str, t.Any]]) -> None:
        """Second pass over the same rows: exact counts and differing columns, whole rows kept for candidates only."""
        first: dict[tuple, t.Mapping[str, t.Any]] = {}
        candidates = self._candidates
        for row in rows:
            key = self._key(row)
            if hash(key) & 0xFFFFFFFFFFFFFFFF not in candidates:
                continue
            earlier = first.get(key)
            if earlier is None:
                first[key] = row
                continue
            self.repeats += 1
            self.keys.add(key)
            self.differing.update(
                field for field in earlier.keys() | row.keys() if earlier.get(field) != row.get(field)
            )

    def check(self, rows: t.Sequence[t.Mapping[str, t.Any]]) -> None:
        """Both passes over rows already in memory (the probe's small answers)."""
        for row in rows:
            self.add(row)
        if self.has_candidates:
            self.confirm(rows)

    def summary(self) -> str:
        """`12 rows repeat the primary key of an earlier row (keys affected: 12); the columns that differ: a, b`."""
        differ = ", ".join(sorted(self.differing)) if self.differing else "none (identical rows)"
        return (
            f"{self.repeats} rows repeat the primary key of an earlier row (keys affected: {len(self.keys)}); "
            f"the columns that differ: {differ}"
        )
