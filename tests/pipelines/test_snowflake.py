"""`meltano run <tap> target-snowflake` against fakesnow, a local Snowflake emulator.

The loader is the project's target-snowflake (meltanolabs-target-snowflake, same version) inherited as the
TEST-ONLY `target-snowflake--fakesnow` (plugins/test-only.meltano.yml): its executable runs
target-snowflake's own CLI with every connection sent to fakesnow, bridging the statements fakesnow 0.12.1
cannot take (REMOVE becomes a no-op; the rest are listed in
tests/pipelines/fakesnow_target/target_snowflake_fakesnow.py). Meltano builds its virtual environment once
(fakesnow and the target pin duckdb 2.x and a singer-sdk beta, apart from the project's environment).
Row counts are read from fakesnow's DuckDB file with that environment's duckdb.

For each tap: the first run loads exactly the ground truth's rows per table; the second, incremental
run (from the state Meltano kept) adds no duplicates.

dbt: the project's `dbt-snowflake` transformer (dbt-snowflake unpatched, in its own virtualenv) builds
every model and runs every dbt test against fakesnow's server mode (`fakesnow-server`: Snowflake's
HTTP protocol on 127.0.0.1, over the databases the loader wrote); the marts equal the ground truth.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import subprocess
import typing as t
from collections.abc import Iterator

import pytest

from tests.pipelines.meltano_project import ROOT, install_loader
from tests.pipelines.test_dbt_marts import SELECT, assert_marts
from tests.pipelines.test_meltano_pipelines import expected_rows

LOADER = "target-snowflake--fakesnow"
LOADER_BIN = ROOT / ".meltano" / "loaders" / LOADER / "venv" / "bin"
TAPS = ["tap-gravito", "tap-consentmanager", "tap-lytics"]

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]


def snowflake_counts(db_dir, schema: str) -> dict[str, int]:
    shown = subprocess.run(
        [str(LOADER_BIN / "fakesnow-row-counts"), str(db_dir / "RAW.db"), schema.upper()],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {table.lower(): count for table, count in json.loads(shown.stdout).items()}


@pytest.mark.usefixtures("snowflake_loader")
@pytest.mark.parametrize("tap", TAPS)
def test_snowflake_exact_rows_and_no_duplicates_on_incremental_rerun(tap, meltano, sandbox, tmp_path):
    db_dir = tmp_path / "fakesnow"
    db_dir.mkdir()
    meltano.extra_env["FAKESNOW_DB_PATH"] = str(db_dir)
    schema = tap.replace("-", "_")
    vendor = tap.removeprefix("tap-")

    first = meltano.run(tap, LOADER)
    assert first.returncode == 0, first.stderr[-3000:]
    expected = expected_rows(sandbox, tap)
    assert all(count > 0 for count in expected.values()), expected
    assert snowflake_counts(db_dir, schema) == expected
    requests_first = sandbox.count(vendor)

    second = meltano.run(tap, LOADER)
    assert second.returncode == 0, second.stderr[-3000:]
    assert snowflake_counts(db_dir, schema) == expected_rows(sandbox, tap, runs=2)
    assert 0 < sandbox.count(vendor) - requests_first <= requests_first


def query_fakesnow(db_dir, sql: str) -> list[tuple]:
    shown = subprocess.run(
        [str(LOADER_BIN / "fakesnow-query"), str(db_dir / "RAW.db"), sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [tuple(typed(value) for value in row) for row in json.loads(shown.stdout)]


def typed(value):
    """fakesnow-query's tagged JSON back to Python values."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        parsers: dict[str, t.Callable[[str], object]] = {
            "datetime": dt.datetime.fromisoformat,
            "date": dt.date.fromisoformat,
            "decimal": decimal.Decimal,
        }
        return parsers[tag](text)
    return value


@contextlib.contextmanager
def fakesnow_server(db_dir) -> Iterator[int]:
    """fakesnow's server mode over the databases in db_dir, its port; stopped (files closed) on exit."""
    server = subprocess.Popen(
        [str(LOADER_BIN / "fakesnow-server"), str(db_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        yield int(server.stdout.readline())
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.usefixtures("snowflake_loader")
def test_dbt_snowflake_builds_the_marts_on_fakesnow_server(meltano, sandbox, tmp_path):
    install_loader("dbt-snowflake")  # any plugin: dbt-core 1.11 with dbt-snowflake, its own virtualenv
    db_dir = tmp_path / "fakesnow"
    db_dir.mkdir()
    meltano.extra_env["FAKESNOW_DB_PATH"] = str(db_dir)
    for tap, streams in SELECT.items():
        meltano.extra_env[f"{tap.upper().replace('-', '_')}__SELECT"] = json.dumps(
            [f"{stream}.*" for stream in streams]
        )
    started = dt.datetime.now(dt.UTC)
    loaded = meltano.run(*[block for tap in SELECT for block in (tap, LOADER)])
    assert loaded.returncode == 0, loaded.stderr[-3000:]

    # The loader has closed the DuckDB files: now the server opens them, for dbt in its own process.
    with fakesnow_server(db_dir) as port:
        meltano.extra_env.update(
            {
                "DBT_SNOWFLAKE_ACCOUNT": "fakesnow",
                "DBT_SNOWFLAKE_USER": "fakesnow",
                "DBT_SNOWFLAKE_PASSWORD": "fakesnow",
                "DBT_SNOWFLAKE_WAREHOUSE": "FAKESNOW",
                "DBT_SNOWFLAKE_DATABASE": "RAW",
                "DBT_SNOWFLAKE_HOST": "127.0.0.1",
                "DBT_SNOWFLAKE_PORT": str(port),
                "DBT_SNOWFLAKE_PROTOCOL": "http",
            }
        )
        # Every model and every data test; the unit tests apart (fakesnow cannot run them, see below).
        meltano.extra_env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
        built = meltano.run("dbt-snowflake:build")
        del meltano.extra_env["DBT_EXCLUDE_RESOURCE_TYPES"]
        unit_tests = meltano.command(
            "invoke", "dbt-snowflake", "test", "--target", "snowflake", "--select", "test_type:unit", locked=True
        )
    assert built.returncode == 0, (built.stdout + built.stderr)[-6000:]
    assert "Completed successfully" in built.stdout + built.stderr  # every model built, every data test passed
    assert " SKIP=0 " in built.stdout + built.stderr

    # The emulator's limit, shown: dbt-snowflake runs a unit test through `create or replace temporary
    # table RAW.analytics.<unit test>__dbt_tmp as (...)`, and fakesnow 0.12.1 hands that name, with its
    # database, to DuckDB, which keeps temporary tables only in its own "temp" catalog. On Snowflake
    # the statement is valid. When this starts passing, drop DBT_EXCLUDE_RESOURCE_TYPES above.
    output = unit_tests.stdout + unit_tests.stderr
    failed = output.count("Failure in unit_test ")
    assert unit_tests.returncode != 0 and failed > 0, output[-4000:]
    assert output.count('TEMPORARY table names can *only* use the "temp" catalog') == failed, output[-4000:]
    assert " PASS=0 " in output

    assert_marts(lambda sql: query_fakesnow(db_dir, sql), sandbox, started)
