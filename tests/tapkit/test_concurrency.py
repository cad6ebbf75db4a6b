"""Partitions fetched ahead by a pool give exactly what a sequential run gives."""

from __future__ import annotations

import threading
import time

import pytest

from tapkit.concurrency import OrderedPrefetch
from tests.gravito.truth import SANDBOX_CONFIG as GRAVITO_CONFIG
from tests.lytics.truth import SANDBOX_CONFIG as LYTICS_CONFIG
from tests.support.singer import run_tap

RUN_TIME_FIELDS = {"time_extracted", "measured_at", "checked_at", "saved_at"}  # clocks, not data


def without_run_times(value):
    if isinstance(value, dict):
        return {key: without_run_times(item) for key, item in value.items() if key not in RUN_TIME_FIELDS}
    if isinstance(value, list):
        return [without_run_times(item) for item in value]
    return value


def records_and_states(run) -> list[dict]:
    assert run.returncode == 0, run.stderr[-2000:]
    # a record's `version` is its run's ACTIVATE_VERSION stamp (a clock, not data)
    return [
        without_run_times({k: v for k, v in m.items() if k != "version"})
        for m in run.messages
        if m["type"] in ("RECORD", "STATE")
    ]


def sequential_and_concurrent(sandbox, tap: str, config: dict) -> tuple[list[dict], list[dict]]:
    sandbox.latency = 0.05  # enough for the pool's fetches to finish out of order
    runs = []
    for concurrency in (1, 4):
        sandbox.requests.clear()
        runs.append(records_and_states(run_tap(tap, {**config, "max_concurrency": concurrency})))
    return runs[0], runs[1]


def test_gravito_domains_fetched_concurrently_emit_what_a_sequential_run_emits(sandbox):
    config = {
        **GRAVITO_CONFIG,
        "access_token": "gravito-token",
        "api_url": sandbox.url("gravito"),
        "retry_backoff_seconds": 0,
    }
    sandbox.faults.add("429", vendor="gravito", path="news.example.org", retry_after=0.3, times=2)
    sequential, concurrent = sequential_and_concurrent(sandbox, "tap-gravito", config)
    assert sum(m["type"] == "RECORD" for m in sequential) > 100
    assert concurrent == sequential
    assert sandbox.count("gravito") == len(config["domains"])  # one request per domain and run


def test_lytics_segments_scanned_concurrently_emit_what_a_sequential_run_emits(sandbox):
    segments = ["all", "subscribers", "high_value", "sweden", "dormant", "frequent"]
    config = {
        **LYTICS_CONFIG,
        "segments": segments,
        "scan_page_size": 7,
        "api_key": "lytics-token",
        "api_url": sandbox.url("lytics"),
        "retry_backoff_seconds": 0,
    }
    sandbox.faults.add("503", vendor="lytics", path="/scan", times=3)
    sequential, concurrent = sequential_and_concurrent(sandbox, "tap-lytics", config)
    members = [m for m in sequential if m["type"] == "RECORD" and m["stream"] == "audience_members"]
    assert len({m["record"]["segment_id"] for m in members}) == 5  # "dormant" has nobody
    assert concurrent == sequential


# -- the mechanism itself (no server needed) ----------------------------------------------------


def slow_pages(delays: dict[str, float], log: list[str] | None = None):
    def produce(key: str):
        for page in range(3):
            time.sleep(delays[key])
            if log is not None:
                log.append(key)
            yield f"{key}{page}"

    return produce


def test_pages_come_out_in_partition_order_whatever_finishes_first():
    delays = {"a": 0.05, "b": 0.0, "c": 0.01, "d": 0.0}
    finished: list[str] = []
    prefetch = OrderedPrefetch(delays, slow_pages(delays, finished), workers=4)
    taken = [page for key in delays for page in prefetch.take(key)]
    prefetch.close()
    assert taken == ["a0", "a1", "a2", "b0", "b1", "b2", "c0", "c1", "c2", "d0", "d1", "d2"]
    assert finished.index("b") < finished.index("a")  # b really was fetched ahead of a


def test_at_most_workers_partitions_run_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    def produce(key: int):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        yield key

    prefetch = OrderedPrefetch(range(12), produce, workers=3)
    assert [item for key in range(12) for item in prefetch.take(key)] == list(range(12))
    prefetch.close()
    assert peak[0] == 3


def test_an_error_surfaces_when_its_partition_is_taken_after_the_pages_before_it():
    def produce(key: str):
        yield f"{key}0"
        if key == "b":
            raise ValueError("page 2 of b failed")
        yield f"{key}1"

    prefetch = OrderedPrefetch("abc", produce, workers=3)
    assert list(prefetch.take("a")) == ["a0", "a1"]
    pages = prefetch.take("b")
    assert next(pages) == "b0"
    with pytest.raises(ValueError, match="page 2 of b failed"):
        next(pages)
    prefetch.close()


def test_a_partition_never_taken_does_not_hold_a_worker():
    def produce(key: str):
        yield from (f"{key}{page}" for page in range(50))  # more than a lane holds: a skipped one blocks

    prefetch = OrderedPrefetch("abcdef", produce, workers=2)
    assert len(list(prefetch.take("c"))) == 50  # a and b skipped
    assert len(list(prefetch.take("f"))) == 50
    prefetch.close()


def test_one_worker_fetches_each_partition_only_when_it_is_taken():
    fetched: list[str] = []
    prefetch = OrderedPrefetch("ab", slow_pages({"a": 0.0, "b": 0.0}, fetched), workers=1)
    assert list(prefetch.take("a")) == ["a0", "a1", "a2"]
    assert fetched == ["a", "a", "a"]
    prefetch.close()
