"""Partitions fetched ahead by a bounded pool, consumed in their sequential order.

singer-sdk emits one partition after the other from one thread. `OrderedPrefetch` lets worker
threads run each partition's requests ahead of time (at most `workers` partitions at once, each
holding at most `PAGES_AHEAD` unconsumed pages), while the main thread takes the pages partition by
partition in the order a sequential run would. Records, keys and state therefore come out exactly
as a sequential run gives them; only the waiting overlaps. Rate limiting, Retry-After and the
vendor's announced budget (its rate-limit headers) stay with the kit's shared, thread-safe `RateLimiter`.

With `workers <= 1` nothing runs in a thread: each partition is fetched when it is taken. With more,
even a single partition is fetched ahead, page by page, while the main thread emits.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

K = t.TypeVar("K", bound=t.Hashable)
T = t.TypeVar("T")

PAGES_AHEAD = 8  # per partition: bounds the spooled bodies waiting in memory or on disk
_DONE = object()
_POLL_SECONDS = 0.2


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Lane:
    """One partition's pages on their way from a worker to the main thread."""

    def __init__(self) -> None:
        self.pages: queue.Queue[t.Any] = queue.Queue(maxsize=PAGES_AHEAD)
        self.cancelled = threading.Event()

    def put(self, item: t.Any) -> bool:
        while not self.cancelled.is_set():
            try:
                self.pages.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False


class OrderedPrefetch(t.Generic[K, T]):
    """`take(key)` yields what `produce(key)` yields; the keys after it are already under way."""

    def __init__(self, keys: t.Iterable[K], produce: t.Callable[[K], t.Iterable[T]], workers: int) -> None:
        self._produce = produce
        self._keys = list(dict.fromkeys(keys))
        self._lanes: dict[K, _Lane] = {}
        self._pool: ThreadPoolExecutor | None = None
        #: partitions fetched at once (the `max_concurrency` setting)
        self.workers = workers
        #: set once `close()` began: a `produce` that waits for something may watch it, and give up
        self.closed = threading.Event()
        # Even one partition gains: its next pages are fetched while the main thread emits the current one.
        if workers > 1 and self._keys:
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prefetch")
            for key in self._keys:  # FIFO: the partition taken next has always started
                lane = self._lanes[key] = _Lane()
                self._pool.submit(self._run, key, lane)

    def _run(self, key: K, lane: _Lane) -> None:
        try:
            for item in self._produce(key):
                if not lane.put(item):
                    return
        except BaseException as exc:
            lane.put(_Failure(exc))
            return
        lane.put(_DONE)

    def take(self, key: K) -> t.Iterator[T]:
        lane = self._lanes.pop(key, None)
        if lane is None:  # not prefetched (sequential, or a key outside the plan)
            yield from self._produce(key)
            return
        self._cancel_skipped_before(key)
        try:
            while True:
                item = lane.pages.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            lane.cancelled.set()

    def _cancel_skipped_before(self, key: K) -> None:
        """Partitions planned before `key` but never taken must not hold a worker forever."""
        for earlier in self._keys[: self._keys.index(key)]:
            skipped = self._lanes.pop(earlier, None)
            if skipped is not None:
                skipped.cancelled.set()

    def close(self, *, wait: bool = True) -> None:
        """Stop the partitions not taken; wait for requests in flight, so nothing logs after an error
        (`wait=False` when the run was stopped by a signal: it must end within seconds)."""
        self.closed.set()
        for lane in self._lanes.values():
            lane.cancelled.set()
        self._lanes.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
