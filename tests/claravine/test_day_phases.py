"""transactions reads a submitted day in two phases (tapkit.windows): `fetch_day` only asks the API, so
several days may be fetched at once in worker threads; `day_rows` keeps the pending transactions in state,
in day order. Checked in-process against the simulator (real HTTP), with its ground truth."""

from __future__ import annotations

import copy
import datetime as dt
import typing as t
from concurrent.futures import ThreadPoolExecutor

from tap_claravine.tap import TapClaravine
from tests.claravine.test_sync import TODAY, app, config, day

FIRST, LAST = -6, -1  # submitted days, relative to today: with the simulator's pending ones among them
DAYS = [TODAY + dt.timedelta(days=offset) for offset in range(FIRST, LAST + 1)]


def test_days_fetched_at_once_in_threads_write_nothing_and_match_the_truth(sandbox):
    dataset = app(sandbox).pending(day(FIRST), day(LAST))[0].dataset  # one with pending transactions
    tap = TapClaravine(config=config(sandbox, start_date=day(FIRST), end_date=day(LAST), datasets=[dataset.uuid]))
    stream: t.Any = tap.streams["transactions"]  # its own day phases: not singer-sdk Stream's
    context = {"dataset_uuid": dataset.uuid}
    state_before = copy.deepcopy(tap.state)
    attributes_before = {name: id(value) for name, value in vars(stream).items()}

    with ThreadPoolExecutor(max_workers=3) as pool:
        fetched = dict(zip(DAYS, pool.map(lambda d: stream.fetch_day(d, context), DAYS), strict=True))

    assert tap.state == state_before
    assert {name: id(value) for name, value in vars(stream).items()} == attributes_before
    truth = app(sandbox).ground_truth(start=day(FIRST), end=day(LAST), datasets=[dataset.uuid])["transactions"]
    got = [(item["uuid"], item["status"]) for d in DAYS for item in fetched[d]]
    assert sorted(got) == sorted((tx["uuid"], tx["status"]) for tx in truth)
    assert len(got) == len(truth) > 0

    # Emitted in day order, the days keep exactly the simulator's pending transactions in state.
    emitted = [item["uuid"] for d in DAYS for item in stream.day_rows(d, fetched[d], context)]
    assert emitted == [uuid for uuid, _ in got]
    pending = [tx for tx in app(sandbox).pending(day(FIRST), day(LAST)) if tx.dataset.uuid == dataset.uuid]
    assert sorted(
        (entry["uuid"], entry["day"]) for entry in stream.get_context_state(context)["pending_transactions"]
    ) == sorted((tx.uuid, tx.day.isoformat()) for tx in pending)
