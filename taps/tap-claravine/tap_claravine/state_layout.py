"""What tap-claravine's state may hold: one bookmark per dataset in transactions, with the
dataset's pending transactions [{uuid, day}] (see `TransactionsStream`). Checked before any request.

The per-dataset tables are named at discovery (which needs the API), so any `dataset_*` name is
accepted; they keep no bookmark of their own."""

from __future__ import annotations

import typing as t

from tap_claravine.streams import PENDING_STATE_KEY, DatasetsStream, TransactionRowsStream, TransactionsStream
from tapkit.state import StateLayout, StreamState, Where, check_day, check_text

DATASET_STREAM_PREFIX = "dataset_"


def check_pending(entries: t.Any, where: Where) -> None:
    if not isinstance(entries, list):
        where.fail(entries, "is not a list of pending transactions [{uuid, day}]")
    for number, entry in enumerate(entries, start=1):
        place = where.at(str(number))
        if not isinstance(entry, dict) or set(entry) != {"uuid", "day"}:
            place.fail(entry, "is not a pending transaction {uuid, day}")
        check_text(entry["uuid"], place.at("uuid"))
        check_day(entry["day"], place.at("day"))


LAYOUT = StateLayout.of(
    (DatasetsStream, TransactionsStream, TransactionRowsStream),
    fields={"transactions": {PENDING_STATE_KEY: check_pending}},
    dynamic=((DATASET_STREAM_PREFIX, StreamState()),),
)
