"""TCF: consent share per purpose and per vendor (Gravito's decoded TC strings), and its change."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import defaultdict

from consent_report import charts
from consent_report.model import Section, Table, count, day, percent, points, rate
from consent_report.warehouse import Warehouse

PERIOD_DAYS = 30

HOW = [
    "Marts: analytics.tcf_purpose_consent and analytics.tcf_vendor_consent (one row per domain and id), summed "
    "over domains: consent share = profiles that consented / profiles whose TC string decoded.",
    f"Change: analytics.tcf_consent_by_day (the same counts by the day the TC string was last updated). This "
    f"period = the {PERIOD_DAYS} days ending on the newest such day; previous period = the {PERIOD_DAYS} days "
    "before it. Change = this period's share − the previous period's, in percentage points (– when a period has "
    "no choices).",
    "Caveats: a profile counts once, with its latest TC string; TC strings that do not decode are left out; a "
    "legitimate-interest basis is not consent, so an id named only by legitimate interest shows 0 consenting.",
]


def periods(rows: list[dict[str, t.Any]]) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None:
    if not rows:
        return None
    end = max(row["choice_date"] for row in rows)
    start = end - dt.timedelta(days=PERIOD_DAYS - 1)
    return (start, end), (start - dt.timedelta(days=PERIOD_DAYS), start - dt.timedelta(days=1))


def table(
    kind: str, totals: list[dict[str, t.Any]], by_day: list[dict[str, t.Any]], id_column: str
) -> tuple[Table, list]:
    summed: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in totals:
        summed[row[id_column]][0] += row["profiles"]
        summed[row[id_column]][1] += row["consenting_profiles"]
    window = periods(by_day)
    in_period: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    if window:
        for row in by_day:
            if row["kind"] != kind:
                continue
            for n, (start, end) in enumerate(window):
                if start <= row["choice_date"] <= end:
                    in_period[(row["tcf_id"], n)][0] += row["profiles"]
                    in_period[(row["tcf_id"], n)][1] += row["consenting_profiles"]
    rows, plot = [], []
    # highest consent share first (profiles is never 0: a listed id has at least its domain's profiles)
    for tcf_id in sorted(summed, key=lambda i: (-summed[i][1] / max(summed[i][0], 1), i)):
        profiles, consenting = summed[tcf_id]
        now = rate(in_period[(tcf_id, 0)][1], in_period[(tcf_id, 0)][0])
        before = rate(in_period[(tcf_id, 1)][1], in_period[(tcf_id, 1)][0])
        change = None if now is None or before is None else now - before
        rows.append(
            [
                str(tcf_id),
                count(profiles),
                count(consenting),
                percent(rate(consenting, profiles)),
                percent(now),
                percent(before),
                points(change),
            ]
        )
        plot.append({kind: f"{kind} {tcf_id}", "share": rate(consenting, profiles)})
    caption = f"Per {kind}, all domains"
    if window:
        (start, end), (previous_start, previous_end) = window
        caption += f"; this period {day(start)} to {day(end)}, previous {day(previous_start)} to {day(previous_end)}"
    columns = [kind, "profiles", "consenting", "consent share", "this period", "previous period", "change"]
    return Table(f"tcf-{kind}s", caption, columns, rows), plot


def section(warehouse: Warehouse) -> Section:
    purposes = warehouse.mart("tcf_purpose_consent")
    vendors = warehouse.mart("tcf_vendor_consent")
    by_day = warehouse.mart("tcf_consent_by_day")
    result = Section(
        "tcf",
        "TCF consent",
        "Which TCF purposes and vendors do people consent to, and is that share going up or down?",
        HOW,
    )
    if not purposes and not vendors:
        result.empty = "No TCF consent data: tap-gravito has not loaded any TC string that decodes."
        return result
    for kind, totals, id_column in (("purpose", purposes, "purpose_id"), ("vendor", vendors, "vendor_id")):
        shown, plot = table(kind, totals, by_day, id_column)
        result.tables.append(shown)
        top = plot[:15]
        title = f"Consent share per {kind}" + (" (the 15 highest)" if len(plot) > 15 else "")
        result.charts.append((f"{kind}s", charts.bars(top, kind, "share", title, percent=True)))
    return result
