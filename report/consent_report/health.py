"""Data health per source: the last successful sync, the rows loaded, the newest data day, the lag and the
warnings of the last run."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import Counter

from consent_report.model import NONE, Section, Table, count, day
from consent_report.runs import SourceRuns
from consent_report.warehouse import MART_SCHEMA, Warehouse

#: per tap, where its newest data day is: (mart, column, the mart's rows of this source)
NEWEST: dict[str, tuple[str, str, str]] = {
    "tap-consentmanager": ("consent_choices_daily", "date", "true"),
    "tap-gravito": ("tcf_consent_by_day", "choice_date", "source = 'gravito'"),
    "tap-didomi": ("cmp_hourly_metrics", "hour", "true"),
    "tap-lytics": ("audience_size_history", "measured_at", "true"),
    "tap-voyado": ("data_subject_requests", "requested_at", "system = 'voyado'"),
    "tap-claravine": ("taxonomy_submissions", "date", "true"),
}

HOW = [
    "Last successful sync: the end of the tap's latest successful `meltano run` (Meltano's system database, table "
    "runs); – when this warehouse's Meltano database is not at hand. Rows loaded: rows now in the tap's schema "
    "(tap_<vendor>), all tables. Newest data day: the newest day in the tap's mart (consentmanager: "
    "consent_choices_daily.date; Gravito: tcf_consent_by_day.choice_date; Didomi: cmp_hourly_metrics.hour; "
    "Lytics: audience_size_history.measured_at; "
    "Voyado: data_subject_requests.requested_at; Claravine: taxonomy_submissions.date). Lag = the report's day − "
    "the newest data day.",
    "Warnings: the WARNING and ERROR lines of each tap in the logs of its last run (the main job's output/logs; "
    "the taps log their level through report/tap-logging.yml): stale bookmarks, skipped or kept rows (_extra), "
    "stopped reports. Shortened to 200 characters; secrets never reach the logs.",
]


def newest_day(warehouse: Warehouse, tap: str, marts: list[str]) -> dt.date | None:
    if tap not in NEWEST or NEWEST[tap][0] not in marts:
        return None
    mart, column, where = NEWEST[tap]
    value = warehouse.rows(f'select max("{column}") as newest from {MART_SCHEMA}."{mart}" where {where}')[0]["newest"]
    return value.date() if isinstance(value, dt.datetime) else value


def section(warehouse: Warehouse, runs: dict[str, SourceRuns], as_of: dt.date) -> Section:
    result = Section("health", "Data health", "Is every source loading, and how fresh is its data?", HOW)
    tables = warehouse.tables()
    marts = tables.get(MART_SCHEMA, [])
    taps = sorted({schema.replace("_", "-") for schema in tables if schema.startswith("tap_")} | set(runs))
    if not taps:
        result.empty = "No source has loaded this warehouse yet, and Meltano has no record of a run."
        return result
    rows, notes = [], []
    for tap in taps:
        schema = tap.replace("-", "_")
        loaded = sum(warehouse.count(schema, table) for table in tables.get(schema, []))
        newest = newest_day(warehouse, tap, marts)
        source: t.Any = runs.get(tap, SourceRuns())
        lag = (as_of - newest).days if newest is not None else None
        rows.append(
            [
                tap,
                day(source.last_success) if source.last_success else NONE,
                count(len(tables.get(schema, []))),
                count(loaded),
                day(newest),
                NONE if lag is None else f"{lag} d",
                count(len(source.warnings)),
            ]
        )
        notes += [[tap, warning, count(times)] for warning, times in Counter(source.warnings).items()]
    columns = ["source", "last successful sync (UTC)", "tables", "rows loaded", "newest data day", "lag", "warnings"]
    result.tables.append(Table("health-sources", f"Per source, as of {day(as_of)}", columns, rows))
    result.tables.append(
        Table(
            "health-warnings",
            "Warnings of the last runs (a line repeated is listed once, with how many times)",
            ["source", "warning", "times"],
            notes or [["all sources", "no warnings", "0"]],
        )
    )
    return result
