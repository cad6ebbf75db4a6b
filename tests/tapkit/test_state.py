"""The input-state check's pure parts: times, the clock-skew bound, layouts, wrappers (no server)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tapkit.state import CLOCK_SKEW, StateError, StateLayout, StreamState, Where, check_day, check_time, checked_state

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
LAYOUT = StateLayout(
    {
        "days": StreamState(replication_key="date", by_day=True),
        "events": StreamState(replication_key="at", partition_keys=("domain",)),
        "lists": StreamState(),
    },
    dynamic=(("dataset_", StreamState()),),
)


def test_a_timestamp_may_be_ahead_by_the_clock_skew_and_no_more():
    check_time((NOW + CLOCK_SKEW).isoformat(), Where("s"), now=NOW)
    with pytest.raises(StateError, match=r"stream s: .* is in the future"):
        check_time((NOW + CLOCK_SKEW + dt.timedelta(seconds=1)).isoformat(), Where("s"), now=NOW)


def test_a_day_window_bookmark_may_name_any_time_up_to_tomorrow():
    check_time("2026-12-02T23:59:59+00:00", Where("s"), by_day=True, now=NOW)  # a day's last record, vendor ahead a day
    with pytest.raises(StateError, match="in the future"):
        check_time("2026-12-03", Where("s"), by_day=True, now=NOW)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (20261201, "20261201 (a number)"),
        (["2026-12-01"], '["2026-12-01"] (a list)'),
        ({"v": 1}, '{"v": 1} (an object)'),
        (None, "null"),
        (True, "true (a boolean)"),
        ("yesterday", '"yesterday"'),
    ],
)
def test_a_value_that_is_not_a_date_time_is_named_with_its_type(value, shown):
    with pytest.raises(StateError) as error:
        check_time(value, Where("s", {"domain": "a.com"}, "replication_key_value"), now=NOW)
    assert str(error.value).startswith(
        f"invalid state: stream s, partition domain=a.com, bookmark replication_key_value: {shown} "
    )


def test_a_day_must_be_yyyy_mm_dd():
    check_day("2026-11-30", Where("s"))
    with pytest.raises(StateError, match="is not a day"):
        check_day("2026-11-30T00:00:00+00:00", Where("s"))


def test_streams_named_at_discovery_match_their_prefix_and_others_are_refused():
    assert checked_state({"bookmarks": {"dataset_anything": {}}}, LAYOUT) == {"bookmarks": {"dataset_anything": {}}}
    with pytest.raises(
        StateError, match=r"stream dayz is not a stream of this tap \(its streams: days, events, lists, dataset_\*\)"
    ):
        checked_state({"bookmarks": {"dayz": {}}}, LAYOUT)


def test_a_partitioned_stream_refuses_a_bookmark_outside_its_partitions_and_a_repeated_partition():
    with pytest.raises(StateError, match="keeps one bookmark per domain under partitions"):
        checked_state({"bookmarks": {"events": {"replication_key_value": "2026-11-30T00:00:00+00:00"}}}, LAYOUT)
    twice = [{"context": {"domain": "a.com"}}, {"context": {"domain": "a.com"}}]
    with pytest.raises(StateError, match=r"stream events, partition domain=a\.com: the partition appears twice"):
        checked_state({"bookmarks": {"events": {"partitions": twice}}}, LAYOUT)
    with pytest.raises(StateError, match=r"bookmark partitions\[1\].context: .* is not the partition's context"):
        checked_state({"bookmarks": {"events": {"partitions": [{"context": {"domainName": "a.com"}}]}}}, LAYOUT)


def test_a_partitioned_stream_accepts_the_progress_singer_sdk_leaves_at_stream_level_when_stopped():
    """A run stopped mid-sync (SIGTERM) leaves singer-sdk's signpost beside the partitions: the tap's own state."""
    partitions = [{"context": {"domain": "a.com"}, "replication_key_value": "2026-11-30T00:00:00+00:00"}]
    state = {
        "bookmarks": {
            "events": {
                "partitions": partitions,
                "replication_key_signpost": "2026-12-01T08:00:00+00:00",
                "progress_markers": {},
            }
        }
    }
    assert checked_state(state, LAYOUT) == state


def test_a_full_table_streams_bookmark_is_ignored_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="tapkit.state"):
        checked_state({"bookmarks": {"lists": {"replication_key_value": 5}}}, LAYOUT)
    assert "stream lists is read whole on every run" in caplog.text


def test_other_known_forms_are_unwrapped_and_anything_else_refused(caplog):
    inner = {"bookmarks": {"days": {"replication_key": "date", "replication_key_value": "2026-11-30"}}}
    with caplog.at_level(logging.WARNING, logger="tapkit.state"):
        assert checked_state({"singer_state": inner}, LAYOUT) == inner
        assert checked_state({"type": "STATE", "value": inner}, LAYOUT) == inner
    assert "state-store form" in caplog.text and "a whole STATE message" in caplog.text
    with pytest.raises(StateError, match="it has no bookmarks object"):
        checked_state({"days": {}}, LAYOUT)
    with pytest.raises(StateError, match="expected a JSON object"):
        checked_state([inner], LAYOUT)
    with pytest.raises(StateError, match="is not this stream's replication key"):
        checked_state({"bookmarks": {"days": {"replication_key": "day"}}}, LAYOUT)
