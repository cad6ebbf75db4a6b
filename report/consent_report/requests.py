"""Subject requests against the GDPR and CCPA clocks (data_subject_requests: Voyado exports, Lytics deletions)."""

from __future__ import annotations

import statistics
import typing as t
from collections import defaultdict

from consent_report import charts
from consent_report.model import NONE, Section, Table, count
from consent_report.warehouse import Warehouse

#: states of a request still waiting for its answer (Voyado job states, Lytics deletion states)
OPEN_STATES = frozenset({"created", "waiting", "running", "initial", "primary", "archive", "secondary"})
#: (clock, days allowed, days with the extension): GDPR art. 12(3), CCPA § 1798.130(a)(2)
CLOCKS = (("GDPR", 30, 90), ("CCPA", 45, 90))

HOW = [
    "Mart: analytics.data_subject_requests (Voyado customer-data exports, Lytics deletion requests). Open = a "
    "state still waiting for the vendor (" + ", ".join(sorted(OPEN_STATES)) + "); closed = every other state.",
    "Clocks: GDPR gives one month (counted as 30 days), extendable by two more (90 days in all); CCPA gives 45 "
    "days, extendable once by 45 (90 days). An open request older than the first limit is overdue unless it was "
    "extended; older than the second it is overdue in any case. Days open = days since the request was made.",
    "Median days to close: the median of days_open over closed requests whose close is known (a Voyado export "
    "that was downloaded).",
    "Caveats: Lytics' deletion status tells neither when a request was made nor who it is about, so its open "
    "requests have an unknown age (counted under 'age unknown', never as on time); a Voyado request counts from "
    "when the tap created its export job.",
]


def section(warehouse: Warehouse) -> Section:
    rows = warehouse.mart("data_subject_requests")
    result = Section(
        "requests",
        "Subject requests",
        "Are data-subject requests answered within the GDPR and CCPA deadlines?",
        HOW,
    )
    if not rows:
        result.empty = "No subject requests: neither tap-voyado nor tap-lytics has loaded any request."
        return result
    by_system: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
    for row in rows:
        by_system[row["system"]].append(row)
    table_rows, plot = [], []
    for system in sorted(by_system):
        requests = by_system[system]
        open_ = [r for r in requests if r["state"] in OPEN_STATES]
        closed = [r for r in requests if r["state"] not in OPEN_STATES]
        aged = [r["days_open"] for r in open_ if r["days_open"] is not None]
        closed_days = [r["days_open"] for r in closed if r["days_open"] is not None]
        over = [count(sum(days > limit for days in aged)) for _, first, second in CLOCKS for limit in (first, second)]
        median = statistics.median(closed_days) if closed_days else None
        table_rows.append(
            [
                system,
                count(len(requests)),
                count(len(open_)),
                count(len(closed)),
                *over,
                count(len(open_) - len(aged)),
                NONE if median is None else f"{median:g}",
            ]
        )
        plot += [
            {"system": system, "status": "open", "requests": len(open_)},
            {"system": system, "status": "closed", "requests": len(closed)},
        ]
    columns = ["system", "requests", "open", "closed"]
    columns += [
        f"open > {limit} d ({clock}{' extended' if n else ''})"
        for clock, first, second in CLOCKS
        for n, limit in enumerate((first, second))
    ]
    columns += ["age unknown", "median days to close"]
    result.tables.append(Table("requests-by-system", "Per system", columns, table_rows))
    result.charts.append(
        ("open and closed", charts.stacked_bars(plot, "system", "requests", "status", "Open and closed requests"))
    )
    return result
