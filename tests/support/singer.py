"""Run a tap as users do (its console script, a real process) and read its Singer output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.live import clock_env


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict] = field(default_factory=list)

    def records(self, stream: str | None = None) -> list[dict]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and stream in (None, m["stream"])]

    def counts(self) -> Counter:
        return Counter(m["stream"] for m in self.messages if m["type"] == "RECORD")

    def schemas(self) -> dict[str, dict]:
        return {m["stream"]: m for m in self.messages if m["type"] == "SCHEMA"}

    @property
    def last_state(self) -> dict | None:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else None

    @property
    def last_stderr_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def tap_executable(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def run_tap(
    name: str,
    config: dict,
    *,
    state: dict | None = None,
    catalog: dict | None = None,
    args: t.Sequence[str] = (),
    timeout: float = 300,
    env: dict | None = None,
) -> TapRun:
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp, "config.json")
        config_path.write_text(json.dumps(config))
        command = [tap_executable(name), "--config", str(config_path), *args]
        if state is not None:
            Path(tmp, "state.json").write_text(json.dumps(state))
            command += ["--state", str(Path(tmp, "state.json"))]
        if catalog is not None:
            Path(tmp, "catalog.json").write_text(json.dumps(catalog))
            command += ["--catalog", str(Path(tmp, "catalog.json"))]
        environment = {**os.environ, **clock_env(), **(env or {})}  # the tap's today is the simulators'
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, check=False)
    messages = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return TapRun(proc.returncode, proc.stdout, proc.stderr, messages)
