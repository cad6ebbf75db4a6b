"""The main job: every tap through `meltano run` into DuckDB, against the local sandbox, then the dbt
project (`meltano run dbt-duckdb:build`: staging models, marts and their tests).

Prints, per loaded table, the records extracted by this run and the rows now in the warehouse,
and per vendor the HTTP requests this run made: run it twice and the second run is visibly
incremental (fewer records and requests, the same rows). Ends with a headline table read from the marts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb

from sandbox.core import Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from headline import headline  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"
WAREHOUSE = OUTPUT / "warehouse.duckdb"
PREFERRED_PORT = 8765
DBT_DONE = re.compile(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)")
METRIC = re.compile(r'METRIC: (\{.*"metric":"record_count".*\})')
SANDBOX_SETTINGS = {"voyado.instant": True}  # a single run completes Voyado's export lifecycle


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]


def extractors() -> list[str]:
    return sorted(
        path.name for path in (ROOT / "taps").glob("tap-*") if (path / path.name.replace("-", "_") / "tap.py").exists()
    )


def warehouse_counts() -> dict[tuple[str, str], int]:
    if not WAREHOUSE.exists():
        return {}
    with duckdb.connect(str(WAREHOUSE), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_schema like 'tap_%'"
        ).fetchall()
        return {(s, t): conn.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def extracted_records(log: str) -> Counter:
    counts: Counter = Counter()
    for match in METRIC.finditer(log):
        metric = json.loads(match.group(1))
        counts[metric["tags"]["stream"]] += metric["value"]
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tap", action="append", help="run only this tap (repeatable)")
    args = parser.parse_args()
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "logs").mkdir(exist_ok=True)
    meltano = str(Path(sys.executable).parent / "meltano")
    taps = args.tap or extractors()

    sandbox = Sandbox(port=free_port(PREFERRED_PORT))
    sandbox.settings.update(SANDBOX_SETTINGS)
    sandbox.start()
    start_date = (sandbox.today() - dt.timedelta(days=7)).isoformat()
    env = {
        **os.environ,
        "CONSENT_SANDBOX_URL": sandbox.base_url,
        "CONSENT_SANDBOX_START_DATE": start_date,
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "1",
    }
    print(f"Sandbox serving on {sandbox.base_url}; extracting from {start_date}.")
    try:
        subprocess.run([meltano, "install", "--plugin-type", "extractor"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([meltano, "install", "target-duckdb", "dbt-duckdb"], cwd=ROOT, env=env, check=True, capture_output=True)
        failed: list[str] = []
        extracted: dict[str, Counter] = {}
        requests: Counter = Counter()
        for tap in taps:
            vendor = tap.removeprefix("tap-")
            before = sandbox.count(vendor)
            started = time.monotonic()
            proc = subprocess.run(
                [meltano, "run", tap, "target-duckdb"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            log = proc.stdout + proc.stderr
            (OUTPUT / "logs" / f"{tap}.log").write_text(log)
            extracted[tap] = extracted_records(log)
            requests[tap] = sandbox.count(vendor) - before
            status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode}, see output/logs/{tap}.log)"
            print(f"  meltano run {tap} target-duckdb: {status} in {time.monotonic() - started:.1f} s")
            if proc.returncode:
                failed.append(tap)
        started = time.monotonic()
        proc = subprocess.run([meltano, "run", "dbt-duckdb:build"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        (OUTPUT / "logs" / "dbt-duckdb.log").write_text(proc.stdout + proc.stderr)
        summary = DBT_DONE.search(proc.stdout + proc.stderr)
        status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode}, see output/logs/dbt-duckdb.log)"
        print(f"  meltano run dbt-duckdb:build: {status} in {time.monotonic() - started:.1f} s" + (f" ({summary.group(1)})" if summary else ""))
        if proc.returncode:
            failed.append("dbt-duckdb:build")
        today = sandbox.today()
    finally:
        sandbox.stop()

    counts = warehouse_counts()
    print(f"\nWarehouse {WAREHOUSE.relative_to(ROOT)}:\n")
    header = f"{'table':<48} {'extracted this run':>18} {'rows in warehouse':>18}"
    print(header)
    print("-" * len(header))
    for tap in taps:
        schema = tap.replace("-", "_")
        tables = sorted(table for (s, table) in counts if s == schema)
        for table in tables:
            print(f"{schema + '.' + table:<48} {extracted[tap].get(table, 0):>18} {counts[(schema, table)]:>18}")
        print(f"{'  ' + tap + ': HTTP requests this run':<48} {requests[tap]:>18}")
    if "dbt-duckdb:build" not in failed:
        print(headline(WAREHOUSE, today))
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
