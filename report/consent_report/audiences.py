"""Audiences: size over time (audience_size_history) and members loaded (audience_members_current)."""

from __future__ import annotations

from consent_report import charts
from consent_report.model import NONE, Section, Table, count, day
from consent_report.warehouse import Warehouse

HOW = [
    "Marts: analytics.audience_size_history (the size Lytics reports, one measurement per run of tap-lytics) and "
    "analytics.audience_members_current (members the latest scan loaded).",
    "Difference = members loaded − the latest size Lytics reports. A gap means the scan and the vendor's count "
    "disagree: Lytics computes sizes on its side and may lag a scan, or the scan was interrupted.",
    "Caveats: an audience whose scan found nobody has no row in audience_members_current (0 loaded).",
]


def section(warehouse: Warehouse) -> Section:
    history = warehouse.mart("audience_size_history")
    members = {row["segment_id"]: row["members"] for row in warehouse.mart("audience_members_current")}
    result = Section("audiences", "Audiences", "How big is each audience, and did we load all its members?", HOW)
    if not history:
        result.empty = "No audience sizes: tap-lytics has not loaded this warehouse (audience_size_history is empty)."
        return result
    latest: dict[str, dict] = {}
    for row in sorted(history, key=lambda r: r["measured_at"]):
        latest[row["segment_id"]] = row
    ordered = sorted(latest.values(), key=lambda r: (-r["size"], r["segment_name"] or ""))
    rows = []
    for row in ordered:
        loaded = members.get(row["segment_id"], 0)
        difference = loaded - row["size"] if row["size"] is not None else None
        rows.append(
            [
                row["segment_name"] or row["segment_id"],
                count(row["size"]),
                count(loaded),
                NONE if difference is None else f"{difference:+d}",
                day(row["measured_at"]),
            ]
        )
    result.tables.append(
        Table(
            "audiences-latest",
            "Latest measurement per audience",
            ["audience", "size (Lytics)", "members loaded", "difference", "measured at"],
            rows,
        )
    )
    series = [
        {
            "measured_at": row["measured_at"].isoformat(),
            "audience": row["segment_name"] or row["segment_id"],
            "size": row["size"],
        }
        for row in history
    ]
    result.charts.append(
        ("size over time", charts.lines(series, "measured_at", "size", "audience", "Audience size over time"))
    )
    return result
