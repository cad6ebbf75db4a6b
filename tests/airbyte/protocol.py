"""Run an Airbyte source as Airbyte does (its console script, a real process) and check every line.

Every stdout line must parse as an `AirbyteMessage` of airbyte-protocol-models: a line that does
not fails the test at once, whatever the test then asserts.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from airbyte_protocol.models import AirbyteMessage, Type

from sandbox.profiles import profile_of
from tests.support.live import clock_env
from tests.support.singer import tap_executable


@dataclass
class SourceRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[AirbyteMessage] = field(default_factory=list)

    def of_type(self, kind: Type) -> list[AirbyteMessage]:
        return [message for message in self.messages if message.type == kind]

    def records(self, stream: str | None = None) -> list[dict]:
        return [m.record.data for m in self.of_type(Type.RECORD) if stream in (None, m.record.stream)]

    def counts(self) -> Counter:
        return Counter(m.record.stream for m in self.of_type(Type.RECORD))

    def state_messages(self) -> list:
        return [m.state for m in self.of_type(Type.STATE)]

    def final_state(self) -> list[dict]:
        """What a platform stores after the read: the last STATE of each stream, as JSON for --state."""
        latest: dict[str, dict] = {}
        for message in self.of_type(Type.STATE):
            latest[message.state.stream.stream_descriptor.name] = json.loads(message.state.json(exclude_unset=True))
        return list(latest.values())

    def bookmarks(self) -> dict[str, dict]:
        return {
            state["stream"]["stream_descriptor"]["name"]: state["stream"]["stream_state"]
            for state in self.final_state()
        }

    def errors(self) -> list:
        return [m.trace.error for m in self.of_type(Type.TRACE) if m.trace.error is not None]

    def statuses(self, stream: str) -> list[str]:
        return [
            m.trace.stream_status.status.value
            for m in self.of_type(Type.TRACE)
            if m.trace.stream_status is not None and m.trace.stream_status.stream_descriptor.name == stream
        ]

    @property
    def connection_status(self):
        (message,) = self.of_type(Type.CONNECTION_STATUS)
        return message.connectionStatus

    @property
    def catalog(self) -> dict[str, t.Any]:
        (message,) = self.of_type(Type.CATALOG)
        return {stream.name: stream for stream in message.catalog.streams}

    @property
    def spec(self):
        (message,) = self.of_type(Type.SPEC)
        return message.spec


def parse_output(stdout: str) -> list[AirbyteMessage]:
    messages = []
    for number, line in enumerate(stdout.splitlines(), start=1):
        assert line.strip(), f"stdout line {number} is empty"
        messages.append(AirbyteMessage.parse_obj(json.loads(line)))
    return messages


def configured_catalog(streams: dict[str, str]) -> dict:
    """A configured catalog: stream name -> sync mode (full_refresh / incremental)."""
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": [mode]},
                "sync_mode": mode,
                "destination_sync_mode": "append" if mode == "incremental" else "overwrite",
            }
            for name, mode in streams.items()
        ]
    }


def write_inputs(tmp: str, config: dict | None, catalog: dict | None, state: t.Any) -> list[str]:
    argv: list[str] = []
    for option, value in (("--config", config), ("--catalog", catalog), ("--state", state)):
        if value is not None:
            path = Path(tmp, option.strip("-") + ".json")
            path.write_text(json.dumps(value))
            argv += [option, str(path)]
    return argv


def run_source(
    vendor: str,
    command: str,
    *,
    config: dict | None = None,
    catalog: dict | None = None,
    state: t.Any = None,
    timeout: float = 120,
) -> SourceRun:
    """`source-<vendor> <command> ...` as a real process."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [tap_executable(profile_of(vendor).source), command, *write_inputs(tmp, config, catalog, state)]
        env = {**os.environ, **clock_env()}  # the source's today is the simulators' (tapkit/clock.py)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    return SourceRun(proc.returncode, proc.stdout, proc.stderr, parse_output(proc.stdout))


def run_in_process(
    tap_class: type, command: str, *, config: dict | None = None, catalog: dict | None = None, state: t.Any = None
) -> SourceRun:
    """The same command through `tapkit.airbyte.main` in this process: no second of start-up per run."""
    from tapkit.airbyte import main

    with tempfile.TemporaryDirectory() as tmp:
        out = io.BytesIO()
        code = main(tap_class, [command, *write_inputs(tmp, config, catalog, state)], out)
    stdout = out.getvalue().decode()
    return SourceRun(code, stdout, "", parse_output(stdout))
