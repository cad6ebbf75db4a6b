"""The stream base of the five Gravito streams: one view each of a domain's answer (see api.py for
the vendor's quirks, feeds.py for the one request per domain they share)."""

from __future__ import annotations

import datetime as dt
import typing as t

from typing_extensions import override

from tap_gravito import fingerprints
from tap_gravito.api import API_DAYS
from tap_gravito.bookmarks import parse_bookmark
from tapkit import VendorStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_gravito.feeds import DomainFeeds
    from tap_gravito.microprofile import Microprofile
    from tap_gravito.settings import GravitoSettings
    from tapkit.tap import VendorTap


class GravitoStream(VendorStream):
    """One view of the customer-data answer, partitioned (and bookmarked) by domain."""

    #: set by each stream class (the tap's state layout reads it from the classes)
    name: str
    state_partitioning_keys: t.ClassVar[list[str]] = ["domain"]
    is_sorted = False  # the vendor documents no order
    settings: GravitoSettings

    def __init__(self, tap: VendorTap, *args: t.Any, feeds: DomainFeeds, **kwargs: t.Any) -> None:
        super().__init__(tap, *args, **kwargs)
        #: the domains' answers, shared with the other streams (built by the tap)
        self.feeds = feeds

    @property
    @override
    def partitions(self) -> list[dict]:
        return [{"domain": domain} for domain in self.settings.domains]

    # -- incremental --------------------------------------------------------------------------

    def emit_after(self, context: Context | None) -> float | None:
        """Epoch seconds: rows at or before this were emitted by an earlier run (bookmark - lookback)."""
        bookmark = parse_bookmark(self.get_context_state(context).get("replication_key_value"))
        if bookmark is None:
            return None
        lookback = dt.timedelta(hours=self.settings.lookback_hours)
        return (bookmark - lookback).timestamp()

    @staticmethod
    def is_new(seconds: int | None, after: float | None) -> bool:
        """Rows without a timestamp cannot be placed in time, so they are always emitted."""
        return after is None or seconds is None or seconds > after

    @override
    def counts_toward_bookmark(self, record: dict, context: Context | None) -> bool:
        value = record.get(self.replication_key)
        if value is None:
            return False  # an untimed row says nothing about progress (and the SDK would warn per row)
        # A row of the lookback, or a changed profile emitted again under its old time, must not count:
        # the SDK would make this run's greatest value the bookmark, moving it back.
        return self.advances(value, context)

    #: (a partition's context, its bookmark as the run started): read once per partition in `get_records`,
    #: not per record; this unsorted stream's bookmark moves only once the partition is done
    _started_from: tuple[Context | None, dt.datetime | None] | None = None

    def start_bookmark(self, context: Context | None) -> dt.datetime | None:
        started = self._started_from
        if started is not None and started[0] is context:
            return started[1]
        return parse_bookmark(self.get_context_state(context).get("replication_key_value"))

    def advances(self, value: t.Any, context: Context | None) -> bool:
        """Whether `value` is past the bookmark the run started from."""
        try:
            start = self.start_bookmark(context)
            current = parse_bookmark(value)
            return start is None or current is None or current > start
        except (TypeError, ValueError):
            return True  # leave an unreadable value to the SDK's own handling

    # -- records ------------------------------------------------------------------------------

    #: whether the stream's rows come from the profile's untimed content (events), so that a
    #: profile is emitted again when its content fingerprint changed (see `fingerprints`)
    fingerprinted: t.ClassVar[bool] = False

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        domain = (context or {})["domain"]
        self._started_from = None
        self._started_from = (context, self.start_bookmark(context))
        after = self.emit_after(context)
        if self.fingerprinted:
            yield from self.changed_records(context, domain, after)
            return
        for profile, is_latest in self.feeds.profiles(domain):
            if is_latest:
                yield from self.rows_for(profile, domain, after)  # the SDK shapes them (post_process)

    def changed_records(self, context: Context | None, domain: str, after: float | None) -> t.Iterable[dict]:
        """Rows of the profiles that are new or changed since the last run, by timestamp or by content.

        Known fingerprints: a profile is emitted when its content is new to the state, or when its
        timestamp is past the bookmark minus the lookback. Unknown (first run, a state from before
        fingerprints, a domain over the cap): every profile is emitted, as on a first run.
        """
        state = self.get_context_state(context)
        known = fingerprints.decode(state.get(fingerprints.STATE_KEY))
        collector = fingerprints.Collector()
        for profile, is_latest in self.feeds.profiles(domain):
            if not is_latest:
                continue
            mark = profile.fingerprint()
            collector.add(mark)
            if known is None or mark not in known:
                yield from self.rows_for(profile, domain, None)
            elif after is not None and profile.updated_at is not None and profile.updated_at > after:
                yield from self.rows_for(profile, domain, after)
        collector.save(state)
        if collector.overflowed:
            self.logger.warning(
                "gravito: stream '%s': domain '%s' served more than %d profiles, more than the state keeps "
                "fingerprints of: its next run emits every profile of the last %d days again.",
                self.name,
                domain,
                collector.cap,
                API_DAYS,
            )

    def rows_for(self, profile: Microprofile, domain: str, after: float | None) -> t.Iterable[dict]:
        raise NotImplementedError
