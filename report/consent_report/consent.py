"""The consent overview: banner outcomes from consent_choices_daily (consentmanager cmp_report)."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import defaultdict

from consent_report import charts
from consent_report.model import Section, Table, count, day, percent, rate
from consent_report.warehouse import Warehouse

FIELDS = ("consent_views", "interactions", "accepts", "rejects", "custom_choices")
SPLITS = (("cmp_id", "CMP"), ("site", "site"), ("country", "country"), ("device_id", "device"))
WINDOWS = (7, 28)

HOW = [
    "Mart: analytics.consent_choices_daily (consentmanager report type 1, the CMP report, summed per day, CMP, "
    "site, country and device). Banner views = consentView; accept-all = consentAccept; reject-all = "
    "consentReject; custom = consentCustom (a saved selection); interactions = accept-all + reject-all + custom.",
    "Usercentrics: interaction rate = interactions / banner views; accept rate = accept-all / interactions. "
    "Didomi: consent rate = opt-ins / total choices; opt-in rate = opt-ins / consents asked. Opt-ins here are "
    "accept-all + custom (Didomi counts a choice that accepts at least one purpose as an opt-in), total choices "
    "= interactions, consents asked = banner views.",
    "The 7- and 28-day averages of a day are the accept rate over that day and the days before it (7 or 28 "
    "calendar days), as the sum of accept-all over the sum of interactions: days with more traffic weigh more.",
    "By source: the same counts per CMP vendor from analytics.consent_daily, which puts Didomi's analytics export "
    "(cmp_hourly_metrics: notice displays, consents given / denied / partial) beside consentmanager's report; the "
    "metrics are defined once for both (docs/metrics.md).",
    "Caveats: consentmanager counts banner displays, not people (a reload shows the banner again); a custom "
    "choice that accepts nothing is still counted as an opt-in by Didomi's rule; the site is the delivery "
    "domain of urlID (report type 16), shown as url <id> while that list is not loaded; devices are "
    "consentmanager's device ids.",
]


def totals(rows: t.Iterable[dict[str, t.Any]]) -> dict[str, int]:
    summed = dict.fromkeys(FIELDS, 0)
    for row in rows:
        for name in FIELDS:
            summed[name] += row[name] or 0
    return summed


def kpis(summed: dict[str, int]) -> dict[str, float | None]:
    opt_ins = summed["accepts"] + summed["custom_choices"]
    return {
        "interaction rate": rate(summed["interactions"], summed["consent_views"]),
        "accept rate": rate(summed["accepts"], summed["interactions"]),
        "consent rate": rate(opt_ins, summed["interactions"]),
        "opt-in rate": rate(opt_ins, summed["consent_views"]),
    }


def daily_trend(rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    by_day: dict[dt.date, list[dict[str, t.Any]]] = defaultdict(list)
    for row in rows:
        by_day[row["date"]].append(row)
    summed = {date: totals(day_rows) for date, day_rows in by_day.items()}
    trend = []
    for date in sorted(summed):
        point = {
            "date": date,
            **summed[date],
            "accept rate": rate(summed[date]["accepts"], summed[date]["interactions"]),
        }
        for window in WINDOWS:
            days = [date - dt.timedelta(days=n) for n in range(window)]
            accepts = sum(summed[d]["accepts"] for d in days if d in summed)
            interactions = sum(summed[d]["interactions"] for d in days if d in summed)
            point[f"{window}-day average"] = rate(accepts, interactions)
        trend.append(point)
    return trend


def split(rows: list[dict[str, t.Any]], column: str) -> list[tuple[str, dict[str, int]]]:
    groups: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
    for row in rows:
        key = row[column]
        if column == "site" and key is None:
            key = f"url {row['url_id']}"
        groups[str(key)].append(row)
    return sorted(
        ((key, totals(group)) for key, group in groups.items()), key=lambda item: (-item[1]["consent_views"], item[0])
    )


def section(warehouse: Warehouse) -> Section:
    rows = warehouse.mart("consent_choices_daily")
    result = Section(
        "consent",
        "Consent overview",
        "How many visitors who see the consent banner answer it, and how many of them accept?",
        HOW,
    )
    if not rows:
        result.empty = (
            "No consent-banner data: tap-consentmanager has not loaded this warehouse (consent_choices_daily is empty)."
        )
        return result
    summed = totals(rows)
    first, last = min(row["date"] for row in rows), max(row["date"] for row in rows)
    rates = kpis(summed)
    result.tables.append(
        Table(
            "consent-kpis",
            f"All CMPs, sites, countries and devices, {day(first)} to {day(last)}",
            ["measure", "value"],
            [
                ["banner views", count(summed["consent_views"])],
                ["interactions", count(summed["interactions"])],
                ["accept-all", count(summed["accepts"])],
                ["reject-all", count(summed["rejects"])],
                ["custom", count(summed["custom_choices"])],
                *([name, percent(value)] for name, value in rates.items()),
            ],
        )
    )
    trend = daily_trend(rows)
    series = [
        {"date": point["date"].isoformat(), "series": name, "rate": point[name]}
        for point in trend
        for name in ("accept rate", "7-day average", "28-day average")
        if point[name] is not None
    ]
    result.charts.append(
        ("daily trend", charts.lines(series, "date", "rate", "series", "Accept rate per day", percent=True))
    )
    result.tables.append(
        Table(
            "consent-daily",
            "Per day",
            ["day", "banner views", "interactions", "accept-all", "accept rate", "7-day average", "28-day average"],
            [
                [
                    day(point["date"]),
                    count(point["consent_views"]),
                    count(point["interactions"]),
                    count(point["accepts"]),
                    percent(point["accept rate"]),
                    percent(point["7-day average"]),
                    percent(point["28-day average"]),
                ]
                for point in trend
            ],
        )
    )
    for column, label in (("source", "source"), *SPLITS):
        groups = split(warehouse.mart("consent_daily"), column) if column == "source" else split(rows, column)
        if column == "country":
            shares = [
                {label: key, "choice": choice, "count": summed_group[field]}
                for key, summed_group in groups
                for choice, field in (
                    ("accept-all", "accepts"),
                    ("custom", "custom_choices"),
                    ("reject-all", "rejects"),
                )
            ]
            result.charts.append(
                ("choices by country", charts.stacked_bars(shares, label, "count", "choice", "Choices by country"))
            )
        result.tables.append(
            Table(
                f"consent-by-{label}",
                f"By {label}",
                [
                    label,
                    "banner views",
                    "interactions",
                    "accept-all",
                    "reject-all",
                    "custom",
                    "interaction rate",
                    "accept rate",
                ],
                [
                    [
                        key,
                        *(count(group[field]) for field in FIELDS),
                        percent(rate(group["interactions"], group["consent_views"])),
                        percent(rate(group["accepts"], group["interactions"])),
                    ]
                    for key, group in groups
                ],
            )
        )
    return result
