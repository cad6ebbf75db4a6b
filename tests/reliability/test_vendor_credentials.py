"""Credentials the vendor sends (the simulators' variants: Lytics' account keys, fields
named like keys and tokens on consentmanager's rows, some nested) never land: `meltano run` into
DuckDB and PostgreSQL loads exactly the ground truth's rows, and the sentinel value is in no table,
no log line, no `meltano state get` and not in the system database; the log names each dropped field."""

from __future__ import annotations

import re

import duckdb
import psycopg
import pytest

from tests.pipelines.meltano_project import MeltanoRun, install_plugins
from tests.pipelines.postgres import Postgres
from tests.pipelines.test_meltano_pipelines import expected_rows
from tests.reliability.runner import meltano_traces
from tests.reliability.taps import TAPS

pytestmark = pytest.mark.xdist_group("meltano-project")  # one Meltano project: its runs go one at a time

#: the taps whose simulator has a variant that puts credentials in the vendor's answers (their profiles say which)
CREDENTIALS = {vendor: profile.credentials for vendor, profile in TAPS.items() if profile.credentials}
CREDENTIAL_DROPPED = re.compile(
    r"Credential dropped in stream '([^']+)': vendor field '([^']+)' is named like a credential"
)


@pytest.fixture(scope="module")
def meltano_plugins():
    install_plugins()


def duckdb_tables_text(path) -> tuple[dict[str, int], str]:
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables").fetchall()
        counts, text = {}, []
        for schema, table in tables:
            rows = conn.execute(f'select * from "{schema}"."{table}"').fetchall()
            columns = [column[0] for column in conn.description]
            counts[table] = len(rows)
            text.append(f"{table}: {columns} {rows}")
        return counts, "\n".join(text)


def postgres_tables_text(server: Postgres, database: str) -> tuple[dict[str, int], str]:
    with psycopg.connect(server.uri(database)) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema')"
        ).fetchall()
        counts, text = {}, []
        for schema, table in tables:
            rows = conn.execute(f'select t::text from "{schema}"."{table}" t').fetchall()
            columns = [row[0] for row in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                (schema, table),
            ).fetchall()]  # fmt: skip
            counts[table] = len(rows)
            text.append(f"{table}: {columns} {rows}")
        return counts, "\n".join(text)


@pytest.mark.usefixtures("meltano_plugins")
@pytest.mark.parametrize("target", ["target-duckdb", "target-postgres"])
@pytest.mark.parametrize("vendor", list(CREDENTIALS))
@pytest.mark.parametrize("scenario", ["vendor credentials"])
def test_credentials_from_the_vendor_land_nowhere(postgres, sandbox, tmp_path, vendor, target, scenario):
    profile, credentials = TAPS[vendor], CREDENTIALS[vendor]
    sandbox.set_variants(vendor, credentials.variant)
    sentinels = credentials.values(sandbox)
    meltano = MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env={})
    if target == "target-postgres":
        database = postgres.create_database()
        meltano.extra_env["TARGET_POSTGRES_SQLALCHEMY_URL"] = postgres.sqlalchemy_url(database)

    run = meltano.run(profile.name, target)
    assert run.returncode == 0, run.stderr[-3000:]
    log = (tmp_path / "meltano.log").read_text()
    # The fields really came, and each is named once per stream that had it.
    named = CREDENTIAL_DROPPED.findall(log)
    assert len(named) == len(set(named)), named
    assert {field for _, field in named} == set(credentials.dropped)
    assert log.count(credentials.also_named) >= 1

    if target == "target-duckdb":
        counts, tables = duckdb_tables_text(meltano.duckdb_path)
    else:
        counts, tables = postgres_tables_text(postgres, database)
    assert counts == expected_rows(sandbox, profile.name)  # nothing else was lost
    for where, text in {"a table": tables, **meltano_traces(meltano, f"sandbox:{profile.name}-to-{target}")}.items():
        assert not any(value in text for value in sentinels), f"a vendor credential landed in {where}"
