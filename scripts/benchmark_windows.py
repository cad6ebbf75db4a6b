"""Concurrent day windows (issue 17, part 3) and partitions (issue 28): a tap's date-ranged streams over 30 days,
or one stream's partitions (the vendor profiles' `day_windows` and `concurrent_partitions`), against the sandbox
at 200 ms per request, whole-process wall time with max_concurrency=1 and with N, side by side, in one run.

    uv run python scripts/benchmark_windows.py [--concurrency 4 8] [--days 30] [--latency 0.2] [--repeat 1]

Each run is the tap's console script from spawn to exit (start-up included: what a user waits for, with
compiled bytecode as an installed package has it, see bench.bytecode;
the streams' own sync time, singer-sdk's `sync_duration`, is shown beside it), with a catalog that
selects only the date-ranged streams (discovered once, before any timing). The records (clocks aside:
`time_extracted`, a snapshot's `version`) and the final state (the SDK's run-start signpost and a scan's
`saved_at` aside) of every concurrent run are
compared with the sequential run's. With --repeat, the runs are interleaved and the median is shown.
Numbers, not pass/fail: the target (>= 3.5x) is printed next to them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import requests

from sandbox.profiles import all_profiles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench.bytecode import cache_bytecode_for_children

BIN = Path(sys.executable).parent
TODAY = dt.datetime.now(dt.UTC).date()
TARGET = 3.5


@dataclass(frozen=True)
class WindowedTap:
    name: str  # console script
    vendor: str  # sandbox app
    streams: tuple[str, ...]  # the date-ranged streams (the catalog selects only these)
    config: dict  # settings besides api_url and the window
    note: str
    sandbox_settings: dict = field(default_factory=dict)  # the simulator's settings besides size and latency
    url_settings: t.Callable[[str], dict] = lambda _vendor_url: {}  # settings naming the simulator besides api_url


def windowed_taps() -> dict[str, WindowedTap]:
    """The taps whose vendor profile lists date-ranged streams or a partitioned stream to fetch concurrently,
    by vendor (a profile has at most one of the two)."""
    taps = {}
    for vendor in all_profiles():
        credentials = {name: f"bench-{name}" for name in vendor.secrets}
        if vendor.day_windows:
            windows = vendor.day_windows
            taps[vendor.vendor] = WindowedTap(
                vendor.tap,
                vendor.vendor,
                windows.streams,
                {**credentials, **windows.config},
                windows.note,
                url_settings=vendor.url_settings,
            )
        elif vendor.concurrent_partitions:
            parts = vendor.concurrent_partitions
            taps[vendor.vendor] = WindowedTap(
                vendor.tap,
                vendor.vendor,
                (parts.stream,),
                {**credentials, **parts.config},
                parts.note,
                parts.sandbox_settings,
            )
    return taps


TAPS = windowed_taps()


class Sandbox:
    """The sandbox in its own process (no GIL shared with the timing), driven over HTTP."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    def control(self, action: str, payload: dict | None = None) -> None:
        requests.post(f"{self.url}/_sandbox/{action}", json=payload or {}, timeout=30).raise_for_status()

    def configure(self, latency: float, settings: dict | None = None) -> None:
        self.control("reset")
        self.control("settings", {"size": 1, "latency": latency, **(settings or {})})

    def requests_made(self) -> int:
        return len(requests.get(f"{self.url}/_sandbox/requests", timeout=30).json())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def catalog_of(tap: WindowedTap, config_path: Path) -> dict:
    found = subprocess.run(
        [str(BIN / tap.name), "--config", str(config_path), "--discover"], capture_output=True, check=True
    )
    catalog = json.loads(found.stdout)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in tap.streams
    return catalog


#: what a clock decides: the extraction time, the SDK's run-start signpost, a snapshot's version (the run's start in
#: milliseconds: tapkit.snapshot) and when a scan's cursor was saved (tap-lytics)
CLOCKS = ("time_extracted", "replication_key_signpost", "version", "saved_at")


def without_clocks(value):
    if isinstance(value, dict):
        return {k: without_clocks(v) for k, v in value.items() if k not in CLOCKS}
    if isinstance(value, list):
        return [without_clocks(item) for item in value]
    return value


@dataclass
class Run:
    seconds: float
    sync_seconds: float  # singer-sdk's sync_duration of the date-ranged streams: no start-up, no discovery
    records: list  # RECORD messages, clocks aside, in the order emitted
    state: dict
    requests: int


def run_once(tap: WindowedTap, sandbox: Sandbox, workdir: Path, config: dict, latency: float) -> Run:
    sandbox.configure(latency, tap.sandbox_settings)
    config_path = workdir / f"config-{config['max_concurrency']}.json"
    config_path.write_text(json.dumps(config))
    command = [str(BIN / tap.name), "--config", str(config_path), "--catalog", str(workdir / "catalog.json")]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if proc.returncode:
        sys.exit(f"{tap.name} failed (max_concurrency={config['max_concurrency']}): {proc.stderr[-2000:]}")
    messages = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    records = [without_clocks(m) for m in messages if m["type"] == "RECORD"]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    sync_seconds = sum(sync_duration(proc.stderr, stream) for stream in tap.streams)
    return Run(seconds, sync_seconds, records, without_clocks(states[-1] if states else {}), sandbox.requests_made())


def sync_duration(stderr: str, stream: str) -> float:
    """Sum of singer-sdk's `sync_duration` METRIC lines of one stream (one per partition)."""
    total = 0.0
    for line in stderr.splitlines():
        if '"metric":"sync_duration"' in line and f'"stream":"{stream}"' in line:
            total += json.loads(line.split("METRIC: ", 1)[1])["value"]
    return total


def benchmark(tap: WindowedTap, sandbox: Sandbox, concurrencies: list[int], days: int, latency: float, repeat: int):
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        base = {
            **tap.config,
            "api_url": f"{sandbox.url}/{tap.vendor}",
            **tap.url_settings(f"{sandbox.url}/{tap.vendor}"),
            "start_date": (TODAY - dt.timedelta(days=days - 1)).isoformat(),
            "end_date": TODAY.isoformat(),
        }
        (workdir / "discover.json").write_text(json.dumps({**base, "max_concurrency": 1}))
        sandbox.configure(0.0, tap.sandbox_settings)
        (workdir / "catalog.json").write_text(json.dumps(catalog_of(tap, workdir / "discover.json")))
        runs: dict[int, list[Run]] = {n: [] for n in [1, *concurrencies]}
        for _ in range(repeat):  # interleaved: a slow moment of the machine hits every setting alike
            for n in runs:
                runs[n].append(run_once(tap, sandbox, workdir, {**base, "max_concurrency": n}, latency))
    sequential = runs[1][0]
    rows = []
    for n in concurrencies:
        seq = statistics.median(run.seconds for run in runs[1])
        con = statistics.median(run.seconds for run in runs[n])
        seq_sync = statistics.median(run.sync_seconds for run in runs[1])
        con_sync = statistics.median(run.sync_seconds for run in runs[n])
        same_records = all(run.records == sequential.records for run in runs[n] + runs[1])
        same_state = all(run.state == sequential.state for run in runs[n] + runs[1])
        rows.append((n, seq, con, seq / con, seq_sync, con_sync, same_records, same_state))
    return sequential, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tap", choices=sorted(TAPS), action="append", help="default: every tap listed")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8], help="the N to compare with 1")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the sandbox adds to each request")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting (the median is shown)")
    parser.add_argument(
        "--no-bytecode-cache", action="store_true", help="every tap process compiles its modules again (as before)"
    )
    args = parser.parse_args()
    if not args.no_bytecode_cache:
        cache_bytecode_for_children()  # filled by the untimed discovery (bench.bytecode says why)
    sandbox = Sandbox()
    try:
        print(
            f"{args.days} days x date-ranged streams at {args.latency * 1000:.0f} ms per request; whole-process wall "
            f"time of the tap (start-up included), median of {args.repeat}; target >= {TARGET}x\n"
        )
        print(
            "| tap | streams | requests | records | N | process, max_concurrency=1 | process, =N | ratio "
            "| streams' sync, =1 | streams' sync, =N | sync ratio | records identical | final state identical "
            "| target met (process) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        notes = []
        for name in args.tap or sorted(TAPS):
            tap = TAPS[name]
            sequential, rows = benchmark(tap, sandbox, args.concurrency, args.days, args.latency, args.repeat)
            for n, seq, con, ratio, seq_sync, con_sync, same_records, same_state in rows:
                print(
                    f"| {tap.name} | {len(tap.streams)} | {sequential.requests} | {len(sequential.records)} | {n} | "
                    f"{seq:.2f} s | {con:.2f} s | {ratio:.2f}x | {seq_sync:.2f} s | {con_sync:.2f} s | "
                    f"{seq_sync / con_sync:.2f}x | {'yes' if same_records else 'NO'} | "
                    f"{'yes' if same_state else 'NO'} | {'yes' if ratio >= TARGET else 'no'} |",
                    flush=True,
                )
            notes.append(f"{tap.name}: {tap.note}.")
        print("\n" + "\n".join(notes))
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
