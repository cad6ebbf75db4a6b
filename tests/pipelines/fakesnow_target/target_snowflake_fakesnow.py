"""TEST-ONLY shim: the unchanged target-snowflake (meltanolabs-target-snowflake 0.20.4) against fakesnow 0.12.1.

target-snowflake loads a stream in four statements that fakesnow 0.12.1 cannot take as sent, and a MERGE
on a table with a column named MERGE_OP is a fifth case (measured; each bridge below is the smallest that
makes the emulator do what Snowflake does):

1. `put <file> '@~/target-snowflake/<sync id>'`: fakesnow has no user stage `@~`, and rejects a quoted
   stage name ("does not start with @"). Bridge: `'@~/…'` becomes the named internal stage
   `@PUBLIC.TARGET_SNOWFLAKE_USER_STAGE/…`, created on connect (each connection starts in PUBLIC,
   because fakesnow needs a current schema to resolve a stage and the target names none).
2. `merge into <table> d using (select $1:<col>::<type> … from '@~/…' (file_format => …) qualify …) s …`:
   fakesnow reads staged files only in COPY INTO, and its MERGE re-parses the source without the
   Snowflake dialect. Bridge: the staged JSON files are read with DuckDB's `read_json_objects`
   (`$1` becomes that row's VARIANT, `SEQ8()` its file order), materialised into a table, and the
   target's MERGE runs from that table, unchanged otherwise.
3. `remove '@~/target-snowflake/<sync id>/'`: fakesnow cannot parse REMOVE (the failure first seen
   here). Bridge: fakesnow's own `nop_regexes` setting makes REMOVE a no-op; the staged files stay
   in fakesnow's temporary bucket directory.
4. `drop file format if exists …`: not implemented in fakesnow; a no-op the same way.

5. `merge into SCHEMA_FIELDS d using (…) s on … when matched then update set d.MERGE_OP = s.MERGE_OP …`
   (tap-lytics' `schema_fields` has a column `merge_op`): fakesnow emulates MERGE with a helper table
   whose own clause column is also named MERGE_OP (`… END AS MERGE_OP … WHERE MERGE_OP IS NOT NULL`,
   fakesnow/transforms/merge.py), so DuckDB fails with "Ambiguous reference to column name MERGE_OP".
   Bridge: fakesnow's merge module is re-executed with its helper column renamed to a name no table
   uses (`_rename_merge_helper_column`); Snowflake itself has no such column.

fakesnow keeps one DuckDB database; the target drains streams on several threads, and fakesnow's
MERGE uses one shared helper table (`merge_candidates`), so statements run one at a time.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import sys
import threading
import uuid

import fakesnow
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.instance import FakeSnow
from fakesnow.transforms import stage

USER_STAGE_SCHEMA = "PUBLIC"
USER_STAGE = f"{USER_STAGE_SCHEMA}.TARGET_SNOWFLAKE_USER_STAGE"
NO_OPS = [r"^\s*REMOVE\s+@", r"^\s*DROP\s+FILE\s+FORMAT\s"]

_STAGED_SELECT = re.compile(r"from '@~/(?P<path>[^']+)'\s*\(file_format => [^)]+\)", re.IGNORECASE)
_QUOTED_USER_STAGE = re.compile(r"'@~/([^']*)'")
_MERGE_FROM_SELECT = re.compile(
    r"^merge into (?P<table>.+?) d using \((?P<select>select .+?)\) s (?P<rest>on .+)$", re.IGNORECASE | re.DOTALL
)
MERGE_HELPER_COLUMN = "FAKESNOW_MERGE_CLAUSE"
_fakesnow_execute = FakeSnowflakeCursor.execute
_fakesnow_connect = FakeSnow.connect
_one_at_a_time = threading.Lock()


def _execute(cursor: FakeSnowflakeCursor, command: str, *args, **kwargs):
    with _one_at_a_time:
        return _bridged_execute(cursor, command, *args, **kwargs)


def _bridged_execute(cursor: FakeSnowflakeCursor, command: str, *args, **kwargs):
    if _STAGED_SELECT.search(command):
        database = (cursor._conn.database or "").upper()

        def staged_rows(match: re.Match) -> str:
            directory = stage.internal_dir(f"{database}.{USER_STAGE}", match["path"]).rstrip("/")
            rows = f"select parse_json(json) as V, row_number() over () as SEQ from read_json_objects('{directory}/*')"
            return f"from ({rows})"

        command = _STAGED_SELECT.sub(staged_rows, command).replace("$1:", "V:").replace("SEQ8()", "SEQ")
    command = _QUOTED_USER_STAGE.sub(rf"@{USER_STAGE}/\1", command)

    merge = _MERGE_FROM_SELECT.match(command)
    if merge and "read_json_objects" in merge["select"]:
        source = f"{USER_STAGE_SCHEMA}.MERGE_SOURCE_{uuid.uuid4().hex[:12]}"
        _fakesnow_execute(cursor, f"create table {source} as {merge['select']}")
        try:
            return _fakesnow_execute(
                cursor, f"merge into {merge['table']} d using {source} s {merge['rest']}", *args, **kwargs
            )
        finally:
            _fakesnow_execute(cursor._conn.cursor(), f"drop table {source}")
    return _fakesnow_execute(cursor, command, *args, **kwargs)


def _rename_merge_helper_column() -> None:
    """fakesnow's MERGE helper column `merge_op`, renamed in its own module (every use, in every function)."""
    module = importlib.import_module("fakesnow.transforms.merge")  # the package's `merge` is the function
    source = inspect.getsource(module)
    renamed = re.sub(r"\bmerge_op\b", MERGE_HELPER_COLUMN, source, flags=re.IGNORECASE)
    if renamed == source:
        raise RuntimeError("fakesnow's MERGE emulation no longer names a merge_op column: revisit bridge 5")
    exec(compile(renamed, module.__file__, "exec"), module.__dict__)


def _connect(instance: FakeSnow, database: str | None = None, schema: str | None = None, **kwargs):
    conn = _fakesnow_connect(instance, database, schema or USER_STAGE_SCHEMA, **kwargs)
    conn.cursor().execute(f"create stage if not exists {USER_STAGE}")
    return conn


def main() -> None:
    """target-snowflake's own CLI, with every Snowflake connection going to fakesnow in $FAKESNOW_DB_PATH."""
    db_path = os.environ.get("FAKESNOW_DB_PATH")
    if not db_path:
        sys.exit("target-snowflake--fakesnow: set FAKESNOW_DB_PATH to the directory of the emulator's databases")
    FakeSnowflakeCursor.execute = _execute
    FakeSnow.connect = _connect
    _rename_merge_helper_column()
    with fakesnow.patch(db_path=db_path, nop_regexes=NO_OPS):
        from target_snowflake.target import TargetSnowflake

        TargetSnowflake.cli()


def print_row_counts() -> None:
    """`fakesnow-row-counts DB_FILE SCHEMA`: {table: rows} as JSON, read straight from fakesnow's DuckDB file."""
    import duckdb

    db_file, schema = sys.argv[1], sys.argv[2]
    with duckdb.connect(db_file, read_only=True) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
        ).fetchall()
        counts = {name: conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0] for (name,) in tables}
    print(json.dumps(counts))


def serve() -> None:
    """`fakesnow-server DB_DIR`: fakesnow's Snowflake HTTP endpoint (server mode) over the databases in DB_DIR.

    Prints its port, then serves until SIGTERM. Clients in other processes (dbt-snowflake) connect with
    host 127.0.0.1, that port and protocol http, unpatched; every session shares DB_DIR's databases.
    """
    import signal

    start_server = fakesnow.server  # the function: importing the module below rebinds the name
    server_module = importlib.import_module("fakesnow.server")
    server_module.shared_fs = FakeSnow(db_path=sys.argv[1])  # type: ignore[attr-defined]  # fakesnow.server's global
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with start_server() as connection:
        print(connection["port"], flush=True)
        stopped.wait()


def _typed(value: object) -> object:
    """A value as JSON that keeps its type: datetimes, dates and decimals are tagged."""
    import datetime as dt
    import decimal

    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    return value


def print_query() -> None:
    """`fakesnow-query DB_FILE SQL`: the rows of one query on fakesnow's DuckDB file, as JSON (types tagged)."""
    import duckdb

    db_file, sql = sys.argv[1], sys.argv[2]
    with duckdb.connect(db_file, read_only=True) as conn:
        rows = conn.execute(sql).fetchall()
    print(json.dumps([[_typed(value) for value in row] for row in rows]))
