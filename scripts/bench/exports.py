"""The export benchmark: a tap's bucket export reader against its floor, whole processes, from memory.

`./scripts/benchmark-exports [--size MB] [--repeat N]`: the vendor profile with an `export_benchmark` says
which tap and stream, and builds one partition day of about MB megabytes of records (decompressed) in several
`.json.gz` files, once (`bench.s3_memory`, its own process, serving the bytes from memory). Then, interleaved,
N times each (default 3): the tap (its console script, only that stream selected, `s3_endpoint_url` at the
server), F0 (`bench.export_floor`) and FSDK (`bench.sdk_floor`: F0's lines through a bare singer-sdk tap, the
ceiling of a tap on singer-sdk's record path), stdout to /dev/null; medians compared, with the tap's own
`sync_duration`, CPU seconds and each process's peak RSS (VmHWM). Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sandbox.profiles import all_profiles

SCRIPTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SCRIPTS))  # run as a script: the benchmark's helpers beside it
from benchmark import BIN, MB, TARGET_RATIO, TARGET_RSS_MB, metric_total, timed  # noqa: E402

from bench.s3_memory import export_benchmark  # noqa: E402


def tap_name() -> str:
    return next(profile.tap for profile in all_profiles() if profile.export_benchmark is not None)


def catalog_selecting(exe: str, config: Path, stream: str) -> dict:
    catalog = json.loads(
        subprocess.run([exe, "--config", str(config), "--discover"], capture_output=True, check=True).stdout
    )
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


def stream_schema(catalog: dict, stream: str) -> dict:
    return next(entry["schema"] for entry in catalog["streams"] if entry["tap_stream_id"] == stream)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100, help="MB of records (decompressed) in the day; 1024: 1 GB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="also write a cProfile of one more tap run to FILE")
    args = parser.parse_args()
    bench, tap = export_benchmark(), tap_name()
    exe = str(BIN / tap)
    load_before = os.getloadavg()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.s3_memory", str(args.size)], cwd=SCRIPTS, stdout=subprocess.PIPE, text=True
    )
    try:
        shape = json.loads(server.stdout.readline())  # type: ignore[union-attr]  # after the one build
        work = Path(tempfile.mkdtemp(prefix="export-bench-"))
        config = work / "config.json"
        config.write_text(json.dumps({**bench.settings(shape["url"]), "request_timeout": 600}))
        catalog = work / "catalog.json"
        catalog.write_text(json.dumps(catalog_selecting(exe, config, bench.stream)))
        tap_command = [exe, "--config", str(config), "--catalog", str(catalog)]
        floor_command = [
            sys.executable, "-m", "bench.export_floor", shape["url"], bench.bucket, shape["folder"], bench.stream,
        ]  # fmt: skip
        schema = work / "schema.json"
        schema.write_text(json.dumps(stream_schema(json.loads(catalog.read_text()), bench.stream)))
        sdk_command = [
            sys.executable, "-m", "bench.sdk_floor", "export", shape["url"], bench.bucket, shape["folder"],
            bench.stream, str(schema),
        ]  # fmt: skip
        runs: dict[str, list] = {"tap": [], "F0": [], "FSDK": []}
        for _ in range(args.repeat):  # interleaved: tap, F0, FSDK, tap, F0, FSDK ...
            seconds, cpu, rss = timed(tap_command, stderr_path=work / "tap.stderr")
            text = (work / "tap.stderr").read_text()
            records = int(metric_total(text, "record_count", bench.stream))
            runs["tap"].append((seconds, cpu, rss, records, metric_total(text, "sync_duration", bench.stream)))
            seconds, cpu, rss = timed(floor_command, cwd=SCRIPTS, stderr_path=work / "floor.stderr")
            runs["F0"].append((seconds, cpu, rss, int((work / "floor.stderr").read_text().split()[-1]), 0.0))
            seconds, cpu, rss = timed(sdk_command, cwd=SCRIPTS, stderr_path=work / "sdk.stderr")
            count, sync = (work / "sdk.stderr").read_text().split()[-2:]
            runs["FSDK"].append((seconds, cpu, rss, int(count), float(sync)))
        if args.profile:
            subprocess.run(
                [sys.executable, "-m", "cProfile", "-o", args.profile, exe, *tap_command[1:]],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
            )  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    print(table(tap, bench.stream, args.size, shape, runs, load_before, os.getloadavg()))


def table(tap: str, stream: str, size: int, shape: dict, runs: dict, before: tuple, after: tuple) -> str:
    def median(name: str, field: int) -> float:
        return statistics.median(run[field] for run in runs[name])

    tap_s, floor_s, sdk_s = median("tap", 0), median("F0", 0), median("FSDK", 0)
    tap_cpu, floor_cpu = median("tap", 1), median("F0", 1)
    counts = {run[3] for name in runs for run in runs[name]}
    records = f"{shape['records']:,}" + ("" if counts == {shape["records"]} else f" (runs: {sorted(counts)})")
    ratio, rss = floor_s / tap_s, max(run[2] for run in runs["tap"])
    label = f"{size:g} MB" if size < 1024 else f"{size / 1024:g} GB"
    rows = [
        "| tap | stream | day | files | records | compressed MB | decompressed MB | tap s (sync s) | F0 s | "
        "FSDK s (sync s) | x F0 | x FSDK | FSDK x F0 | CPU x F0 | records/s (sync) | MB/s | tap peak RSS | "
        "F0 peak RSS | x F0 met | RSS met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {tap} | {stream} | {label} | {shape['files']} | {records} | {shape['compressed'] / MB:.1f} | "
        f"{shape['decompressed'] / MB:.1f} | {tap_s:.2f} ({median('tap', 4):.2f}) | {floor_s:.2f} | "
        f"{sdk_s:.2f} ({median('FSDK', 4):.2f}) | {ratio:.2f}x | {sdk_s / tap_s:.2f}x | {floor_s / sdk_s:.2f}x | "
        f"{floor_cpu / tap_cpu:.2f}x | {shape['records'] / tap_s:,.0f} ({shape['records'] / median('tap', 4):,.0f}) | "
        f"{shape['decompressed'] / MB / tap_s:.1f} | {rss:.0f} MB | {max(run[2] for run in runs['F0']):.0f} MB | "
        f"{'yes' if ratio >= TARGET_RATIO else '**no**'} | {'yes' if rss < TARGET_RSS_MB else '**no**'} |",
    ]
    loads = f"load average {before[0]:.1f} before, {after[0]:.1f} after"
    return "\n".join(rows) + f"\n\nMedians of {len(runs['tap'])}, interleaved; {loads}.\n"


if __name__ == "__main__":
    main()
