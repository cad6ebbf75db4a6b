"""Credentials the vendor sends (the simulators' variants: Lytics' account keys, fields
named like keys and tokens on consentmanager's rows, some nested) never land: `meltano run` into
DuckDB and PostgreSQL loads exactly the ground truth's rows, and the sentinel value is in no table,
no log line, no `meltano state get` and not in the system database; the log names each dropped field."""

from __future__ import annotations

import re
import subprocess

import duckdb
import psycopg
import pytest
from sandbox.core import VENDOR_CREDENTIAL

#: the simulator variant that puts credentials in the vendor's answers
VARIANT = {"lytics": "account-credentials", "consentmanager": "credentials"}


def credential_values(sandbox, vendor: str) -> list[str]:
    """The sentinel values those credentials hold."""
    return sandbox.app("lytics").credential_values() if vendor == "lytics" else [VENDOR_CREDENTIAL]

from tests.pipelines.meltano_project import MELTANO, ROOT, MeltanoRun, install_plugins
from tests.pipelines.postgres import Postgres
from tests.pipelines.test_meltano_pipelines import expected_rows
from tests.reliability.taps import TAPS

pytestmark = pytest.mark.xdist_group("meltano-project")  # one Meltano project: its runs go one at a time

#: vendor -> the vendor fields its "credentials" variant adds (each must be named in a warning)
DROPPED = {
    # the account keys: tap-lytics drops them itself before the kit's rule sees them (its own warning)
    "lytics": [],
    "consentmanager": ["api_key", "integration.accessToken"],
}


#: the taps' own warnings for credentials they drop before the kit's rule
ALSO_NAMED = {"lytics": "accounts: dropped credential field(s) apikey, dataapikey from the account records"}


@pytest.fixture(scope="module")
def meltano_plugins():
    install_plugins()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    server = Postgres(tmp_path_factory.mktemp("postgres") / "pgdata")
    yield server
    server.server.cleanup()


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
            "select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')"
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


@pytest.mark.parametrize("target", ["target-duckdb", "target-postgres"])
@pytest.mark.parametrize("vendor", list(DROPPED))
@pytest.mark.parametrize("scenario", ["vendor credentials"])
def test_credentials_from_the_vendor_land_nowhere(meltano_plugins, postgres, sandbox, tmp_path, vendor, target, scenario):
    profile = TAPS[vendor]
    sandbox.set_variants(vendor, VARIANT[vendor])
    sentinels = credential_values(sandbox, vendor)
    meltano = MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env={})
    if target == "target-postgres":
        database = postgres.create_database()
        meltano.extra_env["TARGET_POSTGRES_SQLALCHEMY_URL"] = postgres.sqlalchemy_url(database)

    run = meltano.run(profile.name, target)
    assert run.returncode == 0, run.stderr[-3000:]
    log = (tmp_path / "meltano.log").read_text()
    # The fields really came, and each is named once per stream that had it.
    named = re.findall(r"Credential dropped in stream '([^']+)': vendor field '([^']+)' is named like a credential", log)
    assert len(named) == len(set(named)), named
    assert {field for _, field in named} == set(DROPPED[vendor])
    assert log.count(ALSO_NAMED.get(vendor, "")) >= 1

    if target == "target-duckdb":
        counts, tables = duckdb_tables_text(meltano.duckdb_path)
    else:
        counts, tables = postgres_tables_text(postgres, database)
    assert counts == expected_rows(sandbox, profile.name)  # nothing else was lost
    state = subprocess.run(
        [MELTANO, "state", "get", f"sandbox:{profile.name}-to-{target}"],
        cwd=ROOT,
        env=meltano.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert state.returncode == 0 and '"bookmarks"' in state.stdout, state.stderr[-2000:]
    system_db = (tmp_path / "meltano.db").read_bytes().decode("utf-8", "replace")
    for where, text in {"a table": tables, "the log": log, "the state": state.stdout + state.stderr, "meltano.db": system_db}.items():
        assert not any(value in text for value in sentinels), f"a vendor credential landed in {where}"
