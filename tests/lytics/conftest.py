"""Config pointing tap-lytics at the live simulator."""

from __future__ import annotations

import pytest

from tests.lytics.truth import SANDBOX_CONFIG

SECRET = "lytics-secret-token-7f3a"


@pytest.fixture
def config(sandbox) -> dict:
    return {**SANDBOX_CONFIG, "api_key": SECRET, "api_url": sandbox.url("lytics"), "retry_backoff_seconds": 0}


@pytest.fixture
def size_two(sandbox):
    """120 profiles: an audience larger than 100, so the `all` audience needs two scan pages of 100 and
    shows whether `limit=101` is honoured."""
    before = sandbox.size
    sandbox.size = 2
    yield
    sandbox.size = before
