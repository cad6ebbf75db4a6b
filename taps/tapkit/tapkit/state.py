"""The input state, checked before any request: a malformed or hand-edited bookmark is one clear line.

singer-sdk loads whatever `--state` holds and trusts it: an integer where a date belongs ends later
in a TypeError naming no stream (after requests were made), a bookmark in 2099 silently extracts
nothing, and a misspelt stream or field silently re-reads a stream from its start. So each tap
declares what its state may hold (a `StateLayout`, derived from its stream classes plus the tap's
own fields), and `StateCheckedTap` (a base of `VendorTap`) checks the input against it first. A `StateError` names the
stream, the partition where there is one, and the bookmark field.

Decisions (docs/reliability.md, "Bad state"):
- a stream this tap does not have is refused, not ignored: it is most often a misspelt name, and
  ignoring it would silently re-read the stream that was meant from its start. Streams named only
  at discovery (Claravine's per-dataset tables) are matched by their name prefix;
- a bookmark later than now (plus `CLOCK_SKEW`) is refused; day-window streams are judged by day
  (a day's bookmark may hold that day's last timestamp), up to tomorrow (UTC);
- a bookmark field the stream does not keep (e.g. a misspelt `replication_key_value`) is refused;
- the state of a full-table stream is ignored with a warning (a full read loses nothing);
- shapes from elsewhere are unwrapped with a warning: Meltano's state-store form
  (`{"singer_state": {...}}`) and a whole STATE message (`{"type": "STATE", "value": {...}}`).
  Every tap has written the same shape since 0.1.0, so there is no older tap shape to migrate.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import typing as t
from dataclasses import dataclass, field

from typing_extensions import override

from tapkit import clock
from tapkit.errors import TapkitError

#: how far past the tap's clock a bookmark may be (the vendor's or another machine's clock)
CLOCK_SKEW = dt.timedelta(hours=1)
#: fields singer-sdk itself keeps in a bookmark (signpost and starting value: older or mid-run states)
SDK_FIELDS = frozenset(
    {
        "replication_key",
        "replication_key_value",
        "progress_markers",
        "replication_key_signpost",
        "starting_replication_value",
    }
)
#: what singer-sdk leaves at the stream level of a partitioned stream when a run stops mid-sync (SIGTERM):
#: transient progress it replaces on the next run, never a bookmark of its own
SDK_STREAM_LEVEL_PROGRESS = frozenset({"progress_markers", "replication_key_signpost", "starting_replication_value"})
TIME_EXAMPLE = "2026-12-01T00:00:00+00:00"

logger = logging.getLogger("tapkit.state")


class StateError(TapkitError):
    """The input state cannot be resumed from; raised before any request."""


@dataclass(frozen=True)
class Where:
    """A place in the state: a stream, maybe a partition, maybe a bookmark field (how errors name it)."""

    stream: str
    partition: t.Mapping[str, t.Any] | None = None
    field: str | None = None

    def at(self, name: str) -> Where:
        return Where(self.stream, self.partition, f"{self.field}.{name}" if self.field else name)

    @override
    def __str__(self) -> str:
        text = f"stream {self.stream}"
        if self.partition is not None:
            text += ", partition " + ", ".join(f"{key}={value}" for key, value in self.partition.items())
        if self.field:
            text += f", bookmark {self.field}"
        return text

    def fail(self, value: t.Any, problem: str) -> t.NoReturn:
        raise StateError(f"invalid state: {self}: {shown(value)} {problem}; correct it or remove it from the state")


#: checks one tap-specific bookmark field (its value, where it is); raises StateError via `Where.fail`
FieldCheck = t.Callable[[t.Any, Where], None]


@dataclass(frozen=True)
class StreamState:
    """What one stream's bookmark may hold."""

    replication_key: str | None = None
    #: a day-window stream: its bookmark is judged by day (see tapkit.windows)
    by_day: bool = False
    #: context keys of its partitions; () = one bookmark for the whole stream
    partition_keys: tuple[str, ...] = ()
    #: the tap's own fields in the bookmark (or in each partition), with their checks
    fields: t.Mapping[str, FieldCheck] = field(default_factory=dict)


@dataclass(frozen=True)
class StateLayout:
    """Every stream a tap's state may name."""

    streams: t.Mapping[str, StreamState]
    #: (name prefix, layout) of streams named only at discovery
    dynamic: tuple[tuple[str, StreamState], ...] = ()

    @classmethod
    def of(
        cls,
        stream_classes: t.Iterable[type],
        *,
        fields: t.Mapping[str, t.Mapping[str, FieldCheck]] | None = None,
        dynamic: tuple[tuple[str, StreamState], ...] = (),
    ) -> StateLayout:
        """The layout read from stream classes: name, replication key, partitioning keys, day windows."""
        streams = {}
        for stream_class in stream_classes:
            name = stream_class.name  # type: ignore[attr-defined]  # every stream class declares its name
            streams[name] = StreamState(
                replication_key=_class_value(stream_class, "replication_key"),
                by_day=bool(_class_value(stream_class, "bookmarks_by_day")),
                partition_keys=tuple(_class_value(stream_class, "state_partitioning_keys") or ()),
                fields=(fields or {}).get(name, {}),
            )
        return cls(streams, dynamic)

    def stream(self, name: str) -> StreamState | None:
        if name in self.streams:
            return self.streams[name]
        return next((layout for prefix, layout in self.dynamic if name.startswith(prefix)), None)

    def names(self) -> str:
        return ", ".join([*sorted(self.streams), *(f"{prefix}*" for prefix, _ in self.dynamic)])


def _class_value(stream_class: type, name: str) -> t.Any:
    """A stream attribute set on the class; None where only singer-sdk's property defines it."""
    value = getattr(stream_class, name, None)
    return None if isinstance(value, property) else value


# -- values ----------------------------------------------------------------------------------------


def shown(value: t.Any) -> str:
    """A value as an error line shows it: its JSON text (short) and, for non-text, its JSON type."""
    text = json.dumps(value, default=str)
    text = text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, str):
        return text
    kind = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), "null"
    )
    return f"{text} ({kind})"


def utc_now() -> dt.datetime:
    return clock.now()


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 date or date-time as an aware datetime (no zone: UTC). ValueError if it is neither."""
    if len(value) == 10:
        day = dt.date.fromisoformat(value)
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def check_time(
    value: t.Any, where: Where, *, by_day: bool = False, nullable: bool = False, now: dt.datetime | None = None
) -> None:
    """A bookmark time: an ISO 8601 text, a real date, not in the future."""
    if value is None and nullable:
        return
    if not isinstance(value, str):
        where.fail(value, f"is not a date-time text (expected ISO 8601, e.g. {TIME_EXAMPLE})")
    try:
        parsed = parse_time(value)
    except ValueError:
        where.fail(value, f"is not a date-time (expected ISO 8601, e.g. {TIME_EXAMPLE})")
    now = now or utc_now()
    if by_day:
        latest = now.date() + dt.timedelta(days=1)
        if parsed.astimezone(dt.UTC).date() > latest:
            where.fail(value, f"is in the future (today is {now.date().isoformat()} UTC)")
    elif parsed > now + CLOCK_SKEW:
        where.fail(value, f"is in the future (now is {now.replace(microsecond=0).isoformat()})")


def check_day(value: t.Any, where: Where) -> None:
    """A day, YYYY-MM-DD, not after tomorrow (UTC)."""
    if not isinstance(value, str) or len(value) != 10:
        where.fail(value, "is not a day (expected YYYY-MM-DD)")
    check_time(value, where, by_day=True)


def check_text(value: t.Any, where: Where, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or not value:
        where.fail(value, "is not a non-empty text")


def check_count(value: t.Any, where: Where, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        where.fail(value, "is not a count (a whole number, 0 or more)")


# -- the tap -------------------------------------------------------------------------------------


class StateCheckedTap:
    """A mixin before singer_sdk.Tap: the input state is checked before the tap discovers streams.

    Tap.__init__ sets up stream maps (which runs discovery, a request for taps whose streams come
    from the API) before it loads the state, so the check runs in `setup_mapper`, and again in
    `load_state` for a state that did not come through the constructor.
    """

    #: what the tap's state may hold; None: not checked
    state_layout: t.ClassVar[StateLayout | None] = None
    name: str

    def __init__(self, *args: t.Any, state: t.Any = None, **kwargs: t.Any) -> None:
        self._given_state = state
        self._checked: tuple[t.Any, dict] | None = None  # (the state given, the state to load)
        super().__init__(*args, state=state, **kwargs)  # type: ignore[call-arg]  # a mixin before Tap: super() is the Tap

    @classmethod
    def invoke(cls, *, state: t.IO[str] | None = None, **kwargs: t.Any) -> None:
        # singer-sdk parses --state itself: a file that is not JSON would end in a bare JSONDecodeError.
        if state is not None:
            text = state.read()
            try:
                json.loads(text)
            except ValueError as exc:
                name = getattr(state, "name", "the state file")
                raise StateError(
                    f"invalid state: {name} is not JSON ({exc}); give a Singer state file or none"
                ) from None
            state = io.StringIO(text)
        super().invoke(state=state, **kwargs)  # type: ignore[misc]  # a mixin before Tap: super() is the Tap

    def checked(self, state: t.Any) -> dict:
        if self.state_layout is None:
            return state or {}
        if self._checked is None or self._checked[0] is not state:
            self._checked = (state, checked_state(state, self.state_layout, tap_name=self.name))
        return self._checked[1]

    def setup_mapper(self) -> None:
        # A path is read (and checked) by load_state; anything else is checked now (singer-sdk would
        # take an empty list for "no state" and start over).
        if self._given_state is not None and not isinstance(self._given_state, (str, os.PathLike)):
            self.checked(self._given_state)
        super().setup_mapper()  # type: ignore[misc]  # a mixin before Tap: super() is the Tap

    def load_state(self, state: dict[str, t.Any]) -> None:
        super().load_state(self.checked(state))  # type: ignore[misc]  # a mixin before Tap: super() is the Tap


# -- the state -------------------------------------------------------------------------------------


def checked_state(state: t.Any, layout: StateLayout, *, tap_name: str = "this tap") -> dict:
    """The state to load, unwrapped where it came in another known form. Raises `StateError`."""
    state = unwrapped(state)
    if not state:
        return {}
    bookmarks = state.get("bookmarks")
    if bookmarks is None:
        raise StateError(
            f"invalid state: it has no bookmarks object (its top-level keys: {', '.join(map(str, state))}); "
            'expected {"bookmarks": {"<stream>": {...}}}'
        )
    ignored = sorted(set(state) - {"bookmarks", "currently_syncing"})
    if ignored:
        logger.warning("state: top-level keys %s are not Singer state and are ignored", ", ".join(ignored))
    if not isinstance(bookmarks, dict):
        raise StateError(f"invalid state: bookmarks is {shown(bookmarks)}, expected an object of streams")
    for name, stream_state in bookmarks.items():
        stream = layout.stream(name)
        if stream is None:
            raise StateError(
                f"invalid state: stream {name} is not a stream of {tap_name} (its streams: {layout.names()}); "
                "correct the name or remove that stream from the state"
            )
        check_stream(stream_state, stream, Where(name))
    return state


def unwrapped(state: t.Any) -> dict:
    if state is None:
        return {}
    if not isinstance(state, dict):
        raise StateError(f'invalid state: it is {shown(state)}, expected a JSON object {{"bookmarks": ...}}')
    if set(state) == {"singer_state"} and isinstance(state["singer_state"], dict):
        logger.warning('state: Meltano\'s state-store form {"singer_state": ...} was given; its singer_state is used')
        return state["singer_state"]
    if state.get("type") == "STATE" and isinstance(state.get("value"), dict):
        logger.warning("state: a whole STATE message was given; its value is used")
        return state["value"]
    return state


def check_stream(stream_state: t.Any, stream: StreamState, where: Where) -> None:
    if not isinstance(stream_state, dict):
        raise StateError(f"invalid state: {where}: its bookmark is {shown(stream_state)}, expected an object")
    if stream.replication_key is None and not stream.partition_keys and not stream.fields:
        if stream_state:
            logger.warning(
                "state: %s is read whole on every run; its bookmark %s is ignored", where, shown(stream_state)
            )
        return
    if stream.partition_keys:
        outside = sorted(set(stream_state) - {"partitions"} - SDK_STREAM_LEVEL_PROGRESS)
        if outside:
            keys = ", ".join(stream.partition_keys)
            raise StateError(
                f"invalid state: {where}, bookmark {outside[0]}: this stream keeps one bookmark per {keys} "
                f'under partitions (each with a context {{"{stream.partition_keys[0]}": ...}}), '
                "not at the stream level; "
                "move it into its partition or remove it from the state"
            )
        check_partitions(stream_state.get("partitions", []), stream, where)
        return
    check_bookmark(stream_state, stream, where, allowed=set())


def check_partitions(partitions: t.Any, stream: StreamState, where: Where) -> None:
    if not isinstance(partitions, list):
        Where(where.stream, field="partitions").fail(partitions, "is not a list of partitions")
    seen: list[dict] = []
    for number, partition in enumerate(partitions, start=1):
        place = Where(where.stream, field=f"partitions[{number}]")
        if not isinstance(partition, dict):
            place.fail(partition, "is not an object {context, ...}")
        context = partition.get("context")
        if not isinstance(context, dict) or set(context) != set(stream.partition_keys):
            expected = ", ".join(f'"{key}": ...' for key in stream.partition_keys)
            place.at("context").fail(context, f"is not the partition's context {{{expected}}}")
        if context in seen:
            raise StateError(f"invalid state: {Where(where.stream, context)}: the partition appears twice; keep one")
        seen.append(context)
        check_bookmark(partition, stream, Where(where.stream, context), allowed={"context"})


def check_bookmark(bookmark: dict, stream: StreamState, where: Where, *, allowed: set[str]) -> None:
    known = SDK_FIELDS | set(stream.fields) | allowed
    unknown = sorted(set(bookmark) - known)
    if unknown:
        Where(where.stream, where.partition, unknown[0]).fail(
            bookmark[unknown[0]],
            f"is in a field this stream does not keep (it keeps: {', '.join(sorted(known - allowed))})",
        )
    if "replication_key" in bookmark and bookmark["replication_key"] != stream.replication_key:
        Where(where.stream, where.partition, "replication_key").fail(
            bookmark["replication_key"], f"is not this stream's replication key ({stream.replication_key})"
        )
    if "replication_key_value" in bookmark:
        check_time(
            bookmark["replication_key_value"],
            Where(where.stream, where.partition, "replication_key_value"),
            by_day=stream.by_day,
        )
    markers = bookmark.get("progress_markers")
    if markers is not None and not isinstance(markers, dict):
        Where(where.stream, where.partition, "progress_markers").fail(markers, "is not an object")
    for name, check in stream.fields.items():
        if name in bookmark:
            check(bookmark[name], Where(where.stream, where.partition, name))


def saved_partition_state(tap_state: t.Mapping[str, t.Any], stream_name: str, context: t.Mapping[str, t.Any]) -> dict:
    """One partition's state as the run started (`{}` if none), read without creating state entries
    (the SDK's `get_context_state` would add an empty partition for a context it has not seen)."""
    stream_state = tap_state.get("bookmarks", {}).get(stream_name, {})
    for partition in stream_state.get("partitions", []):
        if partition.get("context") == dict(context):
            return partition
    return {}
