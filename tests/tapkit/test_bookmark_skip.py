"""An unsorted stream's state work is skipped for records that cannot move its bookmark: the messages,
every STATE included, are those of state work on every record (tap-gravito, in process, real HTTP)."""

from __future__ import annotations

from singer_sdk import Stream

from tap_gravito.stream_base import GravitoStream
from tapkit.seam import SeamStream
from tests.gravito.truth import SANDBOX_CONFIG
from tests.tapkit.test_fast_path import sync


def state_work_on_every_record(self, latest_record, *, context=None):
    """The seam's hook before the skip: the tap's check, then the SDK, for each record."""
    if self.counts_toward_bookmark(latest_record, context):
        Stream._increment_stream_state(self, latest_record, context=context)


def last_state(messages: list[dict]) -> dict:
    return [message for message in messages if message["type"] == "STATE"][-1]["value"]


def test_skipping_state_work_changes_no_message_on_a_first_and_a_second_run(sandbox, monkeypatch):
    config = {**SANDBOX_CONFIG, "access_token": "gravito-token", "api_url": sandbox.url("gravito"), "lookback_hours": 6}
    asked = [0]
    counts = GravitoStream.counts_toward_bookmark

    def counting(self, record, context):
        asked[0] += 1
        return counts(self, record, context)

    monkeypatch.setattr(GravitoStream, "counts_toward_bookmark", counting)
    skipping_first = sync(config)
    records = sum(message["type"] == "RECORD" for message in skipping_first)
    skipping_second = sync({**config}, state=last_state(skipping_first))
    assert 0 < asked[0] < records  # the skip really happened: fewer checks than records of the first run alone

    monkeypatch.setattr(SeamStream, "_increment_stream_state", state_work_on_every_record)
    every_first = sync(config)
    every_second = sync({**config}, state=last_state(every_first))
    assert records > 100
    assert sum(message["type"] == "RECORD" for message in skipping_second) > 0
    assert skipping_first == every_first
    assert skipping_second == every_second
