"""Helpers for the tap-voyado tests: a config builder and a sandbox clock that tests can advance."""

from __future__ import annotations

import datetime as dt

import pytest

API_KEY = "voyado-secret-key-9f83"


@pytest.fixture
def voyado_config(sandbox, tmp_path):
    def build(keys: list[str], **settings) -> dict:
        return {
            "api_key": API_KEY,
            "api_url": sandbox.url("voyado"),
            "customer_keys": keys,
            "download_dir": str(tmp_path / "downloads"),
            "retry_backoff_seconds": 0.01,
            **settings,
        }

    return build


@pytest.fixture
def clock(sandbox):
    """`clock(days)` moves the sandbox's today to `days` after the test started."""
    start = sandbox.today()

    def advance(days: int) -> dt.date:
        sandbox.set_today(start + dt.timedelta(days=days))
        return sandbox.today()

    yield advance
    sandbox.set_today(None)
