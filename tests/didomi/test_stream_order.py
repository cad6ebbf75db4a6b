"""tap-didomi syncs the API's configuration lists first and the bucket's exports last (the kit's
`ordered_streams` hook), not by name as singer-sdk would: a run stopped early has the configuration."""

from __future__ import annotations

from sandbox.didomi import REST_STREAMS, STREAM_OF_TYPE
from tests.didomi.support import TAP, config
from tests.support.singer import run_tap


def test_configuration_streams_come_first_and_exports_last(sandbox):
    run = run_tap(TAP, config(sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    first_seen: list[str] = []
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] not in first_seen:
            first_seen.append(message["stream"])
    configuration, exports = set(REST_STREAMS), set(STREAM_OF_TYPE.values())
    assert set(first_seen[: len(configuration)]) == configuration
    assert set(first_seen[-len(exports) :]) == exports
    assert first_seen != sorted(first_seen)  # not the SDK's order by name
