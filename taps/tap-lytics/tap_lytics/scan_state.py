"""Where a segment scan resumes: the partition state {next, saved_at} of audience_members.

The `_next` cursor is saved after each page is fully emitted. Lytics does not document how long a
cursor lives, so a run resumes from it only if it was saved less than `RESUME_WINDOW` ago;
otherwise the scan starts again (rows already loaded are upserted on their key, nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tapkit import clock

RESUME_WINDOW = dt.timedelta(hours=1)


def utc_now() -> dt.datetime:
    return clock.now()


def save(state: dict, cursor: str | None, now: dt.datetime) -> None:
    """Record the cursor of the next page (None: the scan is complete)."""
    state["next"] = cursor
    state["saved_at"] = now.isoformat()


def resume_cursor(state: t.Mapping[str, t.Any], now: dt.datetime) -> tuple[str | None, str]:
    """(cursor to start from or None, why) for the saved partition state."""
    cursor = state.get("next")
    if not cursor:
        return None, "no interrupted scan"
    try:
        saved_at = dt.datetime.fromisoformat(str(state.get("saved_at")))
    except ValueError:
        return None, "the saved cursor has no valid saved_at"
    if saved_at.tzinfo is None:
        saved_at = saved_at.replace(tzinfo=dt.UTC)
    age = now - saved_at
    if dt.timedelta(0) <= age <= RESUME_WINDOW:
        return cursor, f"resuming the interrupted scan (cursor saved {int(age.total_seconds() // 60)} min ago)"
    return None, f"the interrupted scan's cursor was saved at {saved_at.isoformat()}, not within the last hour"
