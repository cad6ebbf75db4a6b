from __future__ import annotations

import pytest

from tests.pipelines.meltano_project import MeltanoRun, install_plugins, install_transformers


@pytest.fixture(scope="session")
def meltano_plugins():
    install_plugins()


@pytest.fixture(scope="session")
def dbt_plugins(meltano_plugins):  # noqa: ARG001 - the plugins (and their venvs) are installed first
    """dbt-duckdb and dbt-postgres, each in its own virtualenv, built once per session."""
    install_transformers()


@pytest.fixture
def meltano(meltano_plugins, sandbox, tmp_path) -> MeltanoRun:  # noqa: ARG001 - a run needs the plugins installed
    return MeltanoRun(workdir=tmp_path, sandbox_url=sandbox.base_url, extra_env={})


@pytest.fixture(scope="session")
def s3():
    """A local S3 (moto's server) for Meltano's state backend; each test uses its own prefix."""
    from tests.support.s3 import S3Emulator

    emulator = S3Emulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def snowflake_loader():
    """The TEST-ONLY target-snowflake--fakesnow loader, installed into the project once per test run."""
    from tests.pipelines.meltano_project import install_loader

    install_loader("target-snowflake--fakesnow")
