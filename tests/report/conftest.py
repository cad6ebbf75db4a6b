"""The warehouses the report is built from: the pipeline's taps, then `dbt build`, once per module, on DuckDB
and on the real PostgreSQL (the same `meltano run` as tests/pipelines/test_dbt_marts.py), with the taps logging
their level (report/tap-logging.yml) as the main job does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pipelines.meltano_project import ROOT, MeltanoRun, install_plugins, install_transformers
from tests.pipelines.test_dbt_marts import SELECT, load_and_build
from tests.support.live import sandbox as live_sandbox

#: the report's site column needs the delivery domains besides what the marts tests load
REPORT_SELECT = {**SELECT, "tap-consentmanager": [*SELECT["tap-consentmanager"], "delivery_domains"]}
SCREENSHOTS = ROOT / "output" / "test-report"


@dataclass
class Built:
    """A loaded warehouse and what the report reads besides it."""

    args: list[str]  # consent-report's warehouse arguments
    meltano_db: Path
    log: Path
    uri: str | None = None  # PostgreSQL


def build_warehouse(workdir: Path, target: str, transformer: str, env: dict) -> MeltanoRun:
    install_plugins()
    install_transformers()
    box = live_sandbox()
    box.reset()
    meltano = MeltanoRun(
        workdir=workdir,
        sandbox_url=box.base_url,
        extra_env={"SINGER_SDK_LOG_CONFIG": str(ROOT / "report" / "tap-logging.yml"), **env},
    )
    load_and_build(meltano, target, transformer, REPORT_SELECT)
    return meltano


@pytest.fixture(scope="module")
def duckdb_warehouse(tmp_path_factory) -> Built:
    workdir = tmp_path_factory.mktemp("report-duckdb")
    meltano = build_warehouse(
        workdir, "target-duckdb", "dbt-duckdb", {"DBT_DUCKDB_PATH": str(workdir / "warehouse.duckdb")}
    )
    return Built(["--duckdb", str(meltano.duckdb_path)], workdir / "meltano.db", workdir / "meltano.log")


@pytest.fixture(scope="module")
def postgres_warehouse(tmp_path_factory, postgres) -> Built:
    database = postgres.create_database()
    workdir = tmp_path_factory.mktemp("report-pg-run")
    env = {"TARGET_POSTGRES_SQLALCHEMY_URL": postgres.sqlalchemy_url(database), **postgres.dbt_env(database)}
    build_warehouse(workdir, "target-postgres", "dbt-postgres", env)
    return Built(
        ["--postgres", postgres.uri(database)], workdir / "meltano.db", workdir / "meltano.log", postgres.uri(database)
    )
