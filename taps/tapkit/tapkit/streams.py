"""The base stream every tap builds on.

A stream asks the tap's API client (`self.api`, the tap's `api.py` on `tapkit.http`) for the vendor's
rows in `get_records`, yields them raw, and the SDK hands each to `post_process`, which shapes it:
schema-driven typing into snake_case records with `_extra` for drift (`tapkit.shaping`). Requests,
retries, pacing, spooled bodies and error messages are the client's (see `tapkit.http`).
"""

from __future__ import annotations

import typing as t
from functools import cached_property
from http import HTTPStatus

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from typing_extensions import override

from tapkit.batching import BatchingStream
from tapkit.credentials import CredentialFilter
from tapkit.isolation import PartGuard, drop_uncommitted, is_part_fault
from tapkit.shaping import RecordShaper

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from singer_sdk.helpers.types import Context

    from tapkit.settings import KitSettings
    from tapkit.tap import VendorTap

RETRY_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.REQUEST_TIMEOUT})


class VendorStream(BatchingStream):
    """A stream of one vendor resource: it asks the tap's API client (`self.api`) and shapes rows.

    What a stream needs of its tap is handed over when it is built (`api`, `prefetch`, `vendor`);
    it never reaches back into the tap or another stream."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # the shaper types every value itself

    #: vendor field -> column, where snake_case of the vendor name is not the column.
    field_renames: t.ClassVar[dict[str, str]] = {}
    #: accept "3" for an integer column (vendors that send every number as text).
    lenient_numbers: bool = False
    #: vendor fields to drop as credentials besides those the kit's rule finds (see tapkit.credentials).
    credential_fields: t.ClassVar[frozenset[str]] = frozenset()
    #: vendor fields the rule would drop that are not credentials in this stream (kept).
    credential_allowed_fields: t.ClassVar[frozenset[str]] = frozenset()

    #: the run's typed settings (a tap's stream base annotates its own `KitSettings` subclass here)
    settings: KitSettings

    def __init__(self, tap: VendorTap, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(tap, *args, **kwargs)
        self.settings = tap.settings
        #: the tap's API client under this stream's name (its requests count in this stream's metrics)
        self.api = tap.api.for_stream(self.name)
        #: ordered prefetch of partitions with `max_concurrency` workers, closed by the tap at the end
        self.prefetch = tap.prefetch
        self.vendor_name = tap.vendor_name
        self.auth_settings = tap.auth_settings
        #: the run's ledger of failed parts (tapkit.isolation): a failing partition or stream stops alone
        self.failed_parts = tap.failed_parts
        #: the tap's writer's one-line RECORD path, when it has one (tapkit.writer); else the SDK's messages
        self.record_writer = getattr(tap.message_writer, "write_record", None)
        #: the state as of the last BATCH message, for the tap's last STATE after a stop (tapkit.batching)
        self.batch_ledger = tap.batch_ledger

    # -- settings -------------------------------------------------------------------------

    @property
    def vendor(self) -> str:
        return self.vendor_name

    # -- one failing part never sinks the rest (tapkit.isolation) -------------------------------

    @override
    def partition_records(self, records: Iterable[dict], context: Context | None) -> Iterable[dict]:
        return self.failed_parts.guard(
            self.name, records, lambda: self.get_context_state(context), self.part_context(context), vendor=self.vendor
        )

    def part_context(self, context: Context | None) -> Context | None:
        """How a failed partition is named (its context; override to name it as the vendor does)."""
        return context

    def isolated_part(self, context: Context) -> PartGuard:
        """`with self.isolated_part({"customer_key": key}) as part:` around one part's requests in a loop of
        the stream's own; a part fault skips it (`part.failed`), the loop goes on, the run fails at the end."""
        return self.failed_parts.part(self.name, context, vendor=self.vendor)

    @override
    def sync_stream(self, sync: Callable[[], None], context: Context | None) -> bool:
        try:
            sync()
        except Exception as exc:  # outside any partition's records: listing the partitions, say
            if not is_part_fault(exc):
                raise
            drop_uncommitted(self.stream_state)
            self.failed_parts.add(self.name, "", exc, vendor=self.vendor)
        return self.name not in self.failed_parts.failed_streams()

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        # Only streams that are the vendor's whole set announce versions (tapkit.snapshot.CompleteSnapshot, put
        # first among the bases, says when). The SDK's own reading of the setting would also announce them for
        # histories such as segment_sizes, and a loader would then delete every earlier run's rows.
        return False

    # -- records -------------------------------------------------------------------------------

    @cached_property
    def shaper(self) -> RecordShaper:
        return RecordShaper(
            self.name,
            self.schema,
            renames=self.field_renames,
            lenient_numbers=self.lenient_numbers,
            logger=self.logger,
            credentials=CredentialFilter(self.credential_fields, self.credential_allowed_fields),
        )

    def prepare_row(self, row: dict, context: Context | None) -> dict | None:
        """Vendor-specific reshaping of one raw row before typing (override in a tap)."""
        return row

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        prepared = self.prepare_row(row, context)
        if prepared is None:
            return None
        return self.shaper.shape(prepared)

    # -- messages ------------------------------------------------------------------------------

    @cached_property
    def _emits_records_as_shaped(self) -> bool:
        """True when the SDK's per-record work would change nothing: every property selected, the one
        stream map the identity, no flattening, no type conformance (the shaper typed the record)."""
        maps = self.stream_maps
        return (
            self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
        )

    @property
    @override
    def emits_records_as_shaped(self) -> bool:
        # tests/tapkit/test_fast_path.py proves both paths emit the same.
        return self._emits_records_as_shaped
