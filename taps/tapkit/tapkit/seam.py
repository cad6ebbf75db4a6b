"""The one place that touches singer-sdk's private API (the kit pins singer-sdk ~=0.54.9).

Everything else, in the kit and in the taps, uses public SDK API or the hooks below. Each private
name is listed in `PRIVATE_API` with the parameters the kit relies on and why the public API does not
serve; `tests/tapkit/test_seam.py` checks each against the installed singer-sdk, so an upgrade that
moves one fails in that one test, by name, instead of somewhere in a sync.

Hooks the seam gives (public names, overridden by the kit and the taps):
- `SeamTap.install_signal_handlers()`, `SeamTap.validate_settings(validate, raise_errors=...)`,
  `SeamTap.run_sync(sync_every_stream)`;
- `SeamStream.emits_records_as_shaped` (records skip the SDK's per-record pruning when true),
  `record_writer` (a writer's `write_record(stream, record, version, time_extracted)`: shaped records
  go to it as one encoded line, without a RecordMessage object; None: the SDK's message path),
  `counts_toward_bookmark(record, context)` (asked only of records that could move the bookmark: in an
  unsorted stream, a text value at or below the greatest one already handed to the SDK in this
  partition changes nothing there, so neither hook nor SDK sees it), `write_state_now()`, `announced_version`,
  `announce_version(version)`, `after_sync(context)`, `syncs_child(child, child_context)`,
  `partition_records(records, context)` (wraps one partition's records during a sync) and
  `holds_state` (True: `write_state_now` writes nothing, a batch file is being filled),
  `batched_records(context)` (the SDK's records of a sync, as RECORD messages would carry them, for batch files),
  `sync_stream(sync, context)` (wraps the SDK's sync of the stream; False: it did not sync whole,
  and `after_sync` is not called): the kit's failure isolation (tapkit.isolation) stands on these two.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import AbortedSyncFailedException, AbortedSyncPausedException
from singer_sdk.plugin_base import PluginBase
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    from singer_sdk.helpers.types import Context


class PrivateName(t.NamedTuple):
    owner: type
    name: str
    #: the parameters relied on (None: an attribute, not a method)
    parameters: tuple[str, ...] | None
    why: str


PRIVATE_API: tuple[PrivateName, ...] = (
    PrivateName(
        Tap,
        "_setup_signal_handlers",
        ("self",),
        "its SIGTERM handler exits 0 and writes a STATE ahead of the kit's buffered records",
    ),
    PrivateName(
        PluginBase,
        "_validate_config",
        ("self", "raise_errors"),
        "the only point before any request where secrets can be registered and settings judged",
    ),
    PrivateName(
        Stream,
        "_generate_record_messages",
        ("self", "record"),
        "skipping the SDK's property pruning for already-shaped records is the largest per-record saving",
    ),
    PrivateName(
        Stream,
        "_write_record_message",
        ("self", "record"),
        "a shaped record encoded straight into the writer's buffer skips building and converting a "
        "RecordMessage per record (~10% of a large sync); the one way in between the SDK's loop and the writer",
    ),
    PrivateName(
        Stream,
        "_process_record",
        ("self", "record", "child_context", "partition_context"),
        "for a stream without children, per record it only copies the partition context into the record; "
        "its child-context generator and stream-map filter call cost ~5% of a large sync for nothing",
    ),
    PrivateName(
        Stream,
        "_stream_version",
        None,
        "the ACTIVATE_VERSION the SDK announced at the start; records and the closing announcement carry it",
    ),
    PrivateName(
        Stream,
        "_increment_stream_state",
        ("self", "latest_record", "context"),
        "a bookmark that moves only past a fully emitted day has no public hook",
    ),
    PrivateName(
        Stream,
        "_write_state_message",
        ("self",),
        "a STATE right after a committed day or a finished scan, not only at the SDK's intervals",
    ),
    PrivateName(
        Stream,
        "_write_activate_version_message",
        ("self", "full_table_version"),
        "the closing ACTIVATE_VERSION after a complete snapshot (tapkit.snapshot)",
    ),
    PrivateName(
        Stream,
        "_sync_records",
        ("self", "context", "write_messages"),
        "it asks `self.get_records(context)` once per partition: the seam's `sync` puts `partition_records` "
        "around that call (an instance attribute, during the sync only), the one point where one partition's "
        "records can be wrapped without copying the SDK's loop; with BATCH, `batched_records` takes its records "
        "(write_messages=False) as the SDK's own `get_batches` does",
    ),
    PrivateName(
        Stream,
        "_sync_children",
        ("self", "child_context"),
        "the SDK syncs every child with every parent context; some children want only their own",
    ),
)


class SeamTap(Tap):
    """The Tap's private hooks, behind public names."""

    def install_signal_handlers(self) -> None:
        """Install SIGTERM/SIGINT handling. Override (the kit's `VendorTap` installs tapkit.stopping)."""
        super()._setup_signal_handlers()

    def validate_settings(self, validate: Callable[[], list[str]], *, raise_errors: bool) -> list[str]:
        """Judge the config; `validate()` is the SDK's JSON-schema validation. Override to wrap it."""
        return validate()

    def run_sync(self, sync_every_stream: Callable[[], None]) -> None:
        """Wrap the SDK's sync of every stream: override, and call `sync_every_stream()` inside."""
        sync_every_stream()

    def ordered_streams(self, streams: list[Stream]) -> list[Stream]:
        """The order streams are synced in (the SDK's: parents before children, then by name). Override to
        reorder; keep every stream, and keep a parent before its children."""
        return streams

    @override  # type: ignore[misc]  # final for typing only; the kit's one override
    def sync_all(self) -> None:
        self.run_sync(super().sync_all)

    @override  # type: ignore[misc]  # final for typing only (the SDK's stream DAG): kept, then `ordered_streams`
    def load_streams(self) -> list[Stream]:
        return self.ordered_streams(super().load_streams())

    @override
    def _setup_signal_handlers(self) -> None:
        self.install_signal_handlers()

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        return self.validate_settings(
            lambda: super(SeamTap, self)._validate_config(raise_errors=raise_errors), raise_errors=raise_errors
        )


class SeamStream(Stream):
    """The Stream's private hooks, behind public names."""

    #: `write_record(stream, record, version, time_extracted)` of the tap's writer, if it has one
    record_writer: Callable[[str, dict, int | None, dt.datetime], None] | None = None

    @property
    def emits_records_as_shaped(self) -> bool:
        """True when the SDK's per-record work would change nothing (the kit's `VendorStream` decides)."""
        return False

    def counts_toward_bookmark(self, record: dict, context: Context | None) -> bool:
        """Called for each emitted record that could move the bookmark (see the module doc); return
        False to keep the SDK's bookmark logic out of it."""
        return True

    #: (the partition's context, the greatest text value handed to the SDK's bookmark in it)
    _greatest_counted: tuple[Context | None, str] | None = None

    #: True while records go to a batch file not yet announced: the STATE after its BATCH message carries them
    holds_state: bool = False

    def write_state_now(self) -> None:
        """Write a STATE message now (after a day is committed, a scan finished ...)."""
        if self.holds_state:
            return
        self.state_manager.is_flushed = False
        self._write_state_message()

    @property
    def announced_version(self) -> int | None:
        """The ACTIVATE_VERSION the SDK announced for this run of the stream, if any."""
        return getattr(self, "_stream_version", None)

    def announce_version(self, version: int) -> None:
        self._write_activate_version_message(version)

    def after_sync(self, context: Context | None) -> None:
        """Called once a sync of this stream (one context) has succeeded. Extend in a mixin."""

    def partition_records(self, records: Iterable[dict], context: Context | None) -> Iterable[dict]:
        """One partition's (or an unpartitioned stream's) records during a sync. Override to wrap them."""
        return records

    def sync_stream(self, sync: Callable[[], None], context: Context | None) -> bool:
        """Run `sync()`, the SDK's sync of this stream; return whether it synced whole (then `after_sync`)."""
        sync()
        return True

    def syncs_child(self, child: Stream, child_context: Context) -> bool:
        """Whether `child` is synced for this parent record's context (default: every selected child)."""
        return True

    def batched_records(self, context: Context | None) -> Iterator[dict]:
        """The records of a sync for batch files (the SDK's loop, writing no RECORD or STATE message), as the
        primary stream map's RECORD messages would carry them: the SDK alone would write them unmapped."""
        records = self._sync_records(context, write_messages=False)
        if self.emits_records_as_shaped:
            yield from records
            return
        alias = self.stream_maps[0].stream_alias
        for record in records:
            for message in self._generate_record_messages(record):
                if message.stream == alias:
                    yield message.record

    # -- the private overrides ------------------------------------------------------------------

    @override
    def _generate_record_messages(self, record: dict) -> Generator[RecordMessage, None, None]:
        if not self.emits_records_as_shaped:
            yield from super()._generate_record_messages(record)
            return
        alias = self.stream_maps[0].stream_alias
        yield RecordMessage(
            stream=alias, record=record, version=self.announced_version, time_extracted=dt.datetime.now(dt.UTC)
        )

    @functools.cached_property
    def _record_line_writer(self) -> Callable[[dict], None] | None:
        """Decided once, at the first record: the fast line path, or None for the SDK's message path."""
        write = self.record_writer
        if write is None or not self.emits_records_as_shaped:
            return None
        alias = self.stream_maps[0].stream_alias
        now = dt.datetime.now
        utc = dt.UTC

        def write_line(record: dict) -> None:
            write(alias, record, self.announced_version, now(utc))  # the version can change per sync

        return write_line

    @override
    def _write_record_message(self, record: dict) -> None:
        write_line = self._record_line_writer
        if write_line is None:
            super()._write_record_message(record)
            return
        write_line(record)
        self.state_manager.is_flushed = False

    @functools.cached_property
    def _has_no_child_work(self) -> bool:
        cls = type(self)
        return (
            not self.child_streams
            and cls.generate_child_contexts is Stream.generate_child_contexts
            and cls.get_child_context is Stream.get_child_context
        )

    @override
    def _process_record(
        self, record: dict, child_context: Context | None = None, partition_context: Context | None = None
    ) -> None:
        if not self._has_no_child_work:
            super()._process_record(record, child_context=child_context, partition_context=partition_context)
            return
        if partition_context:  # what the SDK's own does first; the rest concerns children only
            for key, value in partition_context.items():
                if key not in record:
                    record[key] = value

    @override
    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        value = latest_record.get(self.replication_key) if self.replication_key else None
        greatest = self._greatest_counted
        # An unsorted stream's bookmark is the greatest value (the SDK compares JSON-compatible values: text
        # as it is). A value at or below one already counted in this partition changes nothing: skip the
        # per-record state work. The context is compared by identity: the SDK passes one object per partition.
        if (
            greatest is not None
            and greatest[0] is context
            and type(value) is str
            and value <= greatest[1]
            and not self.is_sorted
            and self.check_sorted
        ):
            return
        if self.counts_toward_bookmark(latest_record, context):
            super()._increment_stream_state(latest_record, context=context)
            if type(value) is str:
                self._greatest_counted = (context, value)

    @override
    def _sync_children(self, child_context: Context | None) -> None:
        if child_context is None:
            super()._sync_children(child_context)
            return
        for child in self.child_streams:
            if (child.selected or child.has_selected_descendents) and self.syncs_child(child, child_context):
                try:
                    child.sync(context=child_context)
                except (AbortedSyncFailedException, AbortedSyncPausedException):
                    continue  # as the SDK does: an interrupted child leaves the other children be

    @override  # type: ignore[misc]  # final for typing only; the one override
    def sync(self, context: Context | None = None) -> None:
        self._greatest_counted = None
        records_of = self.get_records
        # The SDK's private `_sync_records` asks `self.get_records(context)` once per partition: shadowed for
        # this sync only, so a read outside a sync (an Airbyte check's first record) gets them unwrapped.
        vars(self)["get_records"] = lambda partition: self.partition_records(
            t.cast("Iterable[dict]", records_of(partition)),  # the SDK's deprecated (record, context) tuples aside
            partition,
        )
        try:
            whole = self.sync_stream(functools.partial(super().sync, context), context)
        finally:
            vars(self).pop("get_records", None)
        if whole:
            self.after_sync(context)
