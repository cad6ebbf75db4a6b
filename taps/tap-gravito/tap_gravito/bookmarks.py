"""Reading the domain bookmarks: as a stream keeps them, and as a run started with them."""

from __future__ import annotations

import datetime as dt
import typing as t


def parse_bookmark(value: t.Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def stored_bookmark(state: t.Mapping[str, t.Any], stream_name: str, domain: str) -> t.Any:
    """A domain's bookmark in a tap state, read without creating state entries."""
    stream_state = state.get("bookmarks", {}).get(stream_name, {})
    for partition in stream_state.get("partitions", []):
        if partition.get("context") == {"domain": domain}:
            return partition.get("replication_key_value")
    return None
