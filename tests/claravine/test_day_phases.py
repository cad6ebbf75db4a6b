"""transactions reads a submitted day in two phases (tapkit.windows): `fetch_day` only asks the API, so
several days may be fetched at once in worker threads; `day_rows` keeps the pending transactions in state,
in day order. Checked in-process against the simulator (real HTTP), with its ground truth."""

from __future__ import annotations

import copy
import datetime as dt
import typing as t
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tap_claravine.tap import TapClaravine
from tapkit.clock import PIN_VARIABLE
from tests.claravine.test_sync import app, config

FIRST, LAST = -6, -1  # submitted days, relative to the clock day: with the simulator's pending ones among them


@pytest.fixture
def clock_day(sandbox, monkeypatch) -> Iterator[dt.date]:
    """A clock day whose days FIRST..LAST hold a pending submission, the simulator and the tap both pinned to it.

    A submission is pending for a few days after its own (the simulator's settle days), and some stretches of two
    days have none: searching back for a day that has one keeps the test off the calendar."""
    real_today = sandbox.today()
    for back in range(30):
        today = real_today - dt.timedelta(days=back)
        sandbox.set_today(today)
        if app(sandbox).pending(today + dt.timedelta(days=FIRST), today + dt.timedelta(days=LAST)):
            monkeypatch.setenv(PIN_VARIABLE, today.isoformat())  # the tap in this process reads the same day
            yield today
            sandbox.set_today(None)
            return
    sandbox.set_today(None)
    raise AssertionError("the simulator produced no pending submission in any window of the last 30 days")


def test_days_fetched_at_once_in_threads_write_nothing_and_match_the_truth(sandbox, clock_day):
    days = [clock_day + dt.timedelta(days=offset) for offset in range(FIRST, LAST + 1)]
    first, last = days[0].isoformat(), days[-1].isoformat()
    dataset = app(sandbox).pending(first, last)[0].dataset  # one with pending transactions
    tap = TapClaravine(config=config(sandbox, start_date=first, end_date=last, datasets=[dataset.uuid]))
    stream: t.Any = tap.streams["transactions"]  # its own day phases: not singer-sdk Stream's
    context = {"dataset_uuid": dataset.uuid}
    state_before = copy.deepcopy(tap.state)
    attributes_before = {name: id(value) for name, value in vars(stream).items()}

    with ThreadPoolExecutor(max_workers=3) as pool:
        fetched = dict(zip(days, pool.map(lambda d: stream.fetch_day(d, context), days), strict=True))

    assert tap.state == state_before
    assert {name: id(value) for name, value in vars(stream).items()} == attributes_before
    truth = app(sandbox).ground_truth(start=first, end=last, datasets=[dataset.uuid])["transactions"]
    got = [(item["uuid"], item["status"]) for d in days for item in fetched[d]]
    assert sorted(got) == sorted((tx["uuid"], tx["status"]) for tx in truth)
    assert len(got) == len(truth) > 0

    # Emitted in day order, the days keep exactly the simulator's pending transactions in state.
    emitted = [item["uuid"] for d in days for item in stream.day_rows(d, fetched[d], context)]
    assert emitted == [uuid for uuid, _ in got]
    pending = [tx for tx in app(sandbox).pending(first, last) if tx.dataset.uuid == dataset.uuid]
    assert pending
    assert sorted(
        (entry["uuid"], entry["day"]) for entry in stream.get_context_state(context)["pending_transactions"]
    ) == sorted((tx.uuid, tx.day.isoformat()) for tx in pending)
