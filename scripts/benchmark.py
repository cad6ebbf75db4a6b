"""Benchmarks against the sandbox on loopback: throughput vs an orjson floor, peak RSS by response
size, concurrent partitions at 200 ms latency, requests of a second run. Prints the table and writes
docs/benchmarks.md. Not a test: numbers, not pass/fail (the targets are shown next to them)."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TODAY = dt.datetime.now(dt.timezone.utc).date()
MB = 1024 * 1024


class Sandbox:
    """The sandbox in its own process (so it does not share a GIL with the floor), driven over HTTP."""

    def __init__(self, port: int = 8799) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], stdout=subprocess.PIPE)
        self.proc.stdout.readline()

    def control(self, action: str, payload: dict | None = None) -> None:
        requests.post(f"{self.url}/_sandbox/{action}", json=payload or {}).raise_for_status()

    def configure(self, size: int = 1, **settings) -> None:
        """A clean sandbox with these switches; the data size is always set, never left from a previous case."""
        self.control("reset")
        self.control("settings", {"size": size, **settings})

    def log(self) -> list[dict]:
        return requests.get(f"{self.url}/_sandbox/requests").json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


# -- the taps' benchmark configurations ---------------------------------------------------------

def tap_config(vendor: str, sandbox: Sandbox, **extra) -> dict:
    base = {
        "consentmanager": {"api_key": "bench-key", "start_date": TODAY.isoformat(), "lookback_days": 2},
        "gravito": {"access_token": "bench-token", "domains": ["shop.example.com"]},
        "lytics": {"api_key": "bench-token", "segments": ["all"], "scan_page_size": 100},  # Lytics serves at most 100 per page
        "voyado": {"api_key": "bench-key", "customer_keys": VOYADO_KEYS, "download_dir": tempfile.mkdtemp(prefix="voyado-bench-")},
        "claravine": {"api_key": "bench-key", "api_secret": "bench-secret", "start_date": (TODAY - dt.timedelta(days=7)).isoformat()},
    }[vendor]
    return {**base, "api_url": f"{sandbox.url}/{vendor}", **extra}


HEADERS = {
    "gravito": {"gravitoaccess": "bench-token", "gravitoversion": "v3"},
    "lytics": {"Authorization": "bench-token"},
    "voyado": {"Api-Key": "bench-key"},
    "claravine": {"X-API-Key": "bench-key", "X-API-Secret": "bench-secret"},
}
VOYADO_KEYS = ["instant-bench-0001", "instant-bench-0002", "instant-bench-0003"]
VOYADO_API = "/api/v2/event-data"


def floor_records(vendor: str, document) -> list:
    """The records of one page as plainly as possible (Gravito: one per consent entry, like the tap)."""
    if vendor == "gravito":
        return [entry for element in document if element["message"].startswith("{") for entry in _consents(element["message"])]
    if vendor == "claravine":
        fields = document["fields"]
        return [dict(zip(fields, row, strict=False)) for row in document["rows"]]
    return document["data"]


def _consents(message: str) -> list:
    try:
        return orjson.loads(message).get("c") or []
    except orjson.JSONDecodeError:
        return []


def run_tap(vendor: str, config: dict, *, stream: str | None = None, state: dict | None = None, out=subprocess.DEVNULL):
    """Run the console script; returns (seconds, end time, peak RSS MB, stderr, state file text)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [str(BIN / f"tap-{vendor}"), "--config", f"{tmp}/config.json"]
        Path(tmp, "config.json").write_text(json.dumps(config))
        if stream:
            catalog = json.loads(subprocess.run([*command, "--discover"], capture_output=True, check=True).stdout)
            for entry in catalog["streams"]:
                for item in entry["metadata"]:
                    if item["breadcrumb"] == []:
                        item["metadata"]["selected"] = entry["tap_stream_id"] == stream
            Path(tmp, "catalog.json").write_text(json.dumps(catalog))
            command += ["--catalog", f"{tmp}/catalog.json"]
        if state is not None:
            Path(tmp, "state.json").write_text(json.dumps(state))
            command += ["--state", f"{tmp}/state.json"]
        stderr = Path(tmp, "stderr")
        started = time.time()
        with stderr.open("wb") as err:
            proc = subprocess.Popen(command, stdout=out, stderr=err)
            peak = 0
            while proc.poll() is None:  # VmHWM: the tap's own high-water mark (ru_maxrss counts the forked parent)
                peak = max(peak, high_water_mark_kb(proc.pid))
                time.sleep(0.05)
        ended = time.time()
        if proc.returncode:
            raise SystemExit(f"tap-{vendor} failed:\n{stderr.read_text()[-3000:]}")
        return ended - started, ended, peak / 1024, stderr.read_text()


def high_water_mark_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)


def metric_total(stderr: str, metric: str, stream: str) -> float:
    """Sum of singer-sdk's METRIC lines of one kind for one stream."""
    total = 0
    for line in stderr.splitlines():
        if f'"metric":"{metric}"' in line and f'"stream":"{stream}"' in line:
            total += json.loads(line.split("METRIC: ", 1)[1])["value"]
    return total


def record_count(stderr: str, stream: str) -> int:
    return int(metric_total(stderr, "record_count", stream))


# -- 1. throughput ---------------------------------------------------------------------------------

THROUGHPUT = {  # vendor: (largest stream, the root stream whose sync timer covers it, sandbox settings, tap settings, record pages)
    "consentmanager": ("consent_log", "consent_log", {"consentmanager.consent_log_rows": 150_000}, {"lookback_days": 0}, r"/api/data\.php"),
    "gravito": ("consents", "consents", {"gravito.profiles_per_domain": 40_000}, {}, "/api/gp"),
    "lytics": ("audience_members", "audience_members", {"size": 1500}, {}, "/scan"),
    "voyado": ("customer_data", "export_jobs", {"size": 6000, "voyado.instant": True}, {}, "/export-customer-job-result"),
    "claravine": ("transaction_rows", "datasets", {"size": 60}, {}, r"/data/?$"),
}


def throughput(sandbox: Sandbox, vendor: str, quick: bool) -> dict:
    stream, root, settings, extra, pattern = THROUGHPUT[vendor]
    if quick:
        settings = {key: max(1, value // 3) for key, value in settings.items()}
    # Warm-up, untimed: the simulator builds some data on first use (Lytics computes an audience's
    # members on its first scan, ~2 s). The floor, run later, would otherwise find it built.
    sandbox.configure(**settings)
    run_tap(vendor, tap_config(vendor, sandbox, **extra), stream=stream)
    sandbox.configure(**settings)
    _, _, _, stderr = run_tap(vendor, tap_config(vendor, sandbox, **extra), stream=stream)
    pages = [r for r in sandbox.log() if r["status"] == 200]  # every request of the run, in order
    records = record_count(stderr, stream)
    # The sync itself (singer-sdk's timer of the stream, or of its parent, which includes its children):
    # Python start-up and discovery are left out, as they are for the floor.
    tap_rate = records / metric_total(stderr, "sync_duration", root)
    if vendor == "voyado":
        sandbox.configure(**settings)  # the floor creates its own export jobs (downloads are one-shot)
        floor_count, floor_seconds = voyado_floor(sandbox)
    else:
        floor_count, floor_seconds = floor(sandbox, vendor, pages, pattern)
    floor_rate = floor_count / floor_seconds
    return {"vendor": vendor, "stream": stream, "records": records, "tap": tap_rate, "floor": floor_rate, "ratio": tap_rate / floor_rate}


def floor(sandbox: Sandbox, vendor: str, pages: list[dict], pattern: str) -> tuple[int, float]:
    """Fetch the same pages with requests, parse the record pages with orjson, write RECORD lines to /dev/null."""
    session = requests.Session()
    count = 0
    with open(os.devnull, "wb") as out:
        started = time.time()
        for page in pages:
            query = {name: values[0] for name, values in page["query"].items()}
            body = session.get(f"{sandbox.url}/{vendor}{page['path']}", params=query, headers=HEADERS.get(vendor, {})).content
            if not re.search(pattern, page["path"]) or (vendor == "consentmanager" and query.get("type") != "19"):
                continue
            for record in floor_records(vendor, orjson.loads(body)):
                out.write(orjson.dumps({"type": "RECORD", "stream": vendor, "record": record}) + b"\n")
                count += 1
        return count, time.time() - started


def voyado_floor(sandbox: Sandbox) -> tuple[int, float]:
    """Voyado's download is one-shot: the floor asks for the same exports again (the same data per key)."""
    session = requests.Session()
    base = f"{sandbox.url}/voyado{VOYADO_API}"
    count = 0
    with open(os.devnull, "wb") as out:
        started = time.time()
        for key in VOYADO_KEYS:
            jid = session.post(f"{base}/create-export-customer-job", params={"customerKey": key}, headers=HEADERS["voyado"]).json()["jid"]
            session.get(f"{base}/job-status", params={"jid": jid}, headers=HEADERS["voyado"]).raise_for_status()
            body = session.get(f"{base}/export-customer-job-result", params={"jid": jid}, headers=HEADERS["voyado"]).content
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                for name in archive.namelist():
                    if not name.endswith(".jsonl"):
                        continue
                    for line in archive.read(name).splitlines():
                        out.write(orjson.dumps({"type": "RECORD", "stream": "customer_data", "record": orjson.loads(line)}) + b"\n")
                        count += 1
        return count, time.time() - started


# -- 2. memory ---------------------------------------------------------------------------------------

MEMORY = {  # vendor: (sandbox setting for rows in the one response, stream)
    "consentmanager": ("consentmanager.consent_log_rows", "consent_log"),
    "gravito": ("gravito.profiles_per_domain", "microprofiles"),
}


def peak_rss(sandbox: Sandbox, vendor: str, size_mb: int) -> dict:
    setting, stream = MEMORY[vendor]
    sample_rows = 2000
    sandbox.configure(**{setting: sample_rows})
    url = f"{sandbox.url}/{vendor}" + ("/api/data.php?key=k&type=19" if vendor == "consentmanager" else "/api/gp/gravitocustomerdata?domainName=shop.example.com")
    sample = len(requests.get(url, headers=HEADERS.get(vendor, {})).content)
    rows = int(size_mb * MB / (sample / sample_rows))
    sandbox.configure(**{setting: rows})
    # The simulator needs minutes to generate 1 GB before its first byte: wait for it, do not retry.
    config = tap_config(vendor, sandbox, lookback_days=0, request_timeout=1800)
    seconds, _, rss, stderr = run_tap(vendor, config, stream=stream)
    return {"vendor": vendor, "size_mb": size_mb, "rows": rows, "records": record_count(stderr, stream), "rss_mb": rss, "seconds": seconds}


# -- 3. concurrency ------------------------------------------------------------------------------------

def partitions(sandbox: Sandbox, vendor: str) -> dict:
    if vendor == "gravito":
        settings = {"gravito.profiles_per_domain": 30}
        config = tap_config(vendor, sandbox, domains=[f"site{n:02d}.example.com" for n in range(16)])
        stream, path = "microprofiles", "/api/gp"
    else:
        settings = {"lytics.extra_segments": 16}
        config = tap_config(vendor, sandbox, segments=[f"bench_{n:02d}" for n in range(16)], scan_page_size=20)
        stream, path = "audience_members", "/scan"
    timings = {}
    for label, concurrency in (("sequential", 1), ("concurrent", None)):
        sandbox.configure(latency=0.2, **settings)
        run_config = config if concurrency is None else {**config, "max_concurrency": concurrency}
        seconds, _, _, stderr = run_tap(vendor, run_config, stream=stream)
        requests_made = [r for r in sandbox.log() if path in r["path"]]
        # the stream's own sync timer: every partition, without process start-up and teardown
        timings[label] = (seconds, metric_total(stderr, "sync_duration", stream), len(requests_made))
    sandbox.configure()
    (seq_total, seq_phase, n), (con_total, con_phase, _) = timings["sequential"], timings["concurrent"]
    return {"vendor": vendor, "requests": n, "seq": seq_phase, "con": con_phase, "ratio": seq_phase / con_phase, "seq_total": seq_total, "con_total": con_total}


# -- 4. a second run with nothing changed ----------------------------------------------------------------

SECOND_RUN_NEED = {
    "consentmanager": ("start_date a week back, lookback_days=2: 3 days per day-windowed report (types 1, 3, 16, 18, 19) + 1 per reference list (12) = 27", None),
    "gravito": ("one request per domain (the API has no time filter)", 1),
    "lytics": ("account, segments, schema, sizes: 1 each; one scan per audience (no time filter)", None),
}
SECOND_RUN_SETTINGS = {
    "consentmanager": {"start_date": (TODAY - dt.timedelta(days=7)).isoformat()},  # so that the lookback applies
    "lytics": {"scan_page_size": 100},
}


def second_run(sandbox: Sandbox, vendor: str) -> dict:
    sandbox.configure()
    config = tap_config(vendor, sandbox, **SECOND_RUN_SETTINGS.get(vendor, {}))
    with tempfile.NamedTemporaryFile("w+") as out:
        run_tap(vendor, config, out=out)
        out.seek(0)
        states = [json.loads(line)["value"] for line in out if line.startswith('{"type":"STATE"')]
    first = len(sandbox.log())
    sandbox.control("reset")
    run_tap(vendor, config, state=states[-1])
    log = sandbox.log()
    by_path: dict[str, int] = {}
    for r in log:
        key = r["path"] + (f"?type={r['query']['type'][0]}" if "type" in r["query"] else "")
        by_path[key] = by_path.get(key, 0) + 1
    return {"vendor": vendor, "first": first, "second": len(log), "by_path": by_path, "need": SECOND_RUN_NEED[vendor][0]}


# -- report ---------------------------------------------------------------------------------------------------

NOTES = [
    "- Ratios on a 2-core machine spread by about ±25% from run to run (see the stack notes); compare ratios "
    "measured in the same run, never absolute rates across runs.",
    "- The simulator generates every page in one Python process, so its speed bounds both the tap and the floor: "
    "the faster the simulator, the more the tap's own per-record work shows in the ratio.",
    "- Partitions: with `max_concurrency` at its default of 4 the ceiling is 4x; accounts with many domains or "
    "audiences can raise it (it honours `max_requests_per_second` and Retry-After either way).",
]

def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    ram = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))) / MB
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("singer-sdk", "msgspec", "ijson", "orjson", "consent-tapkit", "tap-consentmanager", "tap-gravito", "tap-voyado", "tap-claravine", "tap-lytics"))
    return f"{cpu}, {os.cpu_count()} cores, {ram:.0f} GB RAM; Python {platform.python_version()}; {versions}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller throughput runs, no 1 GB responses")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    sandbox = Sandbox()
    lines = [f"# Benchmarks\n\nMeasured by `./scripts/benchmark{' --quick' if args.quick else ''}` on {dt.date.today()}: {machine()}.\n"]

    def emit(*rows: str) -> None:
        for row in rows:
            print(row, flush=True)
            lines.append(row)

    try:
        emit("## Throughput of each tap's largest stream (target: >= 0.5x the orjson floor)", "",
             "Records per second of the sync (tap: its console script with only that stream selected, stdout to "
             "/dev/null, timed by singer-sdk's `sync_duration` of the stream or of the parent that contains it; floor: a "
             "plain script that fetches the same pages with requests, parses them with orjson and writes each record as "
             "a Singer RECORD line). Both wait for the same simulator, which generates every page.", "",
             "| tap | stream | records | tap rec/s | floor rec/s | ratio | target met |", "|---|---|---|---|---|---|---|")
        for vendor in THROUGHPUT:
            r = throughput(sandbox, vendor, args.quick)
            emit(f"| tap-{vendor} | {r['stream']} | {r['records']:,} | {r['tap']:,.0f} | {r['floor']:,.0f} | {r['ratio']:.2f}x | {'yes' if r['ratio'] >= 0.5 else 'no'} |")
        emit("", "## Peak RSS of the tap for one response (target: < 150 MB)", "",
             "| tap | response | rows | records | peak RSS | seconds | target met |", "|---|---|---|---|---|---|---|")
        for vendor in MEMORY:
            for size in (10, 100) if args.quick else (10, 100, 1024):
                r = peak_rss(sandbox, vendor, size)
                emit(f"| tap-{vendor} | {size} MB | {r['rows']:,} | {r['records']:,} | {r['rss_mb']:.0f} MB | {r['seconds']:.1f} | {'yes' if r['rss_mb'] < 150 else 'no'} |")
        emit("", "## 16 partitions at 200 ms latency per request (target: concurrent >= 3.5x faster)", "",
             "The stream's sync time (singer-sdk's `sync_duration` metric: every partition fetched and emitted); "
             "the whole process (Python start-up, discovery, teardown) in brackets.", "",
             "| tap | requests | sequential (max_concurrency=1) | default (max_concurrency=4) | ratio | target met |", "|---|---|---|---|---|---|")
        for vendor in ("gravito", "lytics"):
            r = partitions(sandbox, vendor)
            emit(f"| tap-{vendor} | {r['requests']} | {r['seq']:.2f} s ({r['seq_total']:.2f} s) | {r['con']:.2f} s ({r['con_total']:.2f} s) | {r['ratio']:.2f}x ({r['seq_total'] / r['con_total']:.2f}x) | {'yes' if r['ratio'] >= 3.5 else 'no'} |")
        emit("", "## Requests of a second run with nothing changed", "", "| tap | first run | second run | requests by endpoint | what the lookback needs |", "|---|---|---|---|---|")
        for vendor in ("consentmanager", "gravito", "lytics"):
            r = second_run(sandbox, vendor)
            paths = ", ".join(f"`{path}` {count}" for path, count in sorted(r["by_path"].items()))
            emit(f"| tap-{vendor} | {r['first']} | {r['second']} | {paths} | {r['need']} |")
        emit("", "## Reading these numbers", "", *NOTES)
    finally:
        sandbox.stop()
    Path(args.output).write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
