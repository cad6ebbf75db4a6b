"""What tap-lytics' state may hold: audience_members' scan cursors {next, saved_at} per audience
(see `scan_state`); every other stream is a snapshot with no state. Checked before any request."""

from __future__ import annotations

import typing as t

from tap_lytics.streams import (
    AccountsStream,
    AudienceMembersStream,
    DeletionRequestsStream,
    ProfilesStream,
    SchemaFieldsStream,
    SegmentSizesStream,
    SegmentsStream,
)
from tapkit.state import StateLayout, Where, check_text, check_time

#: every stream `TapLytics.discover_streams` builds (tests/lytics/test_state.py checks they match)
STREAM_CLASSES = (
    AccountsStream,
    SegmentsStream,
    SchemaFieldsStream,
    SegmentSizesStream,
    AudienceMembersStream,
    ProfilesStream,
    DeletionRequestsStream,
)


def check_cursor(value: t.Any, where: Where) -> None:
    check_text(value, where, nullable=True)  # opaque to the tap; null: the scan is complete


def check_saved_at(value: t.Any, where: Where) -> None:
    check_time(value, where)


LAYOUT = StateLayout.of(STREAM_CLASSES, fields={"audience_members": {"next": check_cursor, "saved_at": check_saved_at}})
