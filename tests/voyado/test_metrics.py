"""Every request tap-voyado makes counts in singer-sdk's request metrics, checked against the simulator's
request log."""

from __future__ import annotations

import json

from tests.support.singer import run_tap

METRIC_MARK = "METRIC: "


def metrics(run, name: str) -> list[dict]:
    points = [json.loads(line.split(METRIC_MARK, 1)[1]) for line in run.stderr.splitlines() if METRIC_MARK in line]
    return [point for point in points if point["metric"] == name]


def test_each_request_is_counted_and_timed_under_its_endpoint_and_status(sandbox, voyado_config):
    # admin-v4 not served (a 404, then the fallback), a 503 retried, a poll, a download and a poll still waiting
    sandbox.set_variants("voyado", "v4-exports-missing")
    sandbox.faults.add("503", vendor="voyado", path="admin/v3/event-data/create-export-customer-job", times=1)
    run = run_tap("tap-voyado", voyado_config(["instant-a", "cust-2"]))
    assert run.returncode == 0, run.stderr

    seen = [(request.path, request.status) for request in sandbox.requests if request.vendor == "voyado"]
    v3, v4 = "/api/admin/v3/event-data", "/api/admin/v4/event-data"
    assert seen == [
        (f"{v4}/create-export-customer-job", 404),
        (f"{v3}/create-export-customer-job", 503),
        (f"{v3}/create-export-customer-job", 200),
        (f"{v3}/create-export-customer-job", 200),
        (f"{v3}/job-status", 200),
        (f"{v3}/export-customer-job-result", 200),
        (f"{v3}/job-status", 200),
    ]
    counted = metrics(run, "http_request_count")
    assert [(point["tags"]["stream"], point["tags"]["endpoint"], point["value"]) for point in counted] == [
        ("export_jobs", path, 1) for path, _ in seen
    ]
    timed = metrics(run, "http_request_duration")
    assert [(point["tags"]["endpoint"], point["tags"]["http_status_code"]) for point in timed] == seen
    assert [point["tags"]["status"] for point in timed] == [
        "succeeded" if status < 400 else "failed" for _, status in seen
    ]
