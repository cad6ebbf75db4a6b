"""Schema drift: unknown profile fields and mistyped values land in `_extra`, with one warning each."""

from __future__ import annotations

import pytest

from tap_lytics.tap import TapLytics
from tests.lytics.truth import ground_truth
from tests.support.singer import run_tap


def test_added_fields_kept_in_extra(sandbox, config):
    sandbox.settings["lytics.drift"] = "add"
    run = run_tap("tap-lytics", config)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = ground_truth(sandbox, config)
    members = {(r["segment_id"], r["profile_id"]): r for r in run.records("audience_members")}
    assert len(members) == len(truth["audience_members"])
    for raw in truth["audience_members"]:
        record = members[raw["segment_id"], raw["profile"]["_uid"]]
        assert record["_extra"] == {"loyalty_tier": raw["profile"]["loyalty_tier"]}
    assert all(r["_extra"] == {"ttl_days": 30} for r in run.records("segments"))
    assert run.stderr.count("vendor field 'loyalty_tier' is not in the schema") == 1
    assert run.stderr.count("vendor field 'ttl_days' is not in the schema") == 1


def shaped(stream, context=None) -> list[dict]:
    return [stream.post_process(row, context) for row in stream.get_records(context)]


@pytest.mark.usefixtures("capsys")
def test_retyped_values_kept_in_extra(sandbox, config, caplog):
    sandbox.settings["lytics.drift"] = "retype"
    tap = TapLytics(config={**config, "segments": ["sweden"]})
    members = shaped(
        tap.streams["audience_members"], {"segment_id": sandbox.app("lytics").find_segment("sweden")["id"]}
    )
    assert len(members) == len(sandbox.app("lytics").members("sweden"))
    assert all(r["score_frequency"] is None and r["_extra"] == {"score_frequency": "high"} for r in members)
    segments = shaped(tap.streams["segments"])
    assert len(segments) == 6
    assert all(r["created_ms"] is None and r["_extra"] == {"created_ms": "yesterday"} for r in segments)
    assert caplog.text.count("a value of vendor field 'score_frequency' does not fit") == 1
