"""Soak: every tap syncs against the sandbox over and over for `--minutes`, all five at once, with a
fault about every `--fault-every` requests (429 in seconds and as a date, 500/502/503, reset, slow).

Each tap gets its own sandbox process (its own GIL and fault stream) and runs rounds back to back:
a round is one complete sync from an empty state, and must end with exit 0 and exactly the
simulator's ground truth (tests/<vendor>/truth.py): per stream, the distinct primary keys equal the
ground truth's count, and every round emits exactly as many records as the first one (a few streams
repeat a key by design, upserted by the loader; a retry that duplicated or dropped a record would
show). While a tap runs, its peak RSS (VmHWM), open file descriptors and the files in its own TMPDIR
(spooled bodies) are sampled every `SAMPLE_SECONDS`.
Flat means: over the first and the last `window` of the soak (10 minutes, or a third of a shorter
soak), peak RSS within 10%, open descriptors and temp files no more than `FD_SLACK` higher, and no
temp file left after any round. Prints a report (and `--json` a machine-readable one); exit 1 if
any check fails. Not a test (tests/reliability/test_soak.py runs a 2-minute version).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from typing_extensions import override

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from sandbox.core import FaultRule, Faults, Sandbox  # noqa: E402
from sandbox.profiles import all_profiles  # noqa: E402

SAMPLE_SECONDS = 0.5
FD_SLACK = 4  # the connection pool's sockets (max_concurrency) come and go between samples
RSS_TOLERANCE = 0.10
#: the faults injected; slow is longer than the soak's request_timeout, so it is retried too
KINDS = ("429", "429-date", "500", "502", "503", "reset", "slow")
SOAK_SETTINGS = {"request_timeout": 5, "retry_max_attempts": 6, "retry_backoff_seconds": 0.2}
SLOW_SECONDS = 6.0
VENDOR_PROFILES = {
    vendor_profile.vendor: vendor_profile for vendor_profile in all_profiles()
}  # sandbox/sandbox/<vendor>.py
#: A slow answer to a download the vendor serves once (then deletes) has been served when the tap gives
#: up waiting: that download is lost by the vendor's design, so no slow fault goes there.
NO_SLOW = {
    vendor: vendor_profile.served_once
    for vendor, vendor_profile in VENDOR_PROFILES.items()
    if vendor_profile.served_once
}
#: sandbox size per tap, per scale ("small": the 2-minute test, "full": the real soak): the profiles'
SIZES = {
    scale: {vendor: vendor_profile.soak_sizes[scale] for vendor, vendor_profile in VENDOR_PROFILES.items()}
    for scale in ("small", "full")
}

JOBS_PER_ROUND = {"small": 3, "full": 20}  # new export jobs per round, for a vendor that serves downloads once


# -- the sandbox process: periodic faults ---------------------------------------------------------


class PeriodicFaults(Faults):
    """One fault of a random kind every `every` requests on average (uniform between half and 1.5x)."""

    def __init__(self, every: int, seed: int, vendor: str) -> None:
        super().__init__()
        self.every = every
        self.random = random.Random(seed)
        self.vendor = vendor
        self.seen = 0
        self.injected: dict[str, int] = {}
        self.next_at = self._gap()

    def _gap(self) -> int:
        return self.random.randint(max(1, self.every // 2), max(1, self.every * 3 // 2))

    @override
    def take(self, vendor: str, target: str, carried: str = "", *, named_only: bool = False) -> FaultRule | None:
        rule = super().take(vendor, target, carried, named_only=named_only)
        if rule is not None or named_only or self.every <= 0:  # named_only: a simulator's bucket, left alone
            return rule
        with self._lock:
            self.seen += 1
            if self.seen < self.next_at:
                return None
            kinds = [kind for kind in KINDS if not (kind == "slow" and NO_SLOW.get(vendor, "\0") in target)]
            kind = self.random.choice(kinds)
            self.next_at = self.seen + self._gap()
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return FaultRule(kind=kind, vendor=vendor, retry_after=0.5, delay=SLOW_SECONDS)


def serve(args: argparse.Namespace) -> None:
    box = Sandbox(port=0, seed=args.seed, size=args.size)
    faults = PeriodicFaults(args.fault_every, args.seed, args.vendor)
    box.faults = faults
    box.settings.update(json.loads(args.settings))

    def report() -> None:  # what was injected, on stdin's close (the driver reads it at the end)
        sys.stdin.read()
        print(json.dumps({"requests": len(box.requests), "faults": faults.injected}), flush=True)

    print(box.base_url, flush=True)
    box.requests = _CountingLog()
    threading.Thread(target=report, daemon=True).start()
    box.serve_forever()


class _CountingLog(list):
    """The sandbox's request log, counted but not kept: a soak makes hundreds of thousands."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    @override
    def append(self, item: t.Any) -> None:
        self.total += 1

    @override
    def __len__(self) -> int:
        return self.total


# -- the driver -----------------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # seconds since the soak started
    rss_kb: int  # VmHWM of the running tap process
    fds: int
    temp_files: int


@dataclass
class RoundPeak:
    ended_at: float  # seconds since the soak started
    rss_kb: int  # the process's VmHWM at its last sample: its peak
    fds: int  # the most open descriptors seen
    temp_files: int  # the most files seen in its TMPDIR


@dataclass
class TapSoak:
    vendor: str
    size: int
    rounds: int = 0
    records: int = 0
    failures: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    peaks: list[RoundPeak] = field(default_factory=list)
    leftover_temp: list[int] = field(default_factory=list)  # temp files after each round
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    round_seconds: list[float] = field(default_factory=list)
    #: records per stream of the first exact round; every later round must emit the same (a stream
    #: can repeat a key by design, e.g. consentmanager's delivery_domains on each day: upserted)
    reference: dict[str, int] | None = None


def proc_numbers(pid: int) -> tuple[int, int]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0, 0
    hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
    return hwm, fds


class UrlOnly:
    """What TapProfile.config needs of a sandbox: the vendor's URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def url(self, vendor: str) -> str:
        return f"{self.base_url}/{vendor}"


def truth_sandbox(size: int, seed: int, settings: dict) -> Sandbox:
    """A sandbox that never serves: the same seed, size and switches, for the ground truth."""
    box = Sandbox(port=0, seed=seed, size=size)
    box.settings.update(settings)
    return box


def vendor_settings(vendor: str) -> dict:
    """The sandbox switches under which one round shows every stream (Voyado: exports done at once)."""
    return dict(VENDOR_PROFILES[vendor].one_run_sandbox_settings)


def one_round(
    soak: TapSoak, vendor_profile: t.Any, config: dict, expected: dict[str, int], scratch: Path, started: float
) -> None:
    from tests.support.singer import tap_executable

    tmp = scratch / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    (scratch / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "TMPDIR": str(tmp)}
    stderr_path = scratch / "stderr.txt"
    keys: dict[str, list[str]] = {}
    seen: dict[str, set] = {}
    counts: dict[str, int] = {}
    begun = time.monotonic()
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [tap_executable(vendor_profile.name), "--config", str(scratch / "config.json")],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(SAMPLE_SECONDS):
                rss, fds = proc_numbers(proc.pid)
                if rss:
                    soak.samples.append(Sample(time.monotonic() - started, rss, fds, len(os.listdir(tmp))))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.startswith(b"{"):
                continue
            message = orjson.loads(line)
            if message["type"] == "RECORD":
                stream = message["stream"]
                key = tuple(repr(message["record"].get(name)) for name in keys[stream])
                seen.setdefault(stream, set()).add(key)
                counts[stream] = counts.get(stream, 0) + 1
            elif message["type"] == "SCHEMA":
                keys[message["stream"]] = message.get("key_properties") or []
        code = proc.wait()
        stop.set()
        sampler.join()
    soak.round_seconds.append(time.monotonic() - begun)
    mine = [sample for sample in soak.samples if sample.at >= begun - started]
    if mine:
        soak.peaks.append(
            RoundPeak(
                time.monotonic() - started,
                max(s.rss_kb for s in mine),
                max(s.fds for s in mine),
                max(s.temp_files for s in mine),
            )
        )
    soak.rounds += 1
    soak.records += sum(counts.values())
    soak.leftover_temp.append(len(os.listdir(tmp)))
    distinct = {stream: len(found) for stream, found in seen.items()}
    if code != 0:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        soak.failures.append(f"round {soak.rounds}: exit {code}: {tail[0][:300]}")
    elif distinct != expected:
        soak.failures.append(f"round {soak.rounds}: distinct keys {distinct}, ground truth {expected}")
    elif soak.reference is None:
        soak.reference = counts
    elif counts != soak.reference:
        soak.failures.append(f"round {soak.rounds}: records {counts}, the first round's {soak.reference}")
    shutil.rmtree(scratch, ignore_errors=True)


def warm_up(vendor_profile: t.Any, base_url: str, scratch: Path) -> None:
    """One sync, not judged, with a long timeout: a simulator builds some data on first use (Lytics'
    audiences: seconds at a large size), which a round's request_timeout would count as a fault."""
    from tests.support.singer import tap_executable

    scratch.mkdir(parents=True, exist_ok=True)
    config = {
        **vendor_profile.config(UrlOnly(base_url), scratch),
        **VENDOR_PROFILES[vendor_profile.vendor].soak_settings(),
        **SOAK_SETTINGS,
        "request_timeout": 300,
    }
    (scratch / "config.json").write_text(json.dumps(config))
    subprocess.run(
        [tap_executable(vendor_profile.name), "--config", str(scratch / "config.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    shutil.rmtree(scratch, ignore_errors=True)


def soak_tap(soak: TapSoak, args: argparse.Namespace, started: float, deadline: float, work: Path) -> None:
    from tests.reliability.taps import TAPS

    vendor_profile = TAPS[soak.vendor]
    settings = vendor_settings(soak.vendor)
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            soak.vendor,
            "--size",
            str(soak.size),
            "--seed",
            str(args.seed),
            "--fault-every",
            str(args.fault_every),
            "--settings",
            json.dumps(settings),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    base_url = server.stdout.readline().strip()
    truth = truth_sandbox(soak.size, args.seed, settings)
    try:
        warm_up(vendor_profile, base_url, work / soak.vendor / "warm-up")
        while time.monotonic() < deadline:
            if soak.round_seconds and time.monotonic() + soak.round_seconds[-1] > deadline:
                break  # a round that would end past the deadline is not started: --minutes bounds the wall time
            scratch = work / soak.vendor / f"round{soak.rounds + 1}"
            config = {
                **vendor_profile.config(UrlOnly(base_url), scratch),
                **VENDOR_PROFILES[soak.vendor].soak_settings(),
                **SOAK_SETTINGS,
            }
            if (
                vendor_profile.fresh_jobs and vendor_profile.served_once
            ):  # every round new jobs (its state starts empty)
                config.update(vendor_profile.fresh_jobs("soak", JOBS_PER_ROUND[args.scale]))
            expected = vendor_profile.expected_rows(truth, config)
            one_round(soak, vendor_profile, config, expected, scratch, started)
            if len(soak.failures) >= 3:
                break
    finally:
        server.stdin.close()
        summary = json.loads(server.stdout.readline() or "{}")
        soak.requests, soak.faults = summary.get("requests", 0), summary.get("faults", {})
        server.terminate()
        server.wait()
        truth._server.server_close()


def window_stats(peaks: list[RoundPeak], start: float, end: float) -> dict[str, float]:
    """The highest of the rounds that ended inside [start, end)."""
    inside = [p for p in peaks if start <= p.ended_at < end]
    if not inside:
        return {}
    return {
        "rss_mb": round(max(s.rss_kb for s in inside) / 1024, 1),
        "fds": max(s.fds for s in inside),
        "temp_files": max(s.temp_files for s in inside),
    }


def judge(soak: TapSoak, total: float, window: float) -> tuple[dict, list[str]]:
    # A round longer than the window may end outside it: then the first (last) round stands for it.
    first = window_stats(soak.peaks, 0, max(window, soak.peaks[0].ended_at + 0.1 if soak.peaks else 0))
    last = window_stats(soak.peaks, min(total - window, soak.peaks[-1].ended_at if soak.peaks else total), total + 3600)
    problems = list(soak.failures)
    if not first or not last:
        problems.append("no round ended in the first or the last window")
    else:
        if abs(last["rss_mb"] - first["rss_mb"]) > RSS_TOLERANCE * first["rss_mb"]:
            problems.append(f"peak RSS not flat: {first['rss_mb']} MB first, {last['rss_mb']} MB last")
        if last["fds"] > first["fds"] + FD_SLACK:
            problems.append(f"open descriptors grew: {first['fds']} first, {last['fds']} last")
        if last["temp_files"] > first["temp_files"] + FD_SLACK:
            problems.append(f"temp files grew: {first['temp_files']} first, {last['temp_files']} last")
    if any(soak.leftover_temp):
        problems.append(f"temp files left after rounds: {soak.leftover_temp}")
    return {"first": first, "last": last}, problems


DOC = ROOT / "docs" / "reliability.md"


def doc_section(result: dict) -> str:
    """The "## Soak" section of docs/reliability.md (always its last section)."""
    rows = []
    for tap in result["taps"]:
        first, last = tap["windows"]["first"], tap["windows"]["last"]
        faults = ", ".join(f"{kind} {count}" for kind, count in sorted(tap["faults"].items())) or "none"
        seconds = tap["round_seconds"]
        rows.append(
            f"| tap-{tap['vendor']} | {tap['size']} | {tap['rounds']} ({min(seconds):.0f}-{max(seconds):.0f} s) | "
            f"{tap['records']:,} | {tap['requests']:,} | {faults} | {first.get('rss_mb')} / {last.get('rss_mb')} MB | "
            f"{first.get('fds')} / {last.get('fds')} | {first.get('temp_files')} / {last.get('temp_files')} | "
            f"{'pass' if not tap['problems'] else 'FAIL: ' + '; '.join(tap['problems'])[:300]} |"
        )
    return "\n".join(
        [
            "## Soak",
            "",
            f"`./scripts/soak --minutes {result['minutes']:g}` ran on "
            f"{result.get('ran_at', '?')}: {result['elapsed_minutes']:g} minutes, "
            f"{result['records']:,} records in all, windows of {result['window_minutes']:g} minutes, "
            f"{result.get('cpus', '?')} CPUs shared with other work ({result.get('note', '')}).",
            "",
            "| tap | sandbox size | rounds | records | requests | faults injected | peak RSS first / last window | "
            "open fds first / last | temp files first / last | result |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Every tap runs at once, each against its own sandbox process, round after round; a round is one",
            "complete sync from an empty state and must exit 0 with, per stream, the distinct primary keys of the",
            "simulator's ground truth and as many records as the tap's first round (a stream may repeat a key by",
            "design, e.g. a list served again each day; a loader upserts it). About every 50 requests (uniformly",
            "25-75) the sandbox answers one request with a fault of a random kind: 429 (Retry-After 0.5 s), 429",
            f"with an HTTP-date Retry-After, 500, 502, 503, a reset connection, or a response {SLOW_SECONDS:g} s late",
            f"(the soak's request_timeout is {SOAK_SETTINGS['request_timeout']} s, so it is retried); no slow fault on",
            "a download the vendor deletes once served. A tap that asks one request per partition sees few faults.",
            "Peak RSS (VmHWM), open descriptors and files in the tap's own TMPDIR are sampled every 0.5 s; a round",
            "counts in the window where it ended. Flat: the last window's peak RSS within 10% of the first's,",
            f"descriptors and temp files at most {FD_SLACK} above (the connection pool's sockets), and no temp file",
            "left after any round. Before its rounds each tap runs one sync that is not judged, with a 300 s",
            "timeout: a simulator builds some data on first use (audiences take seconds at the full size), as the",
            "benchmark's warm-up does.",
            "tests/reliability/test_soak.py runs the same for under two minutes (`--scale small`, at low priority).",
            "",
        ]
    )


def write_doc(result: dict) -> None:
    text = DOC.read_text()
    start = text.find("\n## Soak")
    head = text if start < 0 else text[:start]
    DOC.write_text(head.rstrip("\n") + "\n\n" + doc_section(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--fault-every", type=int, default=50, help="requests between faults, on average (0: none)")
    parser.add_argument("--scale", choices=sorted(SIZES), default="full", help="data per round")
    parser.add_argument("--taps", default=",".join(SIZES["full"]), help="comma-separated vendors")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--write-doc", action="store_true", help="put the results in docs/reliability.md")
    parser.add_argument(
        "--doc-from", type=Path, metavar="JSON", help="only write docs/reliability.md from a --json file"
    )
    parser.add_argument("--note", default="", help="a word on the machine's load, for the document")
    parser.add_argument("--serve", metavar="VENDOR", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.doc_from:
        result = json.loads(args.doc_from.read_text())
        result["note"] = args.note or result.get("note", "")
        write_doc(result)
        return 0
    if args.serve:
        args.vendor = args.serve
        serve(args)
        return 0

    vendors = [name for name in args.taps.split(",") if name]
    total = args.minutes * 60
    window = min(600.0, total / 3)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    started = time.monotonic()
    soaks = [TapSoak(vendor, SIZES[args.scale][vendor]) for vendor in vendors]
    threads = [threading.Thread(target=soak_tap, args=(s, args, started, started + total, work)) for s in soaks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    shutil.rmtree(work, ignore_errors=True)

    results, failed = [], False
    print(
        f"soak: {args.minutes:g} min asked, {elapsed / 60:.1f} min run, windows of {window / 60:.1f} min, "
        f"a fault every ~{args.fault_every} requests, {os.cpu_count()} "
        f"CPUs, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        "| tap | rounds | records | requests | faults | peak RSS "
        "first/last | fds first/last | temp files first/last | result |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for soak in soaks:
        windows, problems = judge(soak, elapsed, window)
        failed |= bool(problems)
        first, last = windows["first"], windows["last"]
        faults = sum(soak.faults.values())
        print(
            f"| tap-{soak.vendor} | {soak.rounds} | {soak.records:,} | {soak.requests:,} | {faults} | "
            f"{first.get('rss_mb')} / {last.get('rss_mb')} MB | {first.get('fds')} / {last.get('fds')} | "
            f"{first.get('temp_files')} / {last.get('temp_files')} | "
            f"{'pass' if not problems else 'FAIL: ' + '; '.join(problems)} |"
        )
        results.append(
            {
                "vendor": soak.vendor,
                "size": soak.size,
                "rounds": soak.rounds,
                "records": soak.records,
                "requests": soak.requests,
                "faults": soak.faults,
                "windows": windows,
                "problems": problems,
                "round_seconds": [round(s, 1) for s in soak.round_seconds],
            }
        )
    records = sum(s.records for s in soaks)
    print(f"records in all: {records:,}")
    result = {
        "minutes": args.minutes,
        "elapsed_minutes": round(elapsed / 60, 2),
        "window_minutes": round(window / 60, 2),
        "records": records,
        "cpus": os.cpu_count(),
        "ran_at": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "note": args.note,
        "taps": results,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.write_doc:
        write_doc(result)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
