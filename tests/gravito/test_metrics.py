"""Every request the tap makes counts in singer-sdk's request metrics (the api asks through the kit's client)."""

from __future__ import annotations

import json
from collections import Counter

from sandbox.gravito import DOMAINS
from tests.gravito.test_sync import config
from tests.support.singer import run_tap

ENDPOINT = "/api/gp/gravitocustomerdata"


def metrics(stderr: str, name: str) -> list[dict]:
    points = [json.loads(line.split("METRIC: ", 1)[1]) for line in stderr.splitlines() if "METRIC: " in line]
    return [point for point in points if point["metric"] == name]


def test_each_request_counts_once_under_the_shared_feed_tagged_with_its_domain(sandbox):
    # One 500 on one domain: the retried attempt is a request too, counted as failed.
    retried = DOMAINS[0]
    sandbox.faults.add("500", vendor="gravito", path=retried, times=1)
    run = run_tap("tap-gravito", config(sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    asked = Counter(request.query["domainName"][0] for request in sandbox.requests)
    assert asked == Counter({**dict.fromkeys(DOMAINS, 1), retried: 2})

    counted = metrics(run.stderr, "http_request_count")
    assert all(point["value"] == 1 for point in counted)
    assert {(point["tags"]["stream"], point["tags"]["endpoint"]) for point in counted} == {("domain_feeds", ENDPOINT)}
    assert Counter(point["tags"]["context"]["domain"] for point in counted) == asked

    timed = metrics(run.stderr, "http_request_duration")
    outcomes = Counter(
        (p["tags"]["context"]["domain"], p["tags"]["http_status_code"], p["tags"]["status"]) for p in timed
    )
    assert outcomes == {**{(domain, 200, "succeeded"): 1 for domain in DOMAINS}, (retried, 500, "failed"): 1}
