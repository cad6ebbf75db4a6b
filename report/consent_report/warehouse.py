"""Read the marts from the warehouse the main job built: DuckDB (a file) or PostgreSQL (a URI).

Values come back as plain Python: whole numbers as int, other numbers as float, days as date.
"""

from __future__ import annotations

import decimal
import os
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

MART_SCHEMA = "analytics"


def _plain(value: t.Any) -> t.Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass
class Warehouse:
    kind: str  # "duckdb" or "postgres"
    location: str  # the DuckDB file, or the PostgreSQL URI (never printed: it may hold a password)
    _connection: t.Any = field(default=None, repr=False)
    _tables: dict[str, list[str]] | None = field(default=None, repr=False)

    def describe(self) -> str:
        if self.kind == "postgres":
            return "PostgreSQL"
        path = Path(self.location).resolve()
        return f"DuckDB {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"

    def _connect(self) -> t.Any:
        """One connection for the whole report (opening one per query costs more than the queries)."""
        if self._connection is None:
            if self.kind == "duckdb":
                import duckdb

                self._connection = duckdb.connect(self.location, read_only=True)
            else:
                import psycopg

                self._connection = psycopg.connect(self.location, autocommit=True)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def rows(self, sql: str) -> list[dict[str, t.Any]]:
        cursor = self._connect().execute(sql)
        names = [column[0] for column in cursor.description or []]
        return [dict(zip(names, map(_plain, row), strict=True)) for row in cursor.fetchall()]

    def tables(self) -> dict[str, list[str]]:
        """Schema -> its tables, for every schema in the warehouse."""
        if self._tables is not None:
            return self._tables
        found: dict[str, list[str]] = {}
        for row in self.rows(
            "select table_schema, table_name from information_schema.tables order by table_schema, table_name"
        ):
            found.setdefault(row["table_schema"], []).append(row["table_name"])
        self._tables = found
        return found

    def mart(self, name: str) -> list[dict[str, t.Any]]:
        """Every row of a mart; no rows when the mart is not built yet."""
        if name not in self.tables().get(MART_SCHEMA, []):
            return []
        return self.rows(f'select * from {MART_SCHEMA}."{name}"')

    def count(self, schema: str, table: str) -> int:
        return self.rows(f'select count(*) as n from "{schema}"."{table}"')[0]["n"]


def postgres_uri_from_env(environ: t.Mapping[str, str] = os.environ) -> str | None:
    """The dbt-postgres settings (DBT_POSTGRES_HOST, _PORT, _USER, _PASSWORD, _DBNAME) as a libpq URI."""
    if "DBT_POSTGRES_DBNAME" not in environ:
        return None
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=environ.get("DBT_POSTGRES_HOST", "localhost"),
        port=environ.get("DBT_POSTGRES_PORT", "5432"),
        user=environ.get("DBT_POSTGRES_USER", "postgres"),
        password=environ.get("DBT_POSTGRES_PASSWORD") or None,
        dbname=environ["DBT_POSTGRES_DBNAME"],
    )


def open_warehouse(duckdb_path: Path | None, postgres: str | None) -> Warehouse:
    if postgres:
        return Warehouse("postgres", postgres)
    assert duckdb_path is not None
    if not duckdb_path.exists():
        raise FileNotFoundError(f"no warehouse at {duckdb_path}: run ./scripts/main-job first")
    return Warehouse("duckdb", str(duckdb_path))
