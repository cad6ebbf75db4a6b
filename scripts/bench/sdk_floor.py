"""FSDK: the floors' rows through a bare singer-sdk tap: the least a tap emitting through singer-sdk does.

`python -m bench.sdk_floor answers SHAPE RECORDING URL` (bench.floor's F1 rows: the same requests, the same
conversions) or `python -m bench.sdk_floor export URL BUCKET FOLDER STREAM SCHEMA` (bench.export_floor's lines,
decoded with orjson). One stream whose schema is the tap's own (SCHEMA, or the recording's `schema.json`), open to
any other field (`additionalProperties`) so that the SDK drops nothing; singer-sdk's own record path does the rest
(`Stream._sync_records`: type conformance, stream maps, RECORD messages) and writes with the fastest writer it
ships (`singer_sdk.contrib.msgspec.MsgSpecWriter`). No bookmark, no state, no validation, no retries: every choice
in the SDK's favour, so its ratio to F0 is a ceiling for a tap whose records go through singer-sdk's loop.
Prints the record count and the seconds of the sync (after start-up) to stderr, as the other floors do.
"""

from __future__ import annotations

import json
import sys
import time
import typing as t
from pathlib import Path

import orjson
from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

from bench import export_floor, floor

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


class FloorStream(Stream):
    """One stream; its records are handed over as they come."""

    def __init__(self, tap: Tap, name: str, schema: dict, records: Iterable[dict]) -> None:
        super().__init__(tap, schema={**schema, "additionalProperties": True}, name=name)
        self._records = records

    @override
    def get_records(self, context: t.Any) -> Iterator[dict]:
        yield from self._records


class FloorTap(Tap):
    name = "tap-sdk-floor"
    message_writer_class = MsgSpecWriter
    config_jsonschema: t.ClassVar[dict] = {"type": "object", "properties": {}}

    def __init__(self, stream: str, schema: dict, records: Iterable[dict]) -> None:
        self._floor = (stream, schema, records)
        super().__init__(config={}, setup_mapper=True)

    @override
    def discover_streams(self) -> list[Stream]:
        return [FloorStream(self, *self._floor)]


def counted(records: Iterable[dict], tally: list[int]) -> Iterator[dict]:
    for record in records:
        tally[0] += 1
        yield record


def main() -> None:
    kind, *args = sys.argv[1:]
    if kind == "answers":
        shape, recording, url = args
        stream = json.loads((Path(recording) / "stream.json").read_text())
        schema = json.loads((Path(recording) / "schema.json").read_text())
        records: Iterable[dict] = floor.rows("F1", shape, recording, url)
    else:
        url, bucket, folder, stream, schema_path = args
        schema = json.loads(Path(schema_path).read_text())
        records = (orjson.loads(line) for line in export_floor.rows(url, bucket, folder))
    tally = [0]
    tap = FloorTap(stream, schema, counted(records, tally))
    started = time.perf_counter()
    tap.sync_all()
    sys.stdout.flush()
    print(tally[0], time.perf_counter() - started, file=sys.stderr)


if __name__ == "__main__":
    main()
