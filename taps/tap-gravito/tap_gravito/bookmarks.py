"""A domain bookmark (`replication_key_value`, an ISO datetime) read as an aware datetime."""

from __future__ import annotations

import datetime as dt
import typing as t


def parse_bookmark(value: t.Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
