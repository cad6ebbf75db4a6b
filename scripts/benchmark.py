"""Benchmarks of the five taps against pre-built answers served from memory; writes docs/benchmarks.md.

For each case (a tap's largest stream, one answer of 5 MB / 100 MB / 1 GB, or many small pages; and each
stream that keeps a structure per answer, at the same sizes, for its peak RSS):
1. the sandbox generates the answers once, untimed: the tap runs once through a recording proxy
   (`bench.replay.Recorder`) that keeps every answer's bytes;
2. a replay server in its own process loads those bytes into memory and serves them, with
   `Content-Length`, to the tap and to the floors alike (`bench.replay`);
3. the tap (its console script with a catalog selecting only that stream, stdout to /dev/null), the
   floors F0 and F1 (`bench.floor`) and FSDK (`bench.sdk_floor`) run as whole processes, interleaved, three
   times each; the medians are compared (what a user waits for), beside the stream's sync time from the tap's own
   `sync_duration` metric, and the tap's peak RSS (VmHWM).

Start-up: `tap-x --about` against a bare `python -c "import singer_sdk"`, interleaved, in the same run.
Not a test: numbers, not pass/fail (the targets are shown next to them).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench.bytecode import cache_bytecode_for_children
from bench.replay import Recorder, Replay

from sandbox.core import Sandbox
from sandbox.profiles import BenchStream, VendorProfile, all_profiles

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
BIN = Path(sys.executable).parent
MB = 1024 * 1024
REPEATS = 3
TARGET_RATIO, TARGET_RSS_MB, TARGET_STARTUP = 0.5, 150, 1.2


@dataclasses.dataclass
class Case:
    vendor: str
    stream: str
    root: str  # the stream whose sync_duration covers it (itself, or its parent)
    label: str  # "5 MB", "many pages" ...
    settings: dict  # sandbox switches
    config: dict  # tap settings (besides api_url and credentials)
    pages: str  # regex of the targets that carry the stream's records
    target_mb: float | None = None  # one answer of about this size (None: many pages)
    size_setting: str | None = None  # the sandbox setting that sizes one answer (with target_mb)


#: the profiles of the taps with benchmark cases, in the project's order
VENDOR_PROFILES = {
    vendor_profile.vendor: vendor_profile for vendor_profile in all_profiles() if vendor_profile.benchmark
}


def bench_case(
    vendor_profile: VendorProfile, bench: BenchStream, label: str, settings: dict, config: dict, **size
) -> Case:
    return Case(
        vendor_profile.vendor, bench.stream, bench.timed_by, label, settings, config, bench.records_path, **size
    )


def cases(sizes: list[float], vendors: list[str], many_pages: bool = True) -> list[Case]:
    out = []
    for vendor in vendors:
        vendor_profile = VENDOR_PROFILES[vendor]
        benchmark = vendor_profile.benchmark
        assert benchmark is not None
        largest = benchmark.largest
        base = largest.settings()
        if largest.size_setting is not None:  # else no single answer is that big (`no_single_answer` says why)
            for size in sizes:
                label = f"{size:g} MB" if size < 1024 else f"{size / 1024:g} GB"
                for bench in (largest, *benchmark.large_answers):
                    out.append(
                        bench_case(
                            vendor_profile,
                            bench,
                            label,
                            {},
                            bench.settings(),
                            target_mb=size,
                            size_setting=bench.size_setting,
                        )
                    )
        if not many_pages:
            continue
        config = {**base, **benchmark.many_pages_settings()}
        pages = benchmark.many_pages_stream or largest
        out.append(bench_case(vendor_profile, pages, "many pages", benchmark.many_pages_sandbox, config))
    return out


# -- processes -------------------------------------------------------------------------------------------


def high_water_mark_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)


def timed(
    command: list[str], *, cwd: Path | None = None, stderr_path: Path | None = None
) -> tuple[float, float, float]:
    """Wall seconds of the whole process, its CPU seconds (user + system) and its peak RSS in MB."""
    err = stderr_path.open("wb") if stderr_path else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
    peak = 0
    while True:  # VmHWM: the process's own high-water mark; wait4: its own CPU time
        peak = max(peak, high_water_mark_kb(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stderr_path:
        err.close()  # type: ignore[union-attr]
    if proc.returncode:
        tail = stderr_path.read_text()[-3000:] if stderr_path else ""
        raise SystemExit(f"{' '.join(command[:2])} failed (exit {proc.returncode}):\n{tail}")
    # not ru_maxrss: on Linux a forked child starts with its parent's high-water mark (this process holds
    # the simulator); VmHWM belongs to the exec'd program alone
    return seconds, usage.ru_utime + usage.ru_stime, peak / 1024


def metric_total(stderr: str, metric: str, stream: str) -> float:
    total = 0.0
    for line in stderr.splitlines():
        if f'"metric":"{metric}"' in line and f'"stream":"{stream}"' in line:
            total += json.loads(line.split("METRIC: ", 1)[1])["value"]
    return total


class TapRun:
    """A tap's config and catalog (only `stream` selected) for one base URL."""

    def __init__(self, case: Case, base_url: str, workdir: Path) -> None:
        self.case, self.workdir = case, workdir
        self.vendor_profile = VENDOR_PROFILES[case.vendor]
        self.exe = str(BIN / self.vendor_profile.tap)
        self.config_path = workdir / "config.json"
        self.write_config(base_url)
        catalog = json.loads(
            subprocess.run(
                [self.exe, "--config", str(self.config_path), "--discover"], capture_output=True, check=True
            ).stdout
        )
        self.schema: dict = {}
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["selected"] = entry["tap_stream_id"] == case.stream
            if entry["tap_stream_id"] == case.stream:
                self.schema = entry["schema"]
        self.catalog_path = workdir / "catalog.json"
        self.catalog_path.write_text(json.dumps(catalog))

    def write_config(self, base_url: str) -> None:
        config = self.vendor_profile.sandbox_config(base_url, self.case.config, secret=lambda name: f"bench-{name}")
        config["request_timeout"] = 1800  # the simulator takes minutes to build 1 GB while recording
        for folder in self.vendor_profile.run_folders:  # a fresh folder for each run
            config[folder] = tempfile.mkdtemp(prefix=f"{self.case.vendor}-bench-", dir=self.workdir)
        self.config_path.write_text(json.dumps(config))

    def run(self) -> tuple[float, float, float, int, float]:
        """(whole-process seconds, peak RSS MB, sync seconds, records, CPU seconds)."""
        if self.vendor_profile.run_folders:  # a fresh folder each run
            self.write_config(json.loads(self.config_path.read_text())["api_url"].rsplit("/", 1)[0])
        stderr = self.workdir / "tap.stderr"
        seconds, cpu, rss = timed(
            [self.exe, "--config", str(self.config_path), "--catalog", str(self.catalog_path)], stderr_path=stderr
        )
        text = stderr.read_text()
        records = int(metric_total(text, "record_count", self.case.stream))
        return seconds, rss, metric_total(text, "sync_duration", self.case.root), records, cpu


# -- building the answers ----------------------------------------------------------------------------------


class Simulator:
    """The sandbox in this process, only for recording (untimed)."""

    def __init__(self) -> None:
        self.sandbox = Sandbox(port=0).start()

    def configure(self, settings: dict) -> None:
        self.sandbox.reset()
        settings = dict(settings)
        self.sandbox.size = int(settings.pop("size", 1))
        one_run = {
            name: value
            for vendor_profile in VENDOR_PROFILES.values()
            for name, value in vendor_profile.one_run_sandbox_settings.items()
        }
        self.sandbox.settings.update({**one_run, **settings})


def record(simulator: Simulator, case: Case, directory: Path, settings: dict) -> tuple[TapRun, list[dict]]:
    """Run the tap once through the recording proxy: every answer it got, in order, kept in `directory`."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    simulator.configure({**case.settings, **settings})
    recorder = Recorder(simulator.sandbox.base_url, directory)
    tap = TapRun(case, recorder.url, directory)
    recorder.entries.clear()  # discovery asks nothing of the vendor, but be sure
    tap.run()
    entries = recorder.save()
    pages = [n for n, e in enumerate(entries) if e["status"] == 200 and re.search(case.pages, e["target"])]
    (directory / "pages.json").write_text(json.dumps(pages))
    (directory / "schema.json").write_text(json.dumps(tap.schema))
    (directory / "stream.json").write_text(json.dumps(case.stream))
    return tap, [entries[n] for n in pages]


def record_shape(case: Case) -> str:
    benchmark = VENDOR_PROFILES[case.vendor].benchmark
    assert benchmark is not None
    return benchmark.record_shape


def answer_bytes(case: Case, directory: Path, page: dict) -> int:
    """How big an answer is: its bytes, or for a zip of JSON Lines the bytes it holds."""
    if record_shape(case) != "zip-jsonl":
        return page["size"]
    with zipfile.ZipFile(directory / page["body"]) as archive:
        return sum(info.file_size for info in archive.infolist())


def build(simulator: Simulator, case: Case, directory: Path) -> tuple[TapRun, dict]:
    """The case's answers, recorded; one answer of about `target_mb` is sized from a small sample, then
    corrected once from the first full-size recording."""
    if case.target_mb is None:
        tap, pages = record(simulator, case, directory, {})
    else:
        setting = case.size_setting
        assert setting is not None, case
        units = 20 if setting == "size" else 2000  # a small sample first
        for attempt in range(4):
            tap, pages = record(simulator, case, directory, {setting: units})
            size = sum(answer_bytes(case, directory, p) for p in pages)
            if attempt and (abs(size / (case.target_mb * MB) - 1) < 0.25 or attempt == 3):
                break
            units = max(1, round(units * case.target_mb * MB / size))
    return tap, {
        "answers": len(pages),
        "bytes": sum(p["size"] for p in pages),
        "largest": max(p["size"] for p in pages),
        "content": sum(answer_bytes(case, directory, p) for p in pages),
    }


# -- measuring -------------------------------------------------------------------------------------------------


def measure(simulator: Simulator, case: Case, scratch: Path) -> dict:
    directory = scratch / f"{case.vendor}-{case.label.replace(' ', '')}"
    built_at = time.perf_counter()
    tap, shape = build(simulator, case, directory)
    build_seconds = time.perf_counter() - built_at
    replay = Replay(directory)
    try:
        tap.write_config(replay.url)
        runs: dict[str, list] = {"tap": [], "F0": [], "F1": [], "FSDK": []}
        for _ in range(REPEATS):  # interleaved: tap, F0, F1, FSDK, tap, F0, F1, FSDK ...
            replay.reset()
            runs["tap"].append(tap.run())
            for floor in ("F0", "F1", "FSDK"):
                replay.reset()
                command = (
                    [sys.executable, "-m", "bench.floor", floor, record_shape(case), str(directory), replay.url]
                    if floor != "FSDK"
                    else [
                        sys.executable,
                        "-m",
                        "bench.sdk_floor",
                        "answers",
                        record_shape(case),
                        str(directory),
                        replay.url,
                    ]
                )
                seconds, cpu, _ = timed(command, cwd=SCRIPTS, stderr_path=directory / "floor.stderr")
                count, loop = (directory / "floor.stderr").read_text().split()[-2:]
                runs[floor].append((seconds, int(count), float(loop), cpu))
    finally:
        replay.stop()
        shutil.rmtree(directory, ignore_errors=True)
    tap_seconds = statistics.median(r[0] for r in runs["tap"])
    f0 = statistics.median(r[0] for r in runs["F0"])
    f1 = statistics.median(r[0] for r in runs["F1"])
    fsdk = statistics.median(r[0] for r in runs["FSDK"])
    records, sync_s = runs["tap"][0][3], statistics.median(r[2] for r in runs["tap"])
    return {
        **shape,
        "records": records,
        "records_per_s": records / tap_seconds,
        "sync_records_per_s": records / sync_s if sync_s else 0.0,
        "mb_per_s": shape["content"] / MB / tap_seconds,
        "floor_records": runs["F0"][0][1],
        "tap_s": tap_seconds,
        "sync_s": statistics.median(r[2] for r in runs["tap"]),
        "rss": max(r[1] for r in runs["tap"]),
        "f0_s": f0,
        "f1_s": f1,
        "x_f0": f0 / tap_seconds,
        "x_f1": f1 / tap_seconds,
        "fsdk_s": fsdk,
        "fsdk_x_f0": f0 / fsdk,
        "x_fsdk": fsdk / tap_seconds,
        "fsdk_records": runs["FSDK"][0][1],
        "f0_sync_s": statistics.median(r[2] for r in runs["F0"]),
        "sync_x_f0": statistics.median(r[2] for r in runs["F0"]) / statistics.median(r[2] for r in runs["tap"]),
        "tap_cpu": statistics.median(r[4] for r in runs["tap"]),
        "f0_cpu": statistics.median(r[3] for r in runs["F0"]),
        "f1_cpu": statistics.median(r[3] for r in runs["F1"]),
        "build_s": build_seconds,
    }


def startup(vendors: list[str], repeats: int = 5) -> list[dict]:
    """`tap-x --about` against `python -c "import singer_sdk"`, interleaved, medians (wall and CPU)."""
    bare: list[tuple[float, float, float]] = []
    taps: dict[str, list[tuple[float, float, float]]] = {vendor: [] for vendor in vendors}
    for _ in range(repeats):
        bare.append(timed([sys.executable, "-c", "import singer_sdk"]))
        for vendor in vendors:
            taps[vendor].append(timed([str(BIN / VENDOR_PROFILES[vendor].tap), "--about"]))
    base, base_cpu = statistics.median(r[0] for r in bare), statistics.median(r[1] for r in bare)
    out = []
    for vendor, values in taps.items():
        about, cpu = statistics.median(r[0] for r in values), statistics.median(r[1] for r in values)
        out.append(
            {
                "tap": VENDOR_PROFILES[vendor].tap,
                "about": about,
                "bare": base,
                "ratio": about / base,
                "cpu_ratio": cpu / base_cpu,
            }
        )
    return out


# -- report ---------------------------------------------------------------------------------------------------------


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), platform.processor()
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    ram = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))) / MB
    names = ("singer-sdk", "msgspec", "ijson", "orjson", "requests")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    return f"{cpu}, {os.cpu_count()} cores, {ram:.0f} GB RAM; Python {platform.python_version()}; {versions}"


def yes(met: bool) -> str:
    return "yes" if met else "**no**"


METHOD = """\
## How it is measured

- **Answers built once, served from memory.** For each case the sandbox generates the answers once,
  untimed: the tap runs once through a recording proxy that keeps every answer's bytes. A replay
  server in its own process (`scripts/bench/replay.py`) loads them into memory and serves them, with
  `Content-Length`, to the tap and to both floors: the same bytes, and nobody waits for the simulator.
- **Whole processes, interleaved, medians of 3.** The tap is its console script with a catalog selecting
  only that stream (discovery done beforehand), stdout to /dev/null; each floor is a plain script
  (`scripts/bench/floor.py`) in its own process, stdout to /dev/null. Per case: tap, F0, F1, three times
  over; the ratio is floor seconds / tap seconds (the same records, so it is also the ratio of rates).
  Beside it, the stream's sync time from the tap's own `sync_duration` metric (without Python start-up).
- **F0** = requests (one session) + orjson + one RECORD line per row (`orjson.dumps`, a buffered stdout).
  **F1** = F0 plus converting the fields the tap types (integer, number, boolean columns sent as text;
  date-times parsed and written as ISO 8601 UTC), as the tap's own catalog declares them.
  **FSDK** = F1's rows through a bare singer-sdk tap (`scripts/bench/sdk_floor.py`): one stream with the tap's
  schema, open to every other field, and the SDK's own record path (type conformance, RECORD messages, its msgspec
  writer); no state, no validation. Every choice is in the SDK's favour, so `FSDK x F0` is a ceiling for a tap
  whose records go through singer-sdk's loop, and `x FSDK` shows where a tap stands against that ceiling
  (above 1: faster than the SDK's own path).
- **records/s** and **MB/s** are the tap's whole process (start-up included: what a user waits for), the
  figure published singer-sdk taps are usually quoted with; in brackets, records/s of the sync alone (its
  `sync_duration`). MB are the answers' bytes (for {zipped}, the JSON Lines it holds), 1 MB = 2^20 bytes.
- **Compiled bytecode, as installed.** pip compiles a package's modules when it installs them; this
  environment sets `PYTHONDONTWRITEBYTECODE=1` and uv installs no bytecode, so every process would compile
  its modules again. The tap and the floors share one bytecode cache for the run (`PYTHONPYCACHEPREFIX`,
  filled by the untimed recording run); `--no-bytecode-cache` measures as before 2026-12-07's second run.
- **Peak RSS** is the tap process's VmHWM, polled every 20 ms. Streams that keep a structure per answer
  ({per_answer}) get a case of their own at each answer size.
- **Start-up**: `tap-x --about` against `python -c "import singer_sdk"`, interleaved, medians of 5.
- A 2-core machine shared with other work spreads ratios by about ±10-25% from run to run: compare ratios
  measured in one run, not absolute numbers across runs.
"""


def method() -> str:
    """METHOD, with the vendors it gives as examples taken from the profiles."""
    benchmarks = [
        (vendor_profile, vendor_profile.benchmark)
        for vendor_profile in VENDOR_PROFILES.values()
        if vendor_profile.benchmark
    ]
    zipped = " or ".join(f"{p.label}'s zip" for p, b in benchmarks if b.record_shape == "zip-jsonl") or "a zip"
    per_answer = "; ".join(
        f"{p.vendor}'s `{bench.stream}`: {bench.keeps}"
        for p, b in benchmarks
        for bench in b.large_answers
        if bench.keeps
    )
    return METHOD.format(zipped=zipped, per_answer=per_answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--gigabyte", action="store_true", help="add the 1 GB answers (see docs/benchmarks.md for how long)"
    )
    parser.add_argument("--quick", action="store_true", help="only the 5 MB answers and many pages")
    parser.add_argument("--tap", action="append", help="only this vendor (repeatable), by its sandbox name")
    parser.add_argument("--stream", action="append", help="only this stream's cases (repeatable)")
    parser.add_argument("--size", action="append", type=float, help="only answers of this many MB (repeatable)")
    parser.add_argument("--no-pages", action="store_true", help="leave out the many-pages cases")
    parser.add_argument("--no-startup", action="store_true", help="leave out the start-up comparison")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="'-' to write no file")
    parser.add_argument(
        "--profile", default=str(SCRIPTS / "bench" / "profile.md"), help="Markdown appended as the profile section"
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="every process compiles its modules again (the method before 2026-12-07's second run)",
    )
    args = parser.parse_args()
    if not args.no_bytecode_cache:
        cache_bytecode_for_children()  # filled by the untimed recording run (bench.bytecode says why)
    vendors = args.tap or list(VENDOR_PROFILES)
    sizes = args.size or ([5.0] if args.quick else [5.0, 100.0, *([1024.0] if args.gigabyte else [])])
    shown = [a for n, a in enumerate(sys.argv[1:]) if a != "--output" and (n == 0 or sys.argv[n] != "--output")]
    command = " ".join(["./scripts/benchmark", *shown])
    lines = [f"# Benchmarks\n\nMeasured by `{command}` on {dt.date.today()}: {machine()}.\n", method()]
    started = time.perf_counter()

    def emit(*rows: str) -> None:
        for row in rows:
            print(row, flush=True)
            lines.append(row)

    emit(
        f"## Throughput against the floors (target: >= {TARGET_RATIO}x F0; peak RSS < {TARGET_RSS_MB} MB)",
        "",
        "| tap | stream | answers | records | tap s (sync s) | records/s (sync) | MB/s | F0 s | F1 s | FSDK s | x F0 "
        "| x F1 | x FSDK | FSDK x F0 | CPU x F0 | CPU x F1 | sync x F0 | peak RSS | x F0 met | RSS met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    )
    simulator = Simulator()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for case in cases(sizes, vendors, not args.no_pages):
            if args.stream and case.stream not in args.stream:
                continue
            r = measure(simulator, case, Path(scratch))
            results.append((case, r))
            answers = (
                f"1 of {r['largest'] / MB:,.1f} MB"
                if r["answers"] == 1
                else f"{r['answers']:,} ({r['bytes'] / MB:,.1f} MB)"
            )
            if r["content"] != r["bytes"]:
                answers += f", {r['content'] / MB:,.0f} MB unzipped"
            floors = {r["floor_records"], r["fsdk_records"]}
            mismatch = "" if floors == {r["records"]} else f" (floors {', '.join(f'{n:,}' for n in sorted(floors))})"
            emit(
                f"| {VENDOR_PROFILES[case.vendor].tap} | {case.stream} | {case.label}: {answers} | "
                f"{r['records']:,}{mismatch} | "
                f"{r['tap_s']:.2f} ({r['sync_s']:.2f}) | {r['records_per_s']:,.0f} ({r['sync_records_per_s']:,.0f}) | "
                f"{r['mb_per_s']:.1f} | {r['f0_s']:.2f} | {r['f1_s']:.2f} | {r['fsdk_s']:.2f} | {r['x_f0']:.2f}x | "
                f"{r['x_f1']:.2f}x | {r['x_fsdk']:.2f}x | {r['fsdk_x_f0']:.2f}x | "
                f"{r['f0_cpu'] / r['tap_cpu']:.2f}x | {r['f1_cpu'] / r['tap_cpu']:.2f}x | "
                f"{r['sync_x_f0']:.2f}x | {r['rss']:.0f} MB | {yes(r['x_f0'] >= TARGET_RATIO)} | "
                f"{yes(r['rss'] < TARGET_RSS_MB)} |"
            )
    emit(
        "",
        *[
            f"- {p.tap}: {p.benchmark.no_single_answer}."
            for v, p in VENDOR_PROFILES.items()
            if v in vendors and p.benchmark and p.benchmark.largest.size_setting is None
        ],
    )
    if not args.no_startup:
        emit(
            "",
            f'## Start-up (target: `tap-x --about` within {TARGET_STARTUP}x of `python -c "import singer_sdk"`)',
            "",
            "| tap | `--about` s | `import singer_sdk` s | ratio | CPU ratio | target met |",
            "|---|---|---|---|---|---|",
        )
        for r in startup(vendors):
            emit(
                f"| {r['tap']} | {r['about']:.2f} | {r['bare']:.2f} | {r['ratio']:.2f}x | "
                f"{r['cpu_ratio']:.2f}x | {yes(r['ratio'] <= TARGET_STARTUP)} |"
            )
    emit("", f"The whole run took {(time.perf_counter() - started) / 60:.1f} minutes.")
    if args.profile:
        lines.append("\n" + Path(args.profile).read_text())
    if args.output != "-":
        Path(args.output).write_text("\n".join(lines) + "\n")
        print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
