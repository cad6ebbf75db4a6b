"""The vendor's rate-limit headers keep a concurrent run within its budget (real HTTP), and each
header form is read as its spec (or common practice) says."""

from __future__ import annotations

import collections
import functools

import pytest

from tapkit import ratelimit
from tests.lytics.truth import SANDBOX_CONFIG as LYTICS_CONFIG
from tests.support.singer import run_tap
from tests.tapkit.test_concurrency import records_and_states

SEGMENTS = ["all", "subscribers", "high_value", "sweden", "dormant", "frequent"]
BUDGET = {"limit": 8, "window": 1}  # a run makes ~36 requests: several windows' worth


def lytics_config(sandbox) -> dict:
    return {
        **LYTICS_CONFIG,
        "segments": SEGMENTS,
        "scan_page_size": 7,
        "api_key": "lytics-token",
        "api_url": sandbox.url("lytics"),
        "retry_backoff_seconds": 0,
        "max_concurrency": 4,
    }


@functools.cache
def unlimited_run() -> tuple[list[dict], int]:
    """What the same run emits with no budget (once per test process: one sandbox), and its request count."""
    from tests.support.live import sandbox

    box = sandbox()
    box.reset()
    run = run_tap("tap-lytics", lytics_config(box))
    emitted, requests = records_and_states(run), len(box.requests)
    box.reset()
    return emitted, requests


def statuses(sandbox) -> collections.Counter:
    return collections.Counter(request.status for request in sandbox.requests if request.vendor == "lytics")


@pytest.mark.parametrize("headers", ["ietf", "ietf-split", "x", "x-epoch"])
def test_a_concurrent_run_within_the_announced_budget_gets_no_429_and_every_record(sandbox, headers):
    expected, requests = unlimited_run()
    assert requests > 2 * BUDGET["limit"]
    sandbox.settings["lytics.rate_budget"] = {**BUDGET, "headers": headers}
    emitted = records_and_states(run_tap("tap-lytics", lytics_config(sandbox)))
    assert statuses(sandbox)[429] == 0
    assert emitted == expected
    assert (
        sum(m["type"] == "RECORD" and m["stream"] == "audience_members" for m in emitted)
        == sum(m["type"] == "RECORD" and m["stream"] == "audience_members" for m in expected)
        > 100
    )


def test_without_the_headers_the_same_run_meets_429s_and_recovers_by_retry_after(sandbox):
    """The control: the budget really binds this run, so the test above could fail."""
    expected, _ = unlimited_run()
    sandbox.settings["lytics.rate_budget"] = {**BUDGET, "headers": "none"}
    emitted = records_and_states(run_tap("tap-lytics", lytics_config(sandbox)))
    assert statuses(sandbox)[429] > 0
    assert emitted == expected


# -- the parser -----------------------------------------------------------------------------------

NOW = 1_800_000_000.0  # a Unix time, for epoch resets


def test_ietf_draft_7_combined_field_and_policy():
    budget = ratelimit.parse({"RateLimit": "limit=100, remaining=50, reset=5", "RateLimit-Policy": "100;w=15"})
    assert budget == ratelimit.RateLimit(remaining=50, reset_seconds=5.0, limit=100, window_seconds=15.0)
    assert not budget.exhausted


def test_ietf_later_drafts_structured_field():
    budget = ratelimit.parse({"RateLimit": '"default";r=0;t=7', "RateLimit-Policy": '"default";q=100;w=60'})
    assert budget == ratelimit.RateLimit(remaining=0, reset_seconds=7.0, limit=100, window_seconds=60.0)
    assert budget.exhausted
    assert budget.wait_seconds == 7.0


def test_ietf_older_drafts_separate_fields():
    headers = {"RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "3"}
    assert ratelimit.parse(headers) == ratelimit.RateLimit(remaining=0, reset_seconds=3.0, limit=10)


def test_x_ratelimit_reset_in_seconds():
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "42"}
    assert ratelimit.parse(headers, now=NOW) == ratelimit.RateLimit(remaining=12, reset_seconds=42.0, limit=60)


@pytest.mark.parametrize("reset", [str(int(NOW) + 30), str(int(NOW + 30) * 1000)])
def test_x_ratelimit_reset_as_unix_time_in_seconds_or_milliseconds(reset):
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    assert ratelimit.parse(headers, now=NOW) == ratelimit.RateLimit(remaining=0, reset_seconds=30.0, limit=60)


def test_a_reset_in_the_past_means_now_and_a_huge_one_is_capped():
    past = ratelimit.parse({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) - 5)}, now=NOW)
    assert past is not None
    assert past.wait_seconds == 0
    assert ratelimit.parse({"RateLimit": "remaining=0, reset=86400"}).wait_seconds == ratelimit.MAX_RESET_SECONDS


def test_with_no_reset_the_policy_window_is_the_wait():
    budget = ratelimit.parse({"RateLimit-Remaining": "0", "RateLimit-Policy": "5;w=2"})
    assert budget == ratelimit.RateLimit(remaining=0, limit=5, window_seconds=2.0)
    assert budget.wait_seconds == 2.0


def test_no_headers_or_garbage_say_nothing():
    assert ratelimit.parse({}) is None
    assert ratelimit.parse({"X-RateLimit-Remaining": "lots"}) == ratelimit.RateLimit()
    assert not ratelimit.RateLimit().exhausted
