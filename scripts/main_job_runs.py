"""How the main job runs its steps (each tap into DuckDB, then dbt): in one `meltano run`, or one process per step.

Meltano's own start-up (Python, the project, the plugins' definitions, the state backend) took 4-9 s per
`meltano run` on this machine, the largest share of an incremental run's wall time; one `meltano run` with
every step as a block pays it once. Meltano runs blocks in order and aborts the run at the first block
that fails, so a failing tap would stop the others: when the run fails, the blocks that completed are
kept (Meltano saved their state), the failing one is reported, and the blocks after it run again in a
new `meltano run`. One failing tap costs one more start-up, never another tap's load.

A step's log is its part of the run's log: Meltano ends each block with "Block run completed", logged at
level `info` when the block succeeded and `error` when it failed (then the run stops).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
import typing as t
from pathlib import Path

DBT_STEP = "dbt-duckdb:build"
LOADER = "target-duckdb"
BLOCK_DONE = "Block run completed"
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \[(\w+)\s*\] (\S+)\s+(.*)$")


class Step(t.NamedTuple):
    name: str  # a tap, or DBT_STEP
    command: str  # what the job prints: `meltano run tap-x target-duckdb`, or `block tap-x target-duckdb` of one run
    returncode: int
    log: str
    started: float  # wall clock (time.time()) at the step's start, and at its end
    ended: float

    @property
    def tap(self) -> str | None:
        return None if self.name == DBT_STEP else self.name


def blocks(step: str) -> list[str]:
    return [step] if step == DBT_STEP else [step, LOADER]


def command(step: str) -> str:
    return "meltano run " + " ".join(blocks(step))


def block(step: str) -> str:
    return "block " + " ".join(blocks(step))


def one_process_per_step(meltano: str, root: Path, steps: list[str], env: dict) -> t.Iterator[Step]:
    """The way before issue 28 (`--legacy`): a `meltano run` per step."""
    for step in steps:
        started = time.time()
        proc = subprocess.run(
            [meltano, "run", *blocks(step)], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        yield Step(step, command(step), proc.returncode, proc.stdout + proc.stderr, started, time.time())


def one_process(meltano: str, root: Path, steps: list[str], env: dict) -> t.Iterator[Step]:
    """Every step as a block of one `meltano run`; after a failing block, the rest in a new one."""
    remaining = list(steps)
    while remaining:
        started = time.time()
        proc = subprocess.run(
            [meltano, "run", *(block for step in remaining for block in blocks(step))],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        ended = time.time()
        parts = split_blocks(proc.stdout + proc.stderr)
        done = len(parts) - 1  # the last part: a failed block's lines, or Meltano's wrap-up
        if done and not parts[done - 1][2]:  # the last block that ended failed
            done -= 1
            parts = [*parts[:done], (parts[done][0] + parts[done + 1][0], None, False)]
        step_started = started
        for n, (step, (log, finished, _)) in enumerate(zip(remaining[:done], parts[:done], strict=True)):
            last = n == done - 1 and proc.returncode == 0  # Meltano's wrap-up goes with the last step
            step_ended = ended if last or finished is None else finished
            yield Step(step, block(step), 0, log + (parts[-1][0] if last else ""), step_started, step_ended)
            step_started = step_ended
        if proc.returncode == 0 and done == len(remaining):
            return
        if done >= len(remaining):  # every block completed, and yet the run failed: no step to blame
            raise RuntimeError(f"meltano run failed after its last block (exit {proc.returncode})")
        yield Step(remaining[done], block(remaining[done]), proc.returncode or 1, parts[-1][0], step_started, ended)
        remaining = remaining[done + 1 :]


def split_blocks(log: str) -> list[tuple[str, float | None, bool]]:
    """The log cut after each "Block run completed" line: (lines, that line's time, whether the block
    succeeded); the last part: the lines after the last such line (None, False)."""
    parts: list[tuple[str, float | None, bool]] = []
    current: list[str] = []
    for line in log.splitlines(keepends=True):
        current.append(line)
        match = LOG_LINE.match(line)
        if match and match.group(3) == "meltano" and match.group(4).startswith(BLOCK_DONE):
            at = dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC).timestamp()
            parts.append(("".join(current), at, match.group(2) == "info"))
            current = []
    parts.append(("".join(current), None, False))
    return parts
