"""Every request tap-lytics makes, discovery's and retried attempts included, counts in singer-sdk's
request metrics under the stream that asked (issue 16): compared with the simulator's own request log."""

from __future__ import annotations

import json
from collections import Counter

from tests.support.singer import run_tap

#: which stream asks which Lytics endpoint (path as the simulator logs it)
STREAM_OF_PATH = (
    ("/api/schema/", "schema_fields"),  # discovery: the schema types the profile streams
    ("/api/account", "accounts"),
    ("/api/segment/sizes", "segment_sizes"),
    ("/scan", "audience_members"),
    ("/api/segment", "segments"),  # the audience list, shared by the audience streams
    ("/api/entity/deletestatus/", "deletion_requests"),
    ("/api/entity/", "profiles"),
)


def stream_of(path: str) -> str:
    return next(stream for fragment, stream in STREAM_OF_PATH if fragment in path)


def metrics(stderr: str, name: str) -> list[dict]:
    points = [json.loads(line.split("METRIC: ", 1)[1]) for line in stderr.splitlines() if "METRIC: " in line]
    return [point for point in points if point["metric"] == name]


def test_every_request_and_retry_counts_in_the_request_metrics(sandbox, config):
    sandbox.faults.add("500", vendor="lytics", path="/scan", times=2)
    run = run_tap("tap-lytics", config)
    assert run.returncode == 0, run.stderr[-2000:]
    made = [r for r in sandbox.requests if r.vendor == "lytics"]
    assert sum(r.status == 500 for r in made) == 2

    counted: Counter[str] = Counter()
    for point in metrics(run.stderr, "http_request_count"):
        counted[point["tags"]["stream"]] += point["value"]
    assert counted == Counter(stream_of(r.path) for r in made)

    timed = Counter(
        (p["tags"]["stream"], p["tags"]["http_status_code"]) for p in metrics(run.stderr, "http_request_duration")
    )
    assert timed == Counter((stream_of(r.path), r.status) for r in made)
