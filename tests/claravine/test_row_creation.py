"""The transactions list's dates under the rows' creation-day reading (the simulator's list-by-row-creation
variant): one transaction is listed on several days, or on a day before its submission; its rows still
reach the warehouse exactly once, within a run and across runs."""

from __future__ import annotations

import datetime as dt

from tests.claravine.test_sync import TAP, app, assert_clean, config, truth_for
from tests.support.singer import run_tap

ONE_DAY = dt.timedelta(days=1)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + n * ONE_DAY for n in range((last - first).days + 1)]


def overlapping_window(sandbox, dataset) -> tuple[dt.date, dt.date]:
    """Three settled days whose day-by-day lists name one transaction twice and one submitted outside
    them, found in the simulator's own data (relative to its clock)."""
    simulator = app(sandbox)
    for back in range(8, 55):
        first = simulator.today() - dt.timedelta(days=back)
        last = first + 2 * ONE_DAY
        per_day = [{tx.uuid for tx in simulator.listed(dataset, day, day)} for day in days(first, last)]
        listed = simulator.listed(dataset, first, last)
        twice = any(len([day for day in per_day if tx.uuid in day]) > 1 for tx in listed)
        outside = any(not first <= tx.day <= last for tx in listed)
        if twice and outside:
            return first, last
    raise AssertionError("the simulator's history has no window with both cases")


def row_keys(run) -> list[tuple]:
    return [(r["dataset_uuid"], r["transaction_uuid"], r["row_number"]) for r in run.records("transaction_rows")]


def truth_keys(truth: dict) -> set[tuple]:
    return {(r["datasetUuid"], r["transactionUuid"], r["rowNumber"]) for r in truth["transaction_rows"]}


def test_a_transaction_listed_on_several_days_is_emitted_once_with_its_rows(sandbox):
    sandbox.set_variants("claravine", "list-by-row-creation")
    dataset = app(sandbox).datasets()[0]  # a dataset whose rows carry CVIDs: updates keep their rows' days
    first, last = overlapping_window(sandbox, dataset)
    cfg = config(sandbox, start_date=first.isoformat(), end_date=last.isoformat(), datasets=[dataset.uuid])
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    truth = truth_for(sandbox, cfg)

    # The lists the tap read name some transaction more than once (the case under test happened) ...
    listed = [tx.uuid for day in days(first, last) for tx in app(sandbox).listed(dataset, day, day)]
    assert len(listed) > len(set(listed))
    # ... yet each transaction is emitted once, and the rows of each Complete one once.
    uuids = [r["uuid"] for r in run.records("transactions")]
    assert len(uuids) == len(set(uuids))
    assert set(uuids) == {tx["uuid"] for tx in truth["transactions"]} == set(listed)
    keys = row_keys(run)
    assert len(keys) == len(set(keys))
    assert set(keys) == truth_keys(truth)
    table = [(r["transaction_uuid"], r["row_number"]) for r in run.records("dataset_paid_media_campaigns")]
    assert len(table) == len(set(table)) == len(keys)


def test_across_runs_every_row_reaches_the_warehouse_once_by_its_key(sandbox):
    sandbox.set_variants("claravine", "list-by-row-creation")
    dataset = app(sandbox).datasets()[0]
    first, middle = overlapping_window(sandbox, dataset)
    last = middle + 3 * ONE_DAY
    assert last <= app(sandbox).today()
    cfg = config(sandbox, start_date=first.isoformat(), end_date=middle.isoformat(), datasets=[dataset.uuid])
    one = run_tap(TAP, cfg)
    assert one.returncode == 0, one.stderr
    two = run_tap(TAP, {**cfg, "end_date": last.isoformat()}, state=one.last_state)
    assert two.returncode == 0, two.stderr

    whole = truth_for(sandbox, {**cfg, "end_date": last.isoformat()})
    for run in (one, two):  # no row twice within a run
        assert len(row_keys(run)) == len(set(row_keys(run)))
    # Together, the two runs bring every row of the whole window; a row both brought is the same row
    # (the lookback day listed again), which the warehouse upserts by its key.
    assert set(row_keys(one)) | set(row_keys(two)) == truth_keys(whole)
    by_key_one = {key: r for key, r in zip(row_keys(one), one.records("transaction_rows"), strict=True)}
    for key, record in zip(row_keys(two), two.records("transaction_rows"), strict=True):
        if key in by_key_one:
            assert record == by_key_one[key]
    transactions = {r["uuid"] for r in one.records("transactions")} | {r["uuid"] for r in two.records("transactions")}
    assert transactions == {tx["uuid"] for tx in whole["transactions"]}
