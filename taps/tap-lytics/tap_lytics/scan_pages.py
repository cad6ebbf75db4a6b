"""One segment scan's pages: members keyed and deduplicated, and when the scan is over.

Evidence (lytics/agent-skills): the `_next` cursor "can look the same from page to page"; stop when
`_next` is empty or a page brings no row not already seen. So within one scan:
- each row is keyed (`identity.MemberKey`); a key already emitted is a repeat and is skipped (counted);
- a row with no usable key is counted (never emitted: `profile_id` is part of the primary key); it is
  recognised by its content if the server serves it again, so it is counted once;
- the scan ends when `_next` is empty, or when a page brings no unseen row and either its `_next` is one
  already used or the page was not empty (a server re-serving rows): no endless loop, no duplicates.
  An empty page with a new cursor is followed (the documented protocol).
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from dataclasses import dataclass, field

from tap_lytics.identity import MemberKey


@dataclass
class ScanPage:
    requested: str | None  # the cursor this page was asked with (None: the first page)
    following: str | None  # the `_next` it gave (None: empty)
    done: bool  # the scan is over after this page
    members: list[tuple[str, dict]] = field(default_factory=list)  # (profile_id, row), unseen only
    unidentified: int = 0  # rows without a usable identity (new ones)
    repeated: int = 0  # rows served again (a key or an unidentified row already seen in this scan)


def _fingerprint(row: t.Mapping[str, t.Any]) -> str:
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return "\0" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()  # never a member key


class ScanProgress:
    """What one scan has seen so far (create one per scan)."""

    def __init__(self, key: MemberKey) -> None:
        self.key = key
        self._seen: set[str] = set()
        self._cursors: set[str] = set()

    def take(self, rows: t.Iterable[dict], requested: str | None, following: str | None) -> ScanPage:
        page = ScanPage(requested, following, done=False)
        served = 0
        for row in rows:
            served += 1
            key = self.key(row)
            mark = key if key is not None else _fingerprint(row)
            if mark in self._seen:
                page.repeated += 1
                continue
            self._seen.add(mark)
            if key is None:
                page.unidentified += 1
            else:
                page.members.append((key, row))
        if requested:
            self._cursors.add(requested)
        brought_new = bool(page.members) or page.unidentified > 0
        cursor_repeats = following is not None and following in self._cursors
        page.done = following is None or (not brought_new and (cursor_repeats or served > 0))
        return page
