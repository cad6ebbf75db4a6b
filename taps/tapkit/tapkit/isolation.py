"""One failing part never sinks the rest (singer-sdk#280, for every tap of the kit).

A part is a stream's partition (a Gravito domain, a Lytics audience, a Claravine dataset, a Voyado
customer key ...) or a whole stream. When its requests keep failing after the kit's retries, or its
answer cannot be read, the part fails alone:

- one ERROR line names the part and the cause;
- the part's state keeps only what it had committed before the failure (a sorted bookmark, a committed
  day, a saved scan cursor: each covers records already written); the SDK's unfinished progress
  markers are dropped, so an unsorted stream's bookmark stays where the run found it;
- every other part and stream syncs, with its final STATE;
- a stream with a failed part does not announce its snapshot complete (no closing ACTIVATE_VERSION:
  a loader must not delete the rows of the part that failed);
- the run then ends with `PartsFailedError` (exit 1), whose one line lists every failed part.

Not a part's fault, so the run still stops at once: refused credentials (HTTP 401/403 are taken as
the account's, since each tap has one credential for every part), a bad setting or state, a stop
signal, and any unexpected exception (a bug must not look like a vendor fault).
"""

from __future__ import annotations

import logging
import typing as t

from tapkit.errors import AuthenticationError, RetriesExhaustedError, TapkitError, VendorResponseError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

#: what makes a part fail alone: retries exhausted, or an answer that cannot be read
PART_FAULTS: tuple[type[Exception], ...] = (RetriesExhaustedError, VendorResponseError)
#: the SDK's per-partition keys of work in progress (promoted to the bookmark when a partition ends)
UNCOMMITTED_STATE_KEYS = ("progress_markers",)


def is_part_fault(exc: BaseException) -> bool:
    return isinstance(exc, PART_FAULTS) and not isinstance(exc, AuthenticationError)


def describe_part(context: Mapping[str, t.Any] | None) -> str:
    """How a partition is named: `domain news.example.org`; "" for a whole stream."""
    return ", ".join(f"{key} {value}" for key, value in (context or {}).items())


class FailedPart(t.NamedTuple):
    streams: list[str]
    part: str  # describe_part(context), "" for a whole stream
    cause: str
    exc: BaseException

    def line(self) -> str:
        where = f" ({self.part})" if self.part else ""
        return f"{', '.join(self.streams)}{where}: {self.cause}"


class PartsFailedError(TapkitError):
    """Some parts failed (retries exhausted, or an answer that cannot be read); every other part synced."""

    def __init__(self, failed: list[FailedPart]) -> None:
        self.failed = failed
        details = " | ".join(part.line() for part in failed)
        super().__init__(f"{len(failed)} part(s) failed, every other part synced: {details}")

    @property
    def streams(self) -> set[str]:
        return {stream for part in self.failed for stream in part.streams}

    @property
    def transient(self) -> bool:
        """Whether every cause was a transient fault that outlasted its retries (a later run may pass)."""
        return all(isinstance(part.exc, RetriesExhaustedError) for part in self.failed)


class FailedParts:
    """The run's ledger of failed parts: one per tap, handed to every stream, read once at the end.

    A part several streams share (one Gravito domain feeds five streams) is one entry: the first
    stream logs it, the others only add their names."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._failed: dict[tuple[str, str], FailedPart] = {}

    def add(self, stream: str, part: str, exc: BaseException, *, vendor: str) -> None:
        cause = str(exc)
        key = (part or stream, cause)
        known = self._failed.get(key)
        if known is not None:
            if stream not in known.streams:
                known.streams.append(stream)
            return
        self._failed[key] = FailedPart([stream], part, cause, exc)
        what = f"stream {stream}" + (f" ({part})" if part else "")
        self.logger.error("%s: %s failed and is skipped, the other parts go on: %s", vendor, what, cause)

    def part(self, stream: str, context: Mapping[str, t.Any], *, vendor: str) -> PartGuard:
        return PartGuard(self, stream, context, vendor)

    def failed_streams(self) -> set[str]:
        return {stream for part in self._failed.values() for stream in part.streams}

    def error(self) -> PartsFailedError | None:
        """The run's closing error, or None when every part synced."""
        return PartsFailedError(list(self._failed.values())) if self._failed else None

    def guard(
        self,
        stream: str,
        records: Iterable[dict],
        state: Callable[[], dict],
        context: Mapping[str, t.Any] | None,
        *,
        vendor: str,
    ) -> Iterator[dict]:
        """`records` of one partition (or whole stream); a part fault ends them here, noted in the ledger.
        `state()`: the part's state, whose uncommitted progress is then dropped."""
        try:
            yield from records
        except Exception as exc:
            if not is_part_fault(exc):
                raise
            drop_uncommitted(state())
            self.add(stream, describe_part(context), exc, vendor=vendor)


class PartGuard:
    """`with ledger.part(stream, context, vendor=...) as part:` around one part's work where the stream's own
    loop goes through its parts (Voyado's customer keys, not SDK partitions): a part fault ends the block,
    is noted in the ledger, and `part.failed` is then True. Keep `yield` out of the block."""

    def __init__(self, ledger: FailedParts, stream: str, context: Mapping[str, t.Any], vendor: str) -> None:
        self.ledger, self.stream, self.context, self.vendor = ledger, stream, context, vendor
        self.failed = False

    def __enter__(self) -> PartGuard:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: object) -> bool:
        if exc is None or not is_part_fault(exc):
            return False
        self.failed = True
        self.ledger.add(self.stream, describe_part(self.context), exc, vendor=self.vendor)
        return True


def drop_uncommitted(state: dict) -> None:
    """Drop the SDK's progress markers from a stream's or partition's state (and its partitions')."""
    for key in UNCOMMITTED_STATE_KEYS:
        state.pop(key, None)
    for partition in state.get("partitions") or []:
        if isinstance(partition, dict):
            drop_uncommitted(partition)
