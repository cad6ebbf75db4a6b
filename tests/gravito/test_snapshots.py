"""Which snapshot of a profile id is the latest, when one response holds several."""

from __future__ import annotations

from tap_gravito.feeds import superseded_snapshots


def test_unique_ids_supersede_nothing():
    assert superseded_snapshots([hash("a"), hash("b"), hash("c")], [5, 1, 3]) == frozenset()


def test_the_latest_timestamp_wins_and_a_tie_goes_to_the_later_element():
    ids = [hash(x) for x in ("a", "b", "a", "a", "b")]
    stamps = [10, 7, 30, 30, 2]
    # "a": elements 0 (10), 2 (30), 3 (30): 3 wins the tie; "b": 1 (7) beats 4 (2)
    assert superseded_snapshots(ids, stamps) == frozenset({0, 2, 4})


def test_a_snapshot_without_time_loses_to_one_with_time():
    ids = [hash("a"), hash("a")]
    assert superseded_snapshots(ids, [1_700_000_000, -1]) == frozenset({1})
