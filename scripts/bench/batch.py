"""RECORD against BATCH, end to end: tap plus MeltanoLabs target-postgres into PostgreSQL, side by side.

`./scripts/benchmark-batch [--tap VENDOR] [--size 100] [--repeat 3]`: the tap's largest-stream case of
scripts/benchmark.py (default: the first vendor profile with a single large answer): one answer of about
`--size` MB, recorded once from the sandbox and served from memory by the replay server, then, interleaved,
`tap | target-postgres` with RECORD messages and with a `batch_config` (jsonl, gzip), each into a fresh
database of one embedded PostgreSQL server. Wall time of the whole pipe (both processes), medians; the rows
in the table are counted after each run and must be the tap's records. target-postgres is the project's
pinned one (meltano.yml), installed by Meltano if missing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(ROOT))

import benchmark  # noqa: E402  (scripts/benchmark.py: the cases, the recording, the replay)

from bench.replay import Replay  # noqa: E402

TARGET = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
MB = 1024 * 1024


def target_postgres() -> Path:
    if not TARGET.exists():
        meltano = str(Path(sys.executable).parent / "meltano")
        subprocess.run([meltano, "install", "target-postgres"], cwd=ROOT, check=True, capture_output=True)
    return TARGET


def pipe(tap: benchmark.TapRun, config: Path, target_config: Path, log: Path) -> float:
    """Seconds of `tap | target-postgres`, both processes to their end."""
    started = time.perf_counter()
    with log.open("wb") as errors:
        producer = subprocess.Popen(
            [tap.exe, "--config", str(config), "--catalog", str(tap.catalog_path)],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        consumer = subprocess.run(
            [str(TARGET), "--config", str(target_config)],
            stdin=producer.stdout,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        assert producer.stdout is not None
        producer.stdout.close()
        producer.wait()
    seconds = time.perf_counter() - started
    if producer.returncode or consumer.returncode:
        raise SystemExit(f"pipe failed (tap {producer.returncode}, target {consumer.returncode}): see {log}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=float, default=100, help="MB of the one answer (default 100)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--tap", help="the vendor whose largest stream is measured (default: the first with one large answer)"
    )
    parser.add_argument("--batch-size", type=int, default=100_000, help="records per batch file")
    args = parser.parse_args()
    from tests.pipelines.postgres import fresh_server

    target_postgres()
    vendors = [args.tap] if args.tap else list(benchmark.VENDOR_PROFILES)
    case = next(c for c in benchmark.cases([args.size], vendors, many_pages=False) if c.target_mb)
    schema, stream = f"tap_{case.vendor}", case.stream
    scratch = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    simulator = benchmark.Simulator()
    directory = scratch / "answers"
    print(f"Recording one ~{args.size:g} MB answer of tap-{case.vendor} {stream} ...", flush=True)
    tap, shape = benchmark.build(simulator, case, directory)
    simulator.sandbox.stop()
    replay = Replay(directory)
    runs: dict[str, list[float]] = {"RECORD": [], "BATCH": []}
    rows: dict[str, set[int]] = {"RECORD": set(), "BATCH": set()}
    try:
        tap.write_config(replay.url)
        base = json.loads(tap.config_path.read_text())
        configs = {"RECORD": tap.config_path, "BATCH": scratch / "config-batch.json"}
        batch_root = scratch / "batches"
        batch_root.mkdir()
        configs["BATCH"].write_text(
            json.dumps(
                {
                    **base,
                    "batch_config": {
                        "encoding": {"format": "jsonl", "compression": "gzip"},
                        "storage": {"root": f"file://{batch_root}", "prefix": f"{stream}-"},
                        "batch_size": args.batch_size,
                    },
                }
            )
        )
        with fresh_server() as postgres:
            for n in range(args.repeat):
                for mode in ("RECORD", "BATCH"):  # interleaved
                    database = postgres.create_database()
                    target_config = scratch / "target.json"
                    target_config.write_text(
                        json.dumps(
                            {
                                "sqlalchemy_url": postgres.sqlalchemy_url(database),
                                "default_target_schema": schema,
                                "add_record_metadata": True,
                            }
                        )
                    )
                    replay.reset()
                    seconds = pipe(tap, configs[mode], target_config, scratch / f"{mode}.log")
                    loaded = postgres.table_counts(database, schema).get(stream, 0)
                    runs[mode].append(seconds)
                    rows[mode].add(loaded)
                    print(f"  run {n + 1} {mode}: {seconds:.1f} s, {loaded:,} rows in {stream}", flush=True)
                    for spent in batch_root.glob("*"):
                        spent.unlink()
    finally:
        replay.stop()
    record_s, batch_s = statistics.median(runs["RECORD"]), statistics.median(runs["BATCH"])
    size = shape["content"] / MB
    print(f"\n{stream}, 1 answer of {size:.1f} MB, tap | target-postgres, medians of {args.repeat}:\n")
    print("| messages | rows loaded | seconds | records/s | MB/s | x RECORD |")
    print("|---|---|---|---|---|---|")
    for mode, seconds in (("RECORD", record_s), ("BATCH", batch_s)):
        count = max(rows[mode])
        print(
            f"| {mode} | {', '.join(f'{r:,}' for r in sorted(rows[mode]))} | {seconds:.1f} | {count / seconds:,.0f} "
            f"| {size / seconds:.2f} | {record_s / seconds:.2f}x |"
        )
    if rows["RECORD"] != rows["BATCH"] or len(rows["RECORD"]) != 1:
        raise SystemExit(f"rows differ between runs: {rows}")


if __name__ == "__main__":
    main()
