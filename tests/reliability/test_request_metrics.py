"""Every request each tap makes, a retried attempt included, counts in singer-sdk's request metrics
(`http_request_count`, `http_request_duration`): compared with the simulator's own request log. The
Lytics, Voyado and Gravito tests check which stream each request counts under; this one holds every tap
to the totals, so a request made outside the kit's HTTP client shows up as a missing count."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.reliability.runner import sync
from tests.reliability.taps import TAPS


def metric_points(stderr: str, name: str) -> list[dict]:
    points = [json.loads(line.split("METRIC: ", 1)[1]) for line in stderr.splitlines() if "METRIC: " in line]
    return [point for point in points if point["metric"] == name]


@pytest.mark.parametrize("vendor", list(TAPS))
def test_every_request_and_retry_counts_in_the_sdk_request_metrics(sandbox, tmp_path, vendor):
    profile = TAPS[vendor]
    rule = sandbox.faults.add("500", vendor=vendor, path=profile.records_path, times=1)
    run = sync(profile, profile.config(sandbox, tmp_path))
    assert run.returncode == 0, run.stderr[-2000:]
    assert rule.times == 0, "the fault never fired"
    made = [request for request in sandbox.requests if request.vendor == vendor]
    assert sum(request.status == 500 for request in made) == 1

    counted = sum(point["value"] for point in metric_points(run.stderr, "http_request_count"))
    assert counted == len(made)
    timed = Counter(point["tags"]["http_status_code"] for point in metric_points(run.stderr, "http_request_duration"))
    assert timed == Counter(request.status for request in made)
    assert all(point["tags"]["stream"] for point in metric_points(run.stderr, "http_request_count"))
