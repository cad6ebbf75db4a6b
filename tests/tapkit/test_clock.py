"""The kit's one clock (tapkit/clock.py): CONSENT_TAPS_TODAY pins the taps' today, and a tap process reads it."""

from __future__ import annotations

import datetime as dt

import pytest

from tapkit import clock
from tapkit.errors import ConfigError
from tests.support.singer import run_tap

API_KEY = "clv-key-4f9a2b"


def test_unpinned_is_the_utc_date(monkeypatch):
    monkeypatch.delenv(clock.PIN_VARIABLE, raising=False)
    before = dt.datetime.now(dt.UTC)
    now = clock.now()
    assert before <= now <= dt.datetime.now(dt.UTC)
    assert clock.today() == now.date()


def test_pinned_day_keeps_the_real_time_of_day(monkeypatch):
    monkeypatch.setenv(clock.PIN_VARIABLE, "2028-02-29")
    before = dt.datetime.now(dt.UTC)
    now = clock.now()
    assert clock.today() == dt.date(2028, 2, 29)
    assert now.date() == dt.date(2028, 2, 29)
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)
    # the time of day still advances (elapsed times and ages stay real)
    assert before.time() <= now.time() or before.date() != dt.datetime.now(dt.UTC).date()


def test_a_malformed_pin_is_a_config_error(monkeypatch):
    monkeypatch.setenv(clock.PIN_VARIABLE, "next tuesday")
    with pytest.raises(ConfigError, match="CONSENT_TAPS_TODAY='next tuesday' is not a day"):
        clock.today()


def claravine_config(sandbox, **overrides) -> dict:
    return {
        "api_key": API_KEY,
        "api_secret": "clv-secret-8e1d77",
        "api_url": sandbox.url("claravine"),
        "retry_backoff_seconds": 0.01,
        **overrides,
    }


def test_a_tap_reads_its_default_end_date_from_the_pinned_day(sandbox):
    # Twenty days back: with the system's date as its end, the tap would list twenty more days.
    pinned = sandbox.today() - dt.timedelta(days=20)
    sandbox.set_today(pinned)
    dataset = sandbox.app("claravine").datasets()[0]
    first = pinned - dt.timedelta(days=1)
    run = run_tap("tap-claravine", claravine_config(sandbox, start_date=first.isoformat(), datasets=[dataset.uuid]))
    assert run.returncode == 0, run.stderr
    listed = sorted(r.query["start-date"][0] for r in sandbox.requests if r.path.endswith("/transactions"))
    assert listed == [first.isoformat(), pinned.isoformat()]


def test_a_malformed_pin_stops_a_tap_with_one_clear_line(sandbox):
    cfg = claravine_config(sandbox, start_date=(sandbox.today() - dt.timedelta(days=1)).isoformat())
    run = run_tap("tap-claravine", cfg, env={clock.PIN_VARIABLE: "2027-02-30"})
    assert run.returncode == 1
    assert "CONSENT_TAPS_TODAY='2027-02-30' is not a day (expected YYYY-MM-DD" in run.last_stderr_line
    assert "Traceback" not in run.stderr
    assert API_KEY not in run.stderr
