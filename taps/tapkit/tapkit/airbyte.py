"""Run any tapkit tap as an Airbyte source (the `source-<vendor>` console scripts).

The tap runs in-process, unchanged: the Airbyte commands are thin layers over the singer-sdk Tap.

- `spec`: the tap's settings as connectionSpecification; secret settings get `airbyte_secret`.
- `check --config`: the config is validated (schema + `check_settings`), then one cheap stream
  fetches its first record; any `TapkitError` becomes CONNECTION_STATUS FAILED with its message.
- `discover --config`: one AirbyteStream per Singer stream (schema, keys, cursor, sync modes).
- `read --config --catalog [--state]`: the configured catalog becomes a Singer catalog selection
  (full_refresh forces FULL_TABLE and drops that stream's state); the Airbyte per-stream state
  becomes the Singer `{"bookmarks": ...}` state, and a writer in place of the Singer one turns
  each Singer RECORD / SCHEMA / STATE into Airbyte RECORD / stream status / per-stream STATE.

Everything on stdout is one AirbyteMessage per line: logs become LOG messages, stray prints go
to stderr, and a failure is a TRACE error (config_error, transient_error or system_error) and
exit code 1. Every message but RECORD passes through the kit's secret scrubber.

A partition or stream that failed alone (see `tapkit.isolation`): every other stream COMPLETE with its
final STATE, the failed stream(s) INCOMPLETE, one TRACE error listing every failed part, and exit 1.

SIGTERM or SIGINT during `read` (see `tapkit.stopping`): the records read so far, then a per-stream
STATE for every stream with records after its last one, INCOMPLETE stream statuses, a TRACE error
(transient_error) saying the source was stopped, the same line on stderr, and exit 128 + signal.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import sys
import threading
import time
import traceback
import typing as t

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.exceptions import ConfigurationError
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.messages import RecordMessage, SchemaMessage, StateMessage
from typing_extensions import override

from tapkit import config_files, secrets, stopping
from tapkit.errors import AuthenticationError, ConfigError, RetriesExhaustedError, TapkitError
from tapkit.isolation import PartsFailedError
from tapkit.state import StateError, checked_state

if t.TYPE_CHECKING:
    from singer_sdk import Stream, Tap

FULL_REFRESH = "full_refresh"
INCREMENTAL = "incremental"
LOG_LEVELS = {logging.CRITICAL: "FATAL", logging.ERROR: "ERROR", logging.WARNING: "WARN", logging.INFO: "INFO"}


def now_ms() -> int:
    return int(time.time() * 1000)


# -- output --------------------------------------------------------------------------------------


class AirbyteOutput:
    """The protocol stream: one JSON AirbyteMessage per line, shared by the writer and the logs."""

    def __init__(self, stream: t.BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def record(self, stream: str, data: dict) -> None:
        # Records are the bulk: no scrubbing (they hold vendor data, not settings), no flush.
        line = encoder.encode({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": now_ms()}})
        with self._lock, stopping.writing():
            self._stream.write(line + b"\n")

    def message(self, message: dict) -> None:
        line = secrets.scrub(encoder.encode(message).decode()).encode()
        with self._lock, stopping.writing():
            self._stream.write(line + b"\n")
            self._stream.flush()

    def trace(self, kind: str, **payload: t.Any) -> None:
        self.message({"type": "TRACE", "trace": {"type": kind, "emitted_at": float(now_ms()), **payload}})

    def stream_status(self, stream: str, status: str) -> None:
        self.trace("STREAM_STATUS", stream_status={"stream_descriptor": {"name": stream}, "status": status})

    def error(self, exc: BaseException) -> None:
        failure_type, message = describe_failure(exc)
        error: dict[str, t.Any] = {
            "message": message,
            "internal_message": f"{type(exc).__name__}: {exc}",
            "failure_type": failure_type,
        }
        if failure_type != "config_error":  # a bad file or setting is the user's to fix: the line says it all
            error["stack_trace"] = "".join(traceback.format_exception(exc))
        if isinstance(exc, PartsFailedError) and len(exc.streams) == 1:
            (stream,) = exc.streams
            error["stream_descriptor"] = {"name": stream}
        self.trace("ERROR", error=error)


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(failure_type, one line a person can act on) for an exception."""
    if isinstance(exc, (ConfigError, AuthenticationError, StateError)):
        return "config_error", str(exc)
    if isinstance(exc, ConfigurationError):
        details = "; ".join(getattr(exc, "errors", None) or [])
        return "config_error", f"{exc}: {details}" if details else str(exc)
    if isinstance(exc, RetriesExhaustedError) or (isinstance(exc, PartsFailedError) and exc.transient):
        return "transient_error", str(exc)
    if isinstance(exc, TapkitError):
        return "system_error", str(exc)
    return "system_error", f"unexpected error: {type(exc).__name__}: {exc}"


class AirbyteLogHandler(logging.Handler):
    """Python logging -> Airbyte LOG messages."""

    def __init__(self, output: AirbyteOutput) -> None:
        super().__init__()
        self.output = output
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    @override
    def emit(self, record: logging.LogRecord) -> None:
        try:
            log: dict[str, t.Any] = {
                "level": LOG_LEVELS.get(record.levelno, "DEBUG"),
                "message": record.name + ": " + record.getMessage(),
            }
            if record.exc_info:
                log["stack_trace"] = "".join(traceback.format_exception(*record.exc_info))
            self.output.message({"type": "LOG", "log": log})
        except Exception:
            self.handleError(record)


# -- spec and discover ---------------------------------------------------------------------------


def connection_specification(tap_class: type[Tap]) -> dict:
    """The tap's own settings; singer-sdk's built-ins (stream maps, flattening, batch) are Singer-only."""
    schema = copy.deepcopy(tap_class.config_jsonschema)
    builtin: dict = {"properties": {}}
    tap_class.append_builtin_config(builtin)
    for name in builtin["properties"]:
        schema["properties"].pop(name, None)
    for name in secrets.secret_setting_names(schema):
        schema["properties"][name]["airbyte_secret"] = True
    # Airbyte reads connection specifications as JSON Schema draft-07, which these settings fit.
    return {
        **schema,
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"{tap_class.name} settings",
        "additionalProperties": True,
    }


def airbyte_stream(stream: Stream) -> dict:
    incremental = bool(stream.replication_key)
    entry: dict[str, t.Any] = {
        "name": stream.name,
        "json_schema": stream.schema,
        "supported_sync_modes": [FULL_REFRESH, INCREMENTAL] if incremental else [FULL_REFRESH],
        "source_defined_cursor": incremental,
        "source_defined_primary_key": [[key] for key in stream.primary_keys or ()],
    }
    if incremental:
        entry["default_cursor_field"] = [stream.replication_key]
    return entry


# -- read: catalog and state translation ----------------------------------------------------------


class ReadPlan:
    """The configured catalog, checked against the tap's streams: stream name -> sync mode."""

    def __init__(self, configured_catalog: dict, streams: dict[str, Stream]) -> None:
        self.sync_modes: dict[str, str] = {}
        for configured in configured_catalog.get("streams", []):
            name = configured["stream"]["name"]
            mode = configured.get("sync_mode", FULL_REFRESH)
            stream = streams.get(name)
            if stream is None:
                raise ConfigError(f"the catalog asks for stream {name!r}, which this source does not have")
            if mode not in (FULL_REFRESH, INCREMENTAL):
                raise ConfigError(f"stream {name}: unknown sync_mode {mode!r}")
            if mode == INCREMENTAL and not stream.replication_key:
                # As in Airbyte's CDK, a stream without cursor is read whole (PyAirbyte asks all for incremental).
                mode = FULL_REFRESH
            self.sync_modes[name] = mode

    def incremental(self, name: str) -> bool:
        return self.sync_modes.get(name) == INCREMENTAL

    def singer_catalog(self, discovered: dict) -> dict:
        catalog = copy.deepcopy(discovered)
        for entry in catalog["streams"]:
            name = entry["tap_stream_id"]
            for metadata in entry.get("metadata", []):
                if metadata["breadcrumb"] == []:
                    metadata["metadata"]["selected"] = name in self.sync_modes
            if name in self.sync_modes and not self.incremental(name):
                entry["replication_method"] = "FULL_TABLE"
        return catalog

    def singer_state(self, airbyte_state: t.Any) -> dict:
        """The Singer state for this read: bookmarks of the incremental streams only."""
        bookmarks = singer_bookmarks(airbyte_state)
        return {"bookmarks": {name: value for name, value in bookmarks.items() if self.incremental(name)}}


def singer_bookmarks(airbyte_state: t.Any) -> dict[str, dict]:
    """Airbyte state (a list of per-stream STATE messages) -> Singer bookmarks by stream.

    A legacy state holding a Singer state (`{"bookmarks": ...}`, bare or as LEGACY `data`) is
    accepted too, so a Singer-era connection keeps its bookmarks.
    """
    if not airbyte_state:
        return {}
    if isinstance(airbyte_state, dict):
        if "bookmarks" in airbyte_state:
            return dict(airbyte_state["bookmarks"])
        airbyte_state = [airbyte_state]
    if not isinstance(airbyte_state, list):
        raise ConfigError("the state must be a list of Airbyte STATE messages")
    bookmarks: dict[str, dict] = {}
    for message in airbyte_state:
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "STREAM":
            stream_state = message["stream"]
            bookmarks[stream_state["stream_descriptor"]["name"]] = dict(stream_state.get("stream_state") or {})
        elif kind == "LEGACY" and isinstance(message.get("data"), dict) and "bookmarks" in message["data"]:
            bookmarks.update(message["data"]["bookmarks"])
        else:
            raise ConfigError(
                f"the state holds a message this source cannot resume from (type {kind!r}); expected STREAM"
            )
    return bookmarks


class MessageSink(GenericSingerWriter[t.Any, t.Any]):
    """A writer singer-sdk hands every Singer message to, that writes no Singer text itself."""

    @override
    def serialize_message(self, message: t.Any) -> t.Any:
        return message

    @override
    def write_message(self, message: t.Any) -> None:
        pass


class AirbyteWriter(MessageSink):
    """In place of the Singer writer: Singer messages in, Airbyte messages out.

    singer-sdk only ever calls a writer's `write_message`, so no Singer serialization is needed.

    A Singer STATE holds every stream's bookmark; it becomes one per-stream STATE for each selected
    stream whose bookmark moved, or whose records since its last STATE it now covers.
    """

    def __init__(self, output: AirbyteOutput, selected: t.Iterable[str]) -> None:
        self.output = output
        self.selected = list(selected)
        self._emitted: dict[str, dict] = {}
        self._pending = dict.fromkeys(self.selected, 0)
        self._started: set[str] = set()

    @override
    def write_message(self, message: t.Any) -> None:
        if isinstance(message, RecordMessage):
            # Counted first: a stop signal takes effect as the line is written, and the record must be covered.
            self._pending[message.stream] = self._pending.get(message.stream, 0) + 1
            self.output.record(message.stream, message.record)
        elif isinstance(message, SchemaMessage):
            self._start(message.stream)
        elif isinstance(message, StateMessage):
            for name, stream_state in message.value.get("bookmarks", {}).items():
                if name in self._pending and (self._pending[name] or self._emitted.get(name) != stream_state):
                    self._emit_state(name, stream_state)
        # ACTIVATE_VERSION and BATCH have no Airbyte counterpart.

    def finish(self, failed: t.Collection[str] = ()) -> None:
        """End of a read: every selected stream is committed, and COMPLETE unless a part of it `failed`
        (then INCOMPLETE; its state keeps only what it committed, see tapkit.isolation)."""
        for name in self.selected:
            self._start(name)
            if self._pending[name] or name not in self._emitted:
                self._emit_state(name, self._emitted.get(name, {}))
            self.output.stream_status(name, "INCOMPLETE" if name in failed else "COMPLETE")

    def checkpoint(self) -> None:
        """After a stop signal: a STATE for each stream with records after its last one (its bookmark
        as last emitted, `{}` if none yet), so that no RECORD follows the last STATE."""
        for name in self.selected:
            if self._pending[name]:
                self._emit_state(name, self._emitted.get(name, {}))

    def fail(self) -> None:
        for name in self.selected:
            if name in self._started:
                self.output.stream_status(name, "INCOMPLETE")

    def _start(self, name: str) -> None:
        if name in self._pending and name not in self._started:
            self._started.add(name)
            self.output.stream_status(name, "STARTED")

    def _emit_state(self, name: str, stream_state: dict) -> None:
        self._emitted[name] = copy.deepcopy(stream_state)
        self.output.message(
            {
                "type": "STATE",
                "state": {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": {"name": name}, "stream_state": stream_state},
                    "sourceStats": {"recordCount": float(self._pending[name])},
                },
            }
        )
        self._pending[name] = 0


class NullWriter(MessageSink):
    """Swallows Singer messages (check and discover write none)."""


# -- commands ------------------------------------------------------------------------------------


def load_config(tap_class: type[Tap], path: str) -> dict:
    config = config_files.read_json_file(path, "config")
    # Before anything can print them: secrets are masked in logs, traces and statuses.
    secrets.install(
        config[name]
        for name in secrets.secret_setting_names(tap_class.config_jsonschema)
        if isinstance(config.get(name), str)
    )
    return config


def load_catalog(path: str) -> dict:
    """A configured catalog: an object whose `streams` each name a stream."""
    catalog = config_files.read_json_file(path, "catalog")
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        shown = "none" if streams is None else config_files.json_kind(streams)
        raise ConfigError(
            f'catalog file {path} has no list of streams (its "streams" is {shown}); expected a configured catalog'
        )
    for number, entry in enumerate(streams, start=1):
        stream = entry.get("stream") if isinstance(entry, dict) else None
        if not isinstance(stream, dict) or not isinstance(stream.get("name"), str):
            raise ConfigError(f"catalog file {path}: stream entry {number} names no stream (stream.name)")
    return catalog


def load_state(path: str) -> t.Any:
    """A list of per-stream STATE messages (or a legacy state object)."""
    return config_files.read_json_file(path, "state", expected=(list, dict))


def check_stream(tap: Tap) -> Stream:
    """The cheapest stream to prove the connection: the tap's choice, else a small unbookmarked list."""
    streams = [stream for stream in tap.streams.values() if not stream.parent_stream_type]
    chosen = getattr(tap, "airbyte_check_stream", None)
    for stream in streams:
        if stream.name == chosen:
            return stream
    return next((stream for stream in streams if not stream.replication_key), streams[0])


def first_record(stream: Stream) -> None:
    """Fetch records of the stream's first partition until one arrives (the SDK's dry run logs an abort as an error)."""
    partitions = stream.partitions
    next(iter(stream.get_records(partitions[0] if partitions else None)), None)


def command_spec(tap_class: type[Tap], args: argparse.Namespace, output: AirbyteOutput) -> int:
    if args.config:  # not needed; given anyway (as with the Singer `--about`), it is judged like any other
        tap_class(config=load_config(tap_class, args.config), message_writer=NullWriter(), setup_mapper=False)
    output.message({"type": "SPEC", "spec": {"connectionSpecification": connection_specification(tap_class)}})
    return 0


def command_check(tap_class: type[Tap], args: argparse.Namespace, output: AirbyteOutput) -> int:
    try:
        tap = tap_class(config=load_config(tap_class, args.config), message_writer=NullWriter(), setup_mapper=False)
        try:
            first_record(check_stream(tap))
            # A part that failed alone (a Voyado customer key, say) is still a failed connection here.
            failed = getattr(tap, "failed_parts", None)
            if failed is not None and (error := failed.error()) is not None:
                raise error
        finally:
            close = getattr(tap, "close_prefetches", None)  # one record is enough: no partition fetched on
            if close is not None:
                close()
    except (TapkitError, ConfigurationError) as exc:
        output.message(
            {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": describe_failure(exc)[1]}}
        )
        if isinstance(exc, (ConfigError, ConfigurationError)):
            # The config itself is wrong (a file, a setting): as every other command given a bad config,
            # the error follows and the exit is 1. A connection that fails is only a status (exit 0).
            raise
        return 0
    output.message({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
    return 0


def command_discover(tap_class: type[Tap], args: argparse.Namespace, output: AirbyteOutput) -> int:
    tap = tap_class(config=load_config(tap_class, args.config), message_writer=NullWriter(), setup_mapper=False)
    streams = [airbyte_stream(stream) for stream in tap.streams.values()]
    output.message({"type": "CATALOG", "catalog": {"streams": streams}})
    return 0


def command_read(tap_class: type[Tap], args: argparse.Namespace, output: AirbyteOutput) -> int:
    config = load_config(tap_class, args.config)
    configured_catalog = load_catalog(args.catalog)  # every file judged before the probe's discovery
    airbyte_state = load_state(args.state) if args.state else None
    layout = getattr(tap_class, "state_layout", None)
    if airbyte_state and layout is not None:  # before the probe's discovery, a request for some taps
        checked_state({"bookmarks": singer_bookmarks(airbyte_state)}, layout, tap_name=tap_class.name)
    probe = tap_class(config=config, message_writer=NullWriter(), setup_mapper=False)
    plan = ReadPlan(configured_catalog, probe.streams)
    state = plan.singer_state(airbyte_state)
    writer = AirbyteWriter(output, plan.sync_modes)
    tap = tap_class(config=config, catalog=plan.singer_catalog(probe.catalog_dict), state=state, message_writer=writer)
    try:
        tap.sync_all()
    except stopping.Stopped:
        writer.checkpoint()
        writer.fail()
        raise
    except PartsFailedError as failed:  # every other stream synced whole: one TRACE error follows (main)
        writer.finish(failed=failed.streams)
        raise
    except BaseException:
        writer.fail()
        raise
    writer.finish()
    return 0


COMMANDS = {"spec": command_spec, "check": command_check, "discover": command_discover, "read": command_read}


def parse_args_prog(tap_class: type[Tap]) -> str:
    return tap_class.name.replace("tap-", "source-", 1)


def parse_args(tap_class: type[Tap], argv: t.Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=parse_args_prog(tap_class), description=f"{tap_class.name} as an Airbyte source"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    spec = commands.add_parser("spec", help="print the connector specification")
    spec.add_argument("--config", help="path to a config JSON to check (optional: the specification needs none)")
    for name in ("check", "discover", "read"):
        command = commands.add_parser(name)
        command.add_argument("--config", required=True, help="path to the config JSON")
        if name == "read":
            command.add_argument("--catalog", required=True, help="path to the configured catalog JSON")
            command.add_argument("--state", help="path to the state JSON (a list of per-stream STATE messages)")
    return parser.parse_args(argv)


def main(tap_class: type[Tap], argv: t.Sequence[str], stdout: t.BinaryIO) -> int:
    """Run one Airbyte command; returns the exit code."""
    args = parse_args(tap_class, argv)
    output = AirbyteOutput(stdout)
    handler = AirbyteLogHandler(output)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(capture=True)
    try:
        return COMMANDS[args.command](tap_class, args, output)
    except stopping.Stopped as stop:
        line = stop.line(parse_args_prog(tap_class))
        output.trace("ERROR", error={"message": line, "internal_message": line, "failure_type": "transient_error"})
        sys.stderr.write(line + "\n")
        return stop.exit_code
    except Exception as exc:
        output.error(exc)
        sys.stderr.write(f"{parse_args_prog(tap_class)}: error: {secrets.scrub(describe_failure(exc)[1])}\n")
        return 1
    finally:
        root.removeHandler(handler)


def run(tap_class: type[Tap]) -> t.NoReturn:
    """Console-script body of `source-<vendor>`."""
    protocol_stream = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must not corrupt the protocol stream
    stopping.install()  # before the tap exists: a stop during discovery ends the same way
    code = main(tap_class, sys.argv[1:], protocol_stream)
    protocol_stream.flush()
    sys.stderr.flush()
    if code > 128 and threading.active_count() > 1:
        os._exit(code)  # stopped: do not wait for prefetch workers inside slow requests (see tapkit.cli)
    sys.exit(code)
