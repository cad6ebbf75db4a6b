"""The main job: every tap through `meltano run` into DuckDB, against the local sandbox, then the dbt
project (`meltano run dbt-duckdb:build`: staging models, marts and their tests).

Prints, per loaded table, the records extracted by this run and the rows now in the warehouse,
and per vendor the HTTP requests this run made: run it twice and the second run is visibly
incremental (fewer records and requests, the same rows). Ends with a headline table read from the marts
and the job's wall time by phase (Meltano start-up, discovery, tap, target, dbt), read from the logs.

Work a second run does not repeat:
- Meltano's start-up per step: every step is a block of one `meltano run` (scripts/main_job_runs.py; a
  failing tap stops alone, the blocks after it run in a new one); `--legacy` runs one `meltano run` per step;
- `meltano install` runs only when a plugin's definition changed or its virtualenv is missing (a
  fingerprint of the definitions in .meltano/, `--install` forces it); the taps are editable installs,
  so their code is current without one;
- Meltano discovers editable taps on every run (it never caches their catalogs). A tap whose streams
  come from its own schemas (its discovery asks nothing of the vendor) gets, from the second run on,
  the catalog Meltano itself built and selected on the run before (`TAP_X__CATALOG`), for as long as
  the tap's code, the kit and the project files are unchanged; Claravine and Lytics, whose streams
  come from the vendor, are discovered each run as before.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import typing as t
from collections import Counter
from pathlib import Path

import duckdb
from consent_report.cli import build as build_report
from consent_report.warehouse import open_warehouse

from sandbox.core import Sandbox
from sandbox.profiles import all_profiles

sys.path.insert(0, str(Path(__file__).resolve().parent))
import main_job_runs
from headline import headline

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"
WAREHOUSE = OUTPUT / "warehouse.duckdb"
PREFERRED_PORT = 8765
DBT_DONE = re.compile(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)")
METRIC = re.compile(r'METRIC: (\{.*"metric":"record_count".*\})')
#: sandbox switches with which a single run shows every stream (e.g. an export lifecycle completed at once)
SANDBOX_SETTINGS = {name: value for vendor in all_profiles() for name, value in vendor.one_run_sandbox_settings.items()}
MELTANO_DIR = ROOT / ".meltano"
INSTALL_FINGERPRINT = MELTANO_DIR / "main-job-install.sha256"
CATALOGS = MELTANO_DIR / "main-job-catalogs"
#: taps whose discovery asks nothing of the vendor (streams from their own schemas): catalogs are reused
STATIC_DISCOVERY = tuple(vendor.tap for vendor in all_profiles() if vendor.static_discovery)
#: plugins the job needs besides the extractors: (type directory, name)
OTHER_PLUGINS = (("loaders", "target-duckdb"), ("transformers", "dbt-duckdb"))
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \[\w+\s*\] (\S+)\s+(.*)$")


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
        return {(s, t): conn.execute(f'select count(*) from "{s}"."{t}"').fetchall()[0][0] for s, t in tables}


def extracted_records(log: str) -> Counter:
    counts: Counter = Counter()
    for match in METRIC.finditer(log):
        metric = json.loads(match.group(1))
        counts[metric["tags"]["stream"]] += metric["value"]
    return counts


def digest(paths: list[Path], *extra: str) -> str:
    sha = hashlib.sha256()
    for path in sorted(paths):
        sha.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for text in extra:
        sha.update(text.encode() + b"\0")
    return sha.hexdigest()


def project_files() -> list[Path]:
    return [ROOT / "meltano.yml", *(ROOT / "plugins").glob("*.meltano.yml")]


def install_fingerprint(meltano: str) -> str:
    """Everything `meltano install` acts on: the plugin definitions, the packages' own metadata, Meltano."""
    packages = [*(ROOT / "taps").glob("*/pyproject.toml"), *(ROOT / "loaders").glob("*/pyproject.toml")]
    return digest([*project_files(), *packages], meltano, sys.version)


def installed() -> bool:
    venvs = [MELTANO_DIR / "extractors" / tap / "venv" for tap in extractors()] + [
        MELTANO_DIR / kind / name / "venv" for kind, name in OTHER_PLUGINS
    ]
    return all((venv / "bin" / "python").exists() for venv in venvs)


def install(meltano: str, env: dict, force: bool) -> tuple[str, float]:
    started = time.monotonic()
    fingerprint = install_fingerprint(meltano)
    if not force and installed() and INSTALL_FINGERPRINT.exists() and INSTALL_FINGERPRINT.read_text() == fingerprint:
        return "up to date (plugin definitions unchanged: skipped)", time.monotonic() - started
    subprocess.run(
        [meltano, "install", "--plugin-type", "extractor"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [meltano, "install", *(name for _, name in OTHER_PLUGINS)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    INSTALL_FINGERPRINT.write_text(fingerprint)
    return "installed", time.monotonic() - started


def catalog_key(tap: str, env: dict) -> str:
    """What a static tap's catalog depends on: its code and schemas, the kit, the project, its settings."""
    sources = [p for p in (ROOT / "taps" / tap).rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".toml")]
    kit = list((ROOT / "taps" / "tapkit").rglob("*.py"))
    settings = sorted(f"{k}={v}" for k, v in env.items() if k.startswith(tap.upper().replace("-", "_") + "_"))
    return digest([*sources, *kit, *project_files()], *settings)


def reusable_catalog(tap: str, env: dict) -> Path | None:
    """The catalog Meltano built and selected for this tap on the last run, if nothing it depends on changed."""
    if tap not in STATIC_DISCOVERY:
        return None
    catalog, key = CATALOGS / f"{tap}.json", CATALOGS / f"{tap}.key"
    if catalog.exists() and key.exists() and key.read_text() == catalog_key(tap, env):
        return catalog
    return None


def keep_catalog(tap: str, env: dict) -> None:
    """After a successful run: keep the catalog Meltano discovered and applied its select rules to."""
    used = MELTANO_DIR / "run" / tap / "tap.properties.json"
    if tap not in STATIC_DISCOVERY or not used.exists():
        return
    CATALOGS.mkdir(parents=True, exist_ok=True)
    (CATALOGS / f"{tap}.json").write_bytes(used.read_bytes())
    (CATALOGS / f"{tap}.key").write_text(catalog_key(tap, env))


def phases(log: str, started: float, ended: float, tap: str | None) -> dict[str, float]:
    """Seconds of one `meltano run` by phase, from the timestamps of its log lines (UTC wall clock)."""
    lines = []
    for line in log.splitlines():
        match = LOG_LINE.match(line)
        if match:
            at = dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC).timestamp()
            lines.append((at, match.group(2), match.group(3)))
    if not lines:
        return {"total": ended - started}

    def first(predicate: t.Callable[[str, str], bool], default: float) -> float:
        return next((at for at, source, text in lines if predicate(source, text)), default)

    if tap is None:  # a transformer: Meltano, then the plugin (its start-up and its lines), then Meltano again
        plugin = [n for n, (_, source, _) in enumerate(lines) if source != "meltano"]
        if not plugin:
            return {"meltano": ended - started, "total": ended - started}
        begin = lines[plugin[0] - 1][0] if plugin[0] else started  # Meltano's last line before the plugin's
        end = lines[plugin[-1]][0]
        return {"meltano": (begin - started) + (ended - end), "dbt": end - begin, "total": ended - started}
    custom = first(lambda s, x: s == "meltano" and "Using custom catalog" in x, 0.0)
    discovery_at = custom or first(lambda s, x: s == "meltano" and "Running catalog discovery" in x, started)
    banner_at = first(lambda s, x: s == tap and " Meltano SDK v" in x, discovery_at)
    # discovery: up to the last line of the `--discover` process (none: up to the sync's banner)
    discovered_at = (
        discovery_at
        if custom
        else max([at for at, source, _ in lines if source == tap and discovery_at <= at < banner_at] or [banner_at])
    )
    tap_lines = [at for at, source, _ in lines if source == tap and at >= banner_at]
    target_lines = [at for at, source, _ in lines if source.startswith("target-")]
    tap_end = tap_lines[-1] if tap_lines else banner_at
    target_end = max(target_lines[-1] if target_lines else tap_end, tap_end)
    return {
        "meltano": (discovery_at - started) + (ended - target_end),
        "discovery": discovered_at - discovery_at,
        "tap": tap_end - discovered_at,
        "target": target_end - tap_end,
        "total": ended - started,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tap", action="append", help="run only this tap (repeatable)")
    parser.add_argument("--install", action="store_true", help="run `meltano install` even if nothing changed")
    parser.add_argument(
        "--legacy", action="store_true", help="one `meltano run` per step, as before issue 28 (for comparison)"
    )
    args = parser.parse_args()
    job_started = time.time()
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
        # each tap line starts with its level, so the report's data health can list the run's warnings
        "SINGER_SDK_LOG_CONFIG": str(ROOT / "report" / "tap-logging.yml"),
    }
    print(f"Sandbox serving on {sandbox.base_url}; extracting from {start_date}.")
    timings: list[tuple[str, dict[str, float]]] = []
    try:
        status, seconds = install(meltano, env, args.install)
        print(f"  meltano install: {status} in {seconds:.1f} s")
        timings.append(("meltano install", {"meltano": seconds, "total": seconds}))
        failed: list[str] = []
        extracted: dict[str, Counter] = {}
        requests: Counter = Counter()
        run_env = dict(env)
        reused = {tap: reusable_catalog(tap, env) for tap in taps}
        for tap, catalog in reused.items():
            if catalog is not None:
                run_env[tap.upper().replace("-", "_") + "__CATALOG"] = str(catalog)
        before = {tap: sandbox.count(tap.removeprefix("tap-")) for tap in taps}
        run_steps = main_job_runs.one_process_per_step if args.legacy else main_job_runs.one_process
        for step in run_steps(meltano, ROOT, [*taps, main_job_runs.DBT_STEP], run_env):
            log_name = "dbt-duckdb" if step.tap is None else step.tap
            (OUTPUT / "logs" / f"{log_name}.log").write_text(step.log)
            timings.append((step.command, phases(step.log, step.started, step.ended, step.tap)))
            status = (
                "ok" if step.returncode == 0 else f"FAILED (exit {step.returncode}, see output/logs/{log_name}.log)"
            )
            if step.tap is None:
                summary = DBT_DONE.search(step.log)
                detail = f" ({summary.group(1)})" if summary else ""
            else:
                detail = " (catalog of the last run reused)" if reused[step.tap] is not None else " (discovered)"
                extracted[step.tap] = extracted_records(step.log)
            print(f"  {step.command}: {status} in {step.ended - step.started:.1f} s{detail}")
            if step.returncode:
                failed.append(step.name)
            elif step.tap is not None and reused[step.tap] is None:
                keep_catalog(step.tap, env)
        for tap in taps:  # each vendor is asked only by its tap
            requests[tap] = sandbox.count(tap.removeprefix("tap-")) - before[tap]
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
        report_started = time.time()
        print(f"\nConsent report from {WAREHOUSE.relative_to(ROOT)} (./scripts/report builds it again):")
        consent_report(WAREHOUSE, [OUTPUT / "logs" / f"{tap}.log" for tap in taps])
        timings.append(("consent report", {"total": time.time() - report_started}))
    print_timings(timings, time.time() - job_started)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


def consent_report(warehouse: Path, logs: list[Path]) -> None:
    """The job's last step: output/report/index.html from the marts, a progress line per section."""
    opened = open_warehouse(warehouse, None)
    try:
        build_report(opened, MELTANO_DIR / "meltano.db", logs, OUTPUT / "report" / "index.html", print)
    finally:
        opened.close()


PHASES = ("meltano", "discovery", "tap", "target", "dbt")


def print_timings(timings: list[tuple[str, dict[str, float]]], wall: float) -> None:
    """Where the job's wall time went: each step by phase, then the totals."""
    print(f"\nWall time {wall:.1f} s, by step and phase (seconds, from the steps' log timestamps):\n")
    header = f"{'step':<48}" + "".join(f"{name:>10}" for name in (*PHASES, "total"))
    print(header)
    print("-" * len(header))
    totals: Counter = Counter()
    for step, parts in timings:
        totals.update(parts)
        print(
            f"{step:<48}"
            + "".join(f"{parts[name]:>10.1f}" if name in parts else f"{'':>10}" for name in (*PHASES, "total"))
        )
    other = wall - totals["total"]
    print(f"{'sandbox, warehouse counts, headline':<48}" + f"{'':>10}" * len(PHASES) + f"{other:>10.1f}")
    print("-" * len(header))
    print(f"{'all':<48}" + "".join(f"{totals[name]:>10.1f}" for name in PHASES) + f"{wall:>10.1f}")
    print(
        "meltano: Meltano's own start-up (Python and the project), state, wrap-up; discovery: the tap's `--discover`; "
        "tap: the sync's tap process from its start to its last line (the target loads alongside); target: the "
        "target's work after the tap's last line; dbt: the dbt process."
    )


if __name__ == "__main__":
    sys.exit(main())
