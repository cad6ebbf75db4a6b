"""The main job's incremental run, the old way (`--legacy`: a `meltano run` per step) against the new (one
`meltano run` for every step), side by side on the same machine, with the phase breakdown of each.

`./scripts/benchmark-main-job [--repeat 3]`: one warm-up run first (installs if needed, discovers, loads), so
that every measured run is a second, incremental run; then legacy and new interleaved, `--repeat` times each.
Each run's wall time and phases are read from its own closing table (scripts/main_job.py `print_timings`);
the table here gives medians per phase and the ratio new / legacy.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JOB = [sys.executable, str(ROOT / "scripts" / "main_job.py")]
PHASES = ("meltano", "discovery", "tap", "target", "dbt")
WALL = re.compile(r"^Wall time ([\d.]+) s", re.M)
ALL_ROW = re.compile(r"^all\s+((?:[\d.]+\s+){5}[\d.]+)\s*$", re.M)


def run(legacy: bool, log: Path | None = None) -> dict[str, float]:
    proc = subprocess.run([*JOB, *(["--legacy"] if legacy else [])], cwd=ROOT, capture_output=True, text=True)
    if log is not None:  # the run's own output, with its table of steps by phase
        log.write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        raise SystemExit(f"main job failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    wall, totals = WALL.search(proc.stdout), ALL_ROW.search(proc.stdout)
    assert wall and totals, proc.stdout[-3000:]
    figures = dict(zip((*PHASES, "wall"), map(float, totals.group(1).split()), strict=True))
    figures["other"] = figures["wall"] - sum(figures[phase] for phase in PHASES)  # install check, report, sandbox
    figures["meltano processes"] = count_processes(proc.stdout, legacy)
    return figures


def count_processes(output: str, legacy: bool) -> int:
    steps = len(re.findall(r"^  meltano run .*: (?:ok|FAILED)", output, re.M))
    return steps if legacy else 1 + len(re.findall(r"^  block .*: FAILED", output, re.M))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-warm-up", action="store_true", help="the project has run the job before: skip the warm-up"
    )
    args = parser.parse_args()
    logs = ROOT / "output" / "benchmark-main-job"
    logs.mkdir(parents=True, exist_ok=True)
    if not args.no_warm_up:
        print("warm-up run (not measured) ...", flush=True)
        run(legacy=False)
    runs: dict[str, list[dict[str, float]]] = defaultdict(list)
    for n in range(args.repeat):
        for way in ("legacy", "new"):
            figures = run(legacy=way == "legacy", log=logs / f"{n + 1}-{way}.log")
            runs[way].append(figures)
            phases = ", ".join(f"{name} {figures[name]:.1f}" for name in (*PHASES, "other"))
            print(f"  run {n + 1} {way}: {figures['wall']:.1f} s ({phases}; output/benchmark-main-job/)", flush=True)
    print(f"\nIncremental run of ./scripts/main-job, medians of {args.repeat} (seconds):\n")
    print("| phase | legacy | new | new / legacy |")
    print("|---|---|---|---|")
    for phase in (*PHASES, "other", "wall", "meltano processes"):
        old = statistics.median(r[phase] for r in runs["legacy"])
        new = statistics.median(r[phase] for r in runs["new"])
        ratio = f"{new / old:.2f}x" if old else ""
        print(f"| {phase} | {old:.1f} | {new:.1f} | {ratio} |")
    print("\nEvery run's wall time: " + "; ".join(f"{w}: {[r['wall'] for r in rs]}" for w, rs in runs.items()))


if __name__ == "__main__":
    main()
