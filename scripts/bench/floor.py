"""The floors: the least a tap could do with the same answers, as a whole process.

`python -m bench.floor F0|F1 SHAPE RECORDING URL` asks the replay server for every recorded
request in order (requests, one session), decodes each record answer with orjson and writes one
Singer RECORD line per row to stdout (orjson.dumps, a buffered stdout).

- F0: the rows as the vendor sends them, nothing converted.
- F1: F0 plus converting the fields the tap types: a vendor field whose column (snake_case of its
  name, as the tap names it) is an integer, number or boolean column and arrives as text is
  converted with int()/float()/a comparison, a date-time column is parsed and written as ISO 8601 in
  UTC. The columns come from the stream's schema in the tap's own catalog (`schema.json`).

Only the standard library, requests and orjson: what a plain script would import.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import requests

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z\d])([A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def snake_case(name: str) -> str:
    name = _CAMEL.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", name))
    return _NON_WORD.sub("_", name).strip("_").lower()


def _zip_jsonl(body: bytes) -> list:
    """A zip of JSON Lines files."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return [
            orjson.loads(line)
            for name in archive.namelist()
            if name.endswith(".jsonl")
            for line in archive.read(name).splitlines()
            if line
        ]


def _message_consents(body: bytes) -> list:
    """One row per consent entry (`c`) of each element's JSON `message`."""
    rows: list = []
    for element in orjson.loads(body):
        message = element.get("message")
        if isinstance(message, str) and message.startswith("{"):
            with contextlib.suppress(orjson.JSONDecodeError):  # not JSON: the tap keeps it, with no consents
                rows.extend(orjson.loads(message).get("c") or [])
    return rows


def _fields_rows(body: bytes) -> list:
    """`fields` names the columns of each of `rows`."""
    document = orjson.loads(body)
    fields = document["fields"]
    return [dict(zip(fields, row, strict=False)) for row in document["rows"]]


#: the record shapes of the vendor profiles' `Benchmark.record_shape`: the rows of one record answer, plainly
SHAPES: dict[str, Callable[[bytes], list]] = {
    "data": lambda body: orjson.loads(body)["data"],
    "zip-jsonl": _zip_jsonl,
    "message-consents": _message_consents,
    "fields-rows": _fields_rows,
}


def _datetime(value: object) -> object:
    if not isinstance(value, str):
        return value
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat()


def _boolean(value: object) -> object:
    return value in ("1", "true", 1) if isinstance(value, str | int) and not isinstance(value, bool) else value


def _integer(value: object) -> object:
    return int(value) if type(value) is str else value


def _number(value: object) -> object:
    return float(value) if type(value) is str else value


def converters(schema: dict) -> dict[str, object]:
    """Column -> converter for the columns the tap types."""
    out: dict[str, object] = {}
    for column, prop in schema.get("properties", {}).items():
        kinds = prop.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else [kind for kind in kinds if kind != "null"]
        if len(kinds) != 1:
            continue
        if kinds[0] == "string" and prop.get("format") == "date-time":
            out[column] = _datetime
        elif kinds[0] in ("integer", "number", "boolean"):
            out[column] = {"integer": _integer, "number": _number, "boolean": _boolean}[kinds[0]]
    return out


def rows(mode: str, shape: str, recording: str, url: str) -> Iterator[dict]:
    """Every row of the recorded record answers, asked of the replay server in the recorded order (F1's converted)."""
    rows_of = SHAPES[shape]
    directory = Path(recording)
    entries = json.loads((directory / "index.json").read_text())
    pages = set(json.loads((directory / "pages.json").read_text()))
    typed = converters(json.loads((directory / "schema.json").read_text())) if mode == "F1" else {}
    by_field: dict[str, object] = {}
    session = requests.Session()
    for number, entry in enumerate(entries):
        answer = session.request(entry["method"], url + entry["target"], data=entry["sent"].encode("latin-1") or None)
        body = answer.content
        if number not in pages:
            continue
        for row in rows_of(body):
            if typed:
                for field, value in row.items():
                    convert = by_field.get(field, False)
                    if convert is False:
                        convert = by_field[field] = typed.get(snake_case(field))
                    if convert is not None and value is not None:
                        with contextlib.suppress(ValueError):  # kept as sent, as the tap keeps it (in _extra)
                            row[field] = convert(value)  # type: ignore[operator]
            yield row


def main() -> None:
    mode, shape, recording, url = sys.argv[1:5]
    stream = json.loads((Path(recording) / "stream.json").read_text())
    started = time.perf_counter()
    out = sys.stdout.buffer
    count = 0
    for row in rows(mode, shape, recording, url):
        out.write(orjson.dumps({"type": "RECORD", "stream": stream, "record": row}) + b"\n")
        count += 1
    out.flush()
    print(count, time.perf_counter() - started, file=sys.stderr)  # records, seconds of the loop (its sync)


if __name__ == "__main__":
    main()
