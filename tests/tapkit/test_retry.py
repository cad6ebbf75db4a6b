from __future__ import annotations

import datetime as dt
import random
from email.utils import format_datetime

from tapkit.retry import MAX_BACKOFF_SECONDS, MAX_RETRY_AFTER_SECONDS, backoff_seconds, parse_retry_after

NOW = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)


def test_retry_after_in_seconds():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0.5 ") == 0.5


def test_retry_after_as_http_date():
    header = format_datetime(NOW + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=NOW) == 30.0


def test_retry_after_in_the_past_means_now():
    header = format_datetime(NOW - dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=NOW) == 0.0


def test_retry_after_is_capped_and_garbage_is_ignored():
    assert parse_retry_after("999999") == MAX_RETRY_AFTER_SECONDS
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_backoff_is_exponential_with_full_jitter_and_a_ceiling():
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = min(MAX_BACKOFF_SECONDS, 2 ** (attempt - 1))
        waits = [backoff_seconds(attempt, 1.0, rng) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling * 0.8  # jitter spans the range, not a constant
