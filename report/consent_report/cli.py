"""`consent-report`: the dbt marts of the warehouse -> output/report/index.html, one offline page.

DuckDB by default (output/warehouse.duckdb); PostgreSQL with --postgres URI, or --postgres-from-env (the
dbt-postgres settings DBT_POSTGRES_HOST, _PORT, _USER, _PASSWORD, _DBNAME). Prints a progress line per section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import typing as t
from pathlib import Path

from consent_report import audiences, consent, health, requests, runs, tcf
from consent_report.model import Section
from consent_report.render import page
from consent_report.warehouse import Warehouse, open_warehouse, postgres_uri_from_env

SECTIONS: list[tuple[str, t.Callable[..., Section]]] = [
    ("consent overview", consent.section),
    ("TCF", tcf.section),
    ("subject requests", requests.section),
    ("audiences", audiences.section),
]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="consent-report", description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", type=Path, default=Path("output/warehouse.duckdb"), help="the DuckDB warehouse")
    parser.add_argument("--postgres", metavar="URI", help="read a PostgreSQL warehouse instead (libpq URI)")
    parser.add_argument("--postgres-from-env", action="store_true", help="PostgreSQL from the DBT_POSTGRES_* settings")
    parser.add_argument(
        "--meltano-db", type=Path, default=Path(".meltano/meltano.db"), help="Meltano's system database"
    )
    parser.add_argument("--logs", type=Path, nargs="*", default=None, help="run logs (default: output/logs/*.log)")
    parser.add_argument("--out", type=Path, default=Path("output/report/index.html"))
    return parser.parse_args(argv)


def build(
    warehouse: Warehouse, meltano_db: Path | None, logs: list[Path], out: Path, say: t.Callable[[str], None]
) -> Path:
    started = time.monotonic()
    built = dt.datetime.now(dt.UTC)
    as_of = built.date()
    sections = []
    for name, make in SECTIONS:
        begun = time.monotonic()
        section = make(warehouse)
        sections.append(section)
        say(f"  {name}: {'empty' if section.empty else 'ok'} in {time.monotonic() - begun:.1f} s")
    begun = time.monotonic()
    source_runs = runs.last_runs(meltano_db)
    runs.warnings(logs, source_runs)
    sections.append(health.section(warehouse, source_runs, as_of))
    say(f"  data health: {'empty' if sections[-1].empty else 'ok'} in {time.monotonic() - begun:.1f} s")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(sections, warehouse.describe(), as_of, built), encoding="utf-8")
    say(f"consent report: {out} in {time.monotonic() - started:.1f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    postgres = args.postgres
    if args.postgres_from_env:
        postgres = postgres_uri_from_env()
        if postgres is None:
            print("consent-report: --postgres-from-env needs DBT_POSTGRES_DBNAME (and host, user …)", file=sys.stderr)
            return 2
    try:
        warehouse = open_warehouse(args.duckdb, postgres)
        logs = args.logs if args.logs is not None else sorted(Path("output/logs").glob("tap-*.log"))
        print(f"consent report from {warehouse.describe()}:", file=sys.stderr)
        try:
            build(warehouse, args.meltano_db, logs, args.out, lambda line: print(line, file=sys.stderr))
        finally:
            warehouse.close()
    except FileNotFoundError as exc:
        print(f"consent-report: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # one clear line, never a traceback (and never the URI: it may hold a password)
        print(f"consent-report: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
