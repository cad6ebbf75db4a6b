"""The table's audiences, asked of Lytics once per run and shared by the streams that need them.

`segments` emits them, `audience_members` scans the configured ones (setting `segments`, ids or
slugs) and `segment_sizes` sizes the configured ones, else all. The tap builds one catalog on its
api and hands it to those streams, so the list is one request however many streams read it.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from tapkit import ConfigError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class AudienceCatalog:
    def __init__(self, fetch: Callable[[], list[dict]], *, table: str, configured: Sequence[str]) -> None:
        self._fetch = fetch  # the api's `segments(table)`, asked at most once
        self.table = table
        self.configured = list(configured)

    @cached_property
    def rows(self) -> list[dict]:
        """The audiences as Lytics lists them (the raw rows `segments` emits)."""
        return self._fetch()

    def configured_ids(self) -> list[str]:
        """Ids of the configured audiences, given by id or slug, each once; an unknown one is a setting error."""
        known = {ref: row["id"] for row in self.rows for ref in (row.get("id"), row.get("slug_name")) if ref}
        ids: list[str] = []
        for reference in self.configured:
            if reference not in known:
                raise ConfigError(
                    f"setting segments: {reference!r} is not an audience (id or slug) of table {self.table!r}"
                )
            if known[reference] not in ids:
                ids.append(known[reference])
        return ids

    def sized_ids(self) -> list[str]:
        """The audiences segment_sizes measures: the configured ones, else every audience of the table."""
        return self.configured_ids() if self.configured else [row["id"] for row in self.rows]
