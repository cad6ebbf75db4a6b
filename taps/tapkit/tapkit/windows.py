"""Incremental sync by whole days, with a bookmark that only moves past a day fully emitted.

A `DayWindowStream` asks the vendor one day at a time, from max(start_date, bookmark day -
lookback) to end_date. Its bookmark (`replication_key_value`) is committed, and a STATE message
written, only after the last record of a day has been emitted: a run killed mid-day resumes at
that day (minus the lookback) and leaves no gap. Empty days still move the bookmark, so a
second run re-reads only the lookback days.

Days are fetched concurrently when `max_concurrency` > 1 and the stream fetches in `fetch_day`: the
tap's ordered prefetch (`tapkit.concurrency`) asks up to `max_concurrency` days at once, at most
`days_ahead(max_concurrency)` days ahead of the day being emitted (2 per worker, at most 8 or one per worker:
each waiting day is a spooled answer, so memory stays bounded however long the window). Days are still
emitted, and their bookmarks committed, strictly in day order, in the sync's thread: records and state are exactly a
sequential run's, and a run killed mid-way re-reads only the day it was emitting. The rate limit and
a vendor's `Retry-After` hold every worker (the tap's one `HttpClient` and its shared limiter).
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

from typing_extensions import override

from tapkit import clock
from tapkit.streams import VendorStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tapkit.settings import DayWindowSettings


def parse_day(value: t.Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def utc_today() -> dt.date:
    return clock.today()


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


#: days fetched ahead of the one being emitted, per worker: enough to keep every worker busy while
#: the sync's thread emits, few enough that waiting answers stay a handful of spooled bodies
DAYS_AHEAD_PER_WORKER = 2
#: ... but no more than this many days (or one per worker): a waiting day is held in memory up to
#: tapkit.body's spool limit, so the default of 8 workers keeps the memory of the old default of 4
MAX_DAYS_AHEAD = 8


def days_ahead(workers: int) -> int:
    return min(DAYS_AHEAD_PER_WORKER * workers, max(MAX_DAYS_AHEAD, workers))


_POLL_SECONDS = 0.2


class DaysAhead:
    """How far ahead of the day being emitted a worker may fetch (the nth day of the window waits
    until day n - limit is being emitted). Closed when the window ends, early or not: a worker still
    waiting then fetches nothing."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._emitting = 0
        self._closed = False
        self._changed = threading.Condition()
        self._pool_closed: threading.Event | None = None

    def close_with(self, pool_closed: threading.Event) -> None:
        """Also count as closed once the pool is (the tap closes it after a sync or an abandoned read)."""
        self._pool_closed = pool_closed

    @property
    def closed(self) -> bool:
        return self._closed or (self._pool_closed is not None and self._pool_closed.is_set())

    def wait_for(self, index: int) -> bool:
        """Block until the window's day `index` may be fetched; False once the window was closed."""
        with self._changed:
            while not self.closed and index >= self._emitting + self.limit:
                self._changed.wait(_POLL_SECONDS)
            return not self.closed

    def emitting(self, index: int) -> None:
        with self._changed:
            self._emitting = index
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class DayWindowStream(VendorStream):
    """A stream read day by day; subclasses implement `records_for_day`."""

    is_sorted = False
    settings: DayWindowSettings
    #: the bookmark is a day's (tapkit.state checks a saved one as such)
    bookmarks_by_day: t.ClassVar[bool] = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._day_max: t.Any = None

    @property
    def lookback_days(self) -> int:
        return self.settings.lookback_days

    def start_day(self) -> dt.date:
        return self.settings.start_date

    def end_day(self) -> dt.date:
        return self.settings.end_date or utc_today()

    def bookmark(self, context: Context | None) -> t.Any:
        return self.get_context_state(context).get("replication_key_value")

    def window_days(self, context: Context | None) -> list[dt.date]:
        first = self.start_day()
        bookmark = self.bookmark(context)
        if bookmark is not None:
            first = max(first, parse_day(bookmark) - dt.timedelta(days=self.lookback_days))
        return days_between(first, self.end_day())

    def day_floor_value(self, day: dt.date) -> str:
        """The bookmark value that says 'everything up to this day was read' (key-typed)."""
        if (
            self.is_timestamp_replication_key
            and self.schema["properties"][self.replication_key].get("format") == "date-time"
        ):
            return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).isoformat()
        return day.isoformat()

    # -- one day in two phases: fetched (may run in a worker thread), then emitted in day order ------

    def fetch_day(self, day: dt.date, context: Context | None) -> t.Any:
        """Ask the vendor for one day. May run in a worker thread, several days at once: only ask
        `self.api` and return what came back (the `VendorResponse`s: their bodies are spooled, so a
        large day costs no memory while it waits); never write state or `self` here.
        Default: `records_for_day`, lazily (a stream that overrides neither phase reads a day in one go)."""
        return self.records_for_day(day, context)

    def day_rows(self, day: dt.date, fetched: t.Any, context: Context | None) -> t.Iterable[dict]:
        """The raw rows of one fetched day, in the sync's thread, in day order; may read and write state."""
        yield from fetched

    def records_for_day(self, day: dt.date, context: Context | None) -> t.Iterable[dict]:
        raise NotImplementedError(f"{type(self).__name__} implements fetch_day/day_rows or records_for_day")

    @property
    def max_concurrency(self) -> int:
        return self.settings.max_concurrency

    def fetches_ahead(self) -> bool:
        """Whether days are fetched concurrently: `max_concurrency` > 1 and a stream that fetches in
        `fetch_day` (the default `fetch_day` only defers `records_for_day`, which must run in order)."""
        return self.max_concurrency > 1 and type(self).fetch_day is not DayWindowStream.fetch_day

    def fetched_days(self, days: list[dt.date], context: Context | None) -> t.Iterator[tuple[dt.date, t.Any]]:
        """(day, fetched) in day order; fetched ahead by the tap's prefetch pool (see the module doc)."""
        if not self.fetches_ahead() or len(days) < 2:
            for day in days:
                yield day, self.fetch_day(day, context)
            return
        ahead = DaysAhead(days_ahead(self.max_concurrency))
        index_of = {day: index for index, day in enumerate(days)}

        def fetch(day: dt.date) -> t.Iterator[t.Any]:
            if ahead.wait_for(index_of[day]):
                yield self.fetch_day(day, context)

        prefetch = self.prefetch(days, fetch)
        ahead.close_with(prefetch.closed)  # workers waiting already see it within a poll
        every_day_taken = False
        try:
            for index, day in enumerate(days):
                ahead.emitting(index)
                (fetched,) = prefetch.take(day)
                yield day, fetched
            every_day_taken = True
        finally:
            # An early end (an error, a stop): the workers still waiting fetch nothing, and requests in
            # flight are waited for when the tap's sync ends (not at all after a stop signal).
            ahead.close()
            prefetch.close(wait=every_day_taken)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        for day, fetched in self.fetched_days(self.window_days(context), context):
            self._day_max = None
            yield from self.day_rows(day, fetched, context)
            self.commit_day(day, context)

    @override
    def counts_toward_bookmark(self, record: dict, context: Context | None) -> bool:
        # Remember the newest value of the day; the bookmark moves only in `commit_day`.
        value = record.get(self.replication_key)
        if value is not None and (self._day_max is None or value > self._day_max):
            self._day_max = value
        return False

    def commit_day(self, day: dt.date, context: Context | None) -> None:
        value = self._day_max if self._day_max is not None else self.day_floor_value(day)
        state = self.get_context_state(context)
        current = state.get("replication_key_value")
        if current is None or value > current:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = value
        self.write_state_now()
