"""One partition = one `meltano run <tap> <loader> --state-id-suffix=<partition>`, as a subprocess.

The project's Meltano runs from the project root with the caller's environment (state backend, secrets,
warehouse settings) plus the partition's narrowed setting. The tap's record counts come from singer-sdk's
`record_count` metrics in the run's log, so a rerun shows how much less it read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from consent_orchestrate.partitions import Partition

_METRIC = re.compile(r'METRIC: (\{.*?"metric": ?"record_count".*?\})\s*$', re.MULTILINE)


@dataclass
class RunResult:
    state_id: str
    returncode: int
    records: int
    log_tail: str


def meltano_bin(project_root: Path) -> str:
    return os.environ.get("MELTANO_BIN") or str(project_root / ".venv" / "bin" / "meltano")


def state_id(partition: Partition, loader: str, environment: str) -> str:
    return f"{environment}:{partition.tap}-to-{loader}:{partition.name}"


def run_partition(
    partition: Partition, *, project_root: Path, loader: str, environment: str, timeout: float
) -> RunResult:
    env = {**os.environ, **partition.env, "MELTANO_ENVIRONMENT": environment}
    for setting_variable, key_variable in partition.secret_env.items():
        if key_variable not in os.environ:
            raise RuntimeError(f"{partition.tap} account {partition.name!r}: set {key_variable} (its API key)")
        env[setting_variable] = os.environ[key_variable]
    proc = subprocess.run(
        [meltano_bin(project_root), "run", f"--state-id-suffix={partition.name}", partition.tap, loader],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    log = proc.stdout + proc.stderr
    return RunResult(state_id(partition, loader, environment), proc.returncode, _records(log), log[-4000:])


def _records(log: str) -> int:
    total = 0
    for match in _METRIC.finditer(log):
        try:
            total += int(json.loads(match.group(1))["value"])
        except (ValueError, KeyError):
            continue
    return total
