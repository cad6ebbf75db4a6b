"""target-duckdb with Singer ACTIVATE_VERSION (see README.md): delete rows of older versions once a
stream has announced its version a second time, after its last record."""

from __future__ import annotations

import argparse
import copy
import io
import json
import sys
import typing as t
from pathlib import Path

from target_duckdb import duckdb_connect, persist_lines
from target_duckdb.db_sync import DbSync
from target_duckdb.logger import get_logger

VERSION_COLUMN = "_sdc_table_version"
LOGGER = get_logger("target_duckdb_versions")


class Versions:
    """What the message stream said about versions, per stream."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict] = {}  # stream -> its last SCHEMA message
        self.announced: dict[str, int] = {}  # stream -> version announced before its records
        self.complete: set[str] = set()  # streams whose version was announced again after them

    def messages(self, lines: t.Iterable[str]) -> t.Iterator[str]:
        """The lines for target-duckdb: records of versioned streams carry their version as a column."""
        for line in lines:
            # Only three kinds of line concern versions; the others pass unparsed (the loader's hot path).
            if '"version"' not in line and '"SCHEMA"' not in line:
                yield line
                continue
            message = json.loads(line)
            kind, stream = message.get("type"), message.get("stream")
            if kind == "RECORD" and stream in self.announced and message.get("version") is not None:
                message["record"][VERSION_COLUMN] = message["version"]
                yield json.dumps(message) + "\n"
            elif kind == "SCHEMA":
                self.schemas[stream] = copy.deepcopy(message)
                yield json.dumps(self.with_version_column(message)) + "\n" if stream in self.announced else line
            elif kind == "ACTIVATE_VERSION":
                version = int(message["version"])
                if self.announced.get(stream) == version:
                    self.complete.add(stream)
                elif stream in self.schemas:
                    self.announced[stream] = version
                    self.complete.discard(stream)
                    # re-sent schema: target-duckdb adds the column before the first versioned record
                    yield json.dumps(self.with_version_column(copy.deepcopy(self.schemas[stream]))) + "\n"
                yield line
            else:
                yield line

    @staticmethod
    def with_version_column(schema_message: dict) -> dict:
        schema_message["schema"].setdefault("properties", {})[VERSION_COLUMN] = {"type": ["null", "integer"]}
        return schema_message

    def delete_older_rows(self, connection: t.Any, config: dict) -> None:
        for stream in sorted(self.complete):
            table = DbSync(
                connection, config, self.with_version_column(copy.deepcopy(self.schemas[stream]))
            ).table_name(stream)
            version = self.announced[stream]
            deleted = connection.execute(
                f"DELETE FROM {table} WHERE {VERSION_COLUMN} IS NULL OR {VERSION_COLUMN} < ? RETURNING 1", [version]
            ).fetchall()
            LOGGER.info(
                "%s: version %s is complete; deleted %d rows of older versions from %s",
                stream,
                version,
                len(deleted),
                table,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-c", "--config", help="Config file")
    args = parser.parse_args()
    config: dict = {}
    if args.config:
        with open(args.config) as config_file:
            config = json.load(config_file)
    versions = Versions()
    if config.get("filepath"):  # target-duckdb makes the file, not its folder (output/ on a fresh clone)
        Path(config["filepath"]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb_connect(config)
    persist_lines(connection, config, versions.messages(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")))
    versions.delete_older_rows(connection, config)
    connection.close()
