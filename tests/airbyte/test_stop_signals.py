"""`source-<vendor> read` stopped by SIGTERM behaves as the Singer tap: within 5 seconds, no RECORD
after the last STATE of its stream, a transient_error TRACE and one stderr line saying it was stopped,
exit 143; a read resumed from the per-stream states loses nothing (distinct keys = ground truth)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import tempfile
import time

import pytest
from airbyte_protocol.models import Type

from tests.airbyte.protocol import SourceRun, configured_catalog, parse_output, run_source, write_inputs
from tests.airbyte.sources import SECRET, SOURCE_IDS, SOURCES, Source
from tests.airbyte.test_sources import all_streams
from tests.support.singer import tap_executable

SIZE, LATENCY = 4, 0.02  # as the Singer kill-and-resume matrix: output past a pipe's buffer, still fetching
STOP_SECONDS = 5


@pytest.fixture(autouse=True)
def _sandbox_size_restored(sandbox):
    """These tests grow the sandbox; `Sandbox.reset` does not shrink it back for the next test."""
    size = sandbox.size
    yield
    sandbox.size = size


def read_and_stop(source: Source, config: dict, catalog: dict, stop_after: int) -> tuple[SourceRun, float]:
    """`read` as a real process, sent SIGTERM once `stop_after` messages were read; read to the end."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [tap_executable(source.executable), "read", *write_inputs(tmp, config, catalog, None)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines, signalled_at = [], None
        for line in proc.stdout:
            lines.append(line)
            if signalled_at is None and len(lines) >= stop_after:
                proc.send_signal(signal.SIGTERM)
                signalled_at = time.monotonic()
        stderr = proc.stderr.read()
        returncode = proc.wait(timeout=60)
    assert signalled_at is not None, "the read ended before the stop point"
    stdout = "".join(lines)
    return SourceRun(returncode, stdout, stderr, parse_output(stdout)), time.monotonic() - signalled_at


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_a_read_stopped_by_sigterm_commits_what_it_emitted_and_resumes_losing_nothing(source: Source, sandbox):
    sandbox.size, sandbox.latency = SIZE, LATENCY
    config = source.config(sandbox)
    streams = all_streams(source, sandbox)
    catalog = configured_catalog(streams)
    expected = source.expected_rows(sandbox, config)
    stop_after = random.Random(f"airbyte-stop-{source.vendor}").randint(20, 60)  # seeded: the same on every run

    stopped, seconds = read_and_stop(source, config, catalog, stop_after)
    name = source.executable
    line = f"{name}: stopped by SIGTERM; state covers data emitted so far"
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    assert seconds < STOP_SECONDS, seconds
    assert [text for text in stopped.stderr.splitlines() if text.strip()][-1] == line
    assert [error.message for error in stopped.errors()] == [line]
    assert stopped.errors()[0].failure_type.value == "transient_error"
    assert SECRET not in stopped.stdout + stopped.stderr
    assert sum(stopped.counts().values()) < sum(expected.values()), "the stop came after the last record"
    # No RECORD after its stream's last STATE: the platform commits every record it was sent.
    last_state_at = {}
    for index, message in enumerate(stopped.messages):
        if message.type == Type.STATE:
            last_state_at[message.state.stream.stream_descriptor.name] = index
    for index, message in enumerate(stopped.messages):
        if message.type == Type.RECORD:
            assert last_state_at.get(message.record.stream, -1) > index, (
                f"a {message.record.stream} RECORD follows its last STATE"
            )
    for stream in streams:
        assert stopped.statuses(stream) in ([], ["STARTED", "INCOMPLETE"])
    assert any(stopped.statuses(stream) for stream in streams)

    resumed = run_source(source.vendor, "read", config=config, catalog=catalog, state=stopped.final_state())
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    tap = source.tap_class(config=config, validate_config=False, setup_mapper=False)
    union = {
        stream_name: len(
            {
                tuple(json.dumps(record.get(key)) for key in stream.primary_keys)
                for record in stopped.records(stream_name) + resumed.records(stream_name)
            }
        )
        for stream_name, stream in tap.streams.items()
    }
    assert union == expected
