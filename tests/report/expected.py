"""What the page must show, computed with SQL straight from the marts (never with the report's code), as the
page's text: counts as whole numbers, shares as percent with one decimal, – where there is no number."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import sqlite3
import typing as t
from pathlib import Path

Query = t.Callable[[str], list[tuple]]
DASH = "–"
DOUBLE = "double precision"
#: the vendors' in-progress states (Voyado job status, Lytics deletion state), as documented in docs/report.md
OPEN_STATES = "('created', 'waiting', 'running', 'initial', 'primary', 'archive', 'secondary')"


def plain(value: t.Any) -> t.Any:
    """PostgreSQL's numeric sums as Python numbers (whole numbers as int)."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def pct(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}%"


def num(value: t.Any) -> str:
    return DASH if value is None else str(int(value))


def iso(value: t.Any) -> str:
    return DASH if value is None else value.isoformat()


def consent_kpis(query: Query) -> list[list[str]]:
    ((views, interactions, accepts, rejects, custom, ir, ar, cr, oir),) = query(
        f"""
        select sum(consent_views), sum(interactions), sum(accepts), sum(rejects), sum(custom_choices),
               cast(sum(interactions) as {DOUBLE}) / nullif(sum(consent_views), 0),
               cast(sum(accepts) as {DOUBLE}) / nullif(sum(interactions), 0),
               cast(sum(accepts) + sum(custom_choices) as {DOUBLE}) / nullif(sum(interactions), 0),
               cast(sum(accepts) + sum(custom_choices) as {DOUBLE}) / nullif(sum(consent_views), 0)
        from analytics.consent_choices_daily
        """
    )
    return [
        ["banner views", num(views)],
        ["interactions", num(interactions)],
        ["accept-all", num(accepts)],
        ["reject-all", num(rejects)],
        ["custom", num(custom)],
        ["interaction rate", pct(ir)],
        ["accept rate", pct(ar)],
        ["consent rate", pct(cr)],
        ["opt-in rate", pct(oir)],
    ]


def consent_daily(query: Query) -> list[list[str]]:
    """Per day, with the accept rate over the trailing 7 and 28 calendar days (sums over sums)."""
    rows = query(
        f"""
        with days as (
            select "date" as d, sum(consent_views) as v, sum(interactions) as i, sum(accepts) as a
            from analytics.consent_choices_daily group by "date"
        )
        select days.d, days.v, days.i, days.a, cast(days.a as {DOUBLE}) / nullif(days.i, 0),
               (select cast(sum(w.a) as {DOUBLE}) / nullif(sum(w.i), 0)
                from days w where w.d between days.d - 6 and days.d),
               (select cast(sum(w.a) as {DOUBLE}) / nullif(sum(w.i), 0)
                from days w where w.d between days.d - 27 and days.d)
        from days
        """
    )
    return [[iso(d), num(v), num(i), num(a), pct(r), pct(r7), pct(r28)] for d, v, i, a, r, r7, r28 in rows]


def consent_split(query: Query, column: str) -> list[list[str]]:
    """Per CMP, site, country or device (consent_choices_daily), or per source (consent_daily: every CMP vendor)."""
    key = "coalesce(site, 'url ' || cast(url_id as varchar))" if column == "site" else f"cast({column} as varchar)"
    mart = "consent_daily" if column == "source" else "consent_choices_daily"
    interactions = "accepts + rejects + custom_choices"  # consent_daily's own interactions column is not read back
    rows = query(
        f"""
        select {key}, sum(consent_views), sum({interactions}), sum(accepts), sum(rejects), sum(custom_choices),
               cast(sum({interactions}) as {DOUBLE}) / nullif(sum(consent_views), 0),
               cast(sum(accepts) as {DOUBLE}) / nullif(sum({interactions}), 0)
        from analytics.{mart} group by {key}
        """
    )
    return [[k, *map(num, counts), pct(ir), pct(ar)] for k, *counts, ir, ar in rows]


def tcf(query: Query, kind: str) -> list[list[str]]:
    mart, id_column = (f"tcf_{kind}_consent", f"{kind}_id")
    rows = query(
        f"""
        with total as (
            select {id_column} as id, sum(profiles) as p, sum(consenting_profiles) as c
            from analytics.{mart} group by {id_column}
        ),
        newest as (select max(choice_date) as e from analytics.tcf_consent_by_day),
        periods as (
            select tcf_id as id,
                   sum(case when choice_date between e - 29 and e then profiles end) as p0,
                   sum(case when choice_date between e - 29 and e then consenting_profiles end) as c0,
                   sum(case when choice_date between e - 59 and e - 30 then profiles end) as p1,
                   sum(case when choice_date between e - 59 and e - 30 then consenting_profiles end) as c1
            from analytics.tcf_consent_by_day, newest where kind = '{kind}' group by tcf_id
        )
        select total.id, total.p, total.c, cast(total.c as {DOUBLE}) / nullif(total.p, 0),
               cast(periods.c0 as {DOUBLE}) / nullif(periods.p0, 0),
               cast(periods.c1 as {DOUBLE}) / nullif(periods.p1, 0)
        from total left join periods on periods.id = total.id
        """
    )
    shown = []
    for tcf_id, profiles, consenting, share, now, before in rows:
        change = DASH if now is None or before is None else f"{100 * (now - before):+.1f} pt"
        shown.append([str(tcf_id), num(profiles), num(consenting), pct(share), pct(now), pct(before), change])
    return shown


def requests(query: Query) -> list[list[str]]:
    rows = query(
        f"""
        select system, count(*),
               sum(case when state in {OPEN_STATES} then 1 else 0 end),
               sum(case when state in {OPEN_STATES} then 0 else 1 end),
               sum(case when state in {OPEN_STATES} and days_open > 30 then 1 else 0 end),
               sum(case when state in {OPEN_STATES} and days_open > 90 then 1 else 0 end),
               sum(case when state in {OPEN_STATES} and days_open > 45 then 1 else 0 end),
               sum(case when state in {OPEN_STATES} and days_open > 90 then 1 else 0 end),
               sum(case when state in {OPEN_STATES} and days_open is null then 1 else 0 end),
               percentile_cont(0.5) within group (order by case when state not in {OPEN_STATES} then days_open end)
        from analytics.data_subject_requests group by system
        """
    )
    return [[system, *map(num, counts), DASH if median is None else f"{median:g}"] for system, *counts, median in rows]


def audiences(query: Query) -> list[list[str]]:
    rows = query(
        """
        with latest as (
            select segment_id, segment_name, size, measured_at,
                   row_number() over (partition by segment_id order by measured_at desc) as n
            from analytics.audience_size_history
        )
        select coalesce(latest.segment_name, latest.segment_id), latest.size, coalesce(m.members, 0), latest.measured_at
        from latest left join analytics.audience_members_current m on m.segment_id = latest.segment_id
        where latest.n = 1
        """
    )
    return [
        [name, num(size), num(loaded), f"{loaded - size:+d}", f"{at:%Y-%m-%d %H:%M}"] for name, size, loaded, at in rows
    ]


NEWEST = {
    "tap-consentmanager": 'select max("date") from analytics.consent_choices_daily',
    "tap-gravito": "select max(choice_date) from analytics.tcf_consent_by_day where source = 'gravito'",
    "tap-didomi": "select max(hour) from analytics.cmp_hourly_metrics",
    "tap-lytics": "select max(measured_at) from analytics.audience_size_history",
    "tap-voyado": "select max(requested_at) from analytics.data_subject_requests where system = 'voyado'",
    "tap-claravine": 'select max("date") from analytics.taxonomy_submissions',
}
WARNING = re.compile(r"^\S+Z \[\w+\s*\] (tap-\S+)\s+(WARNING|ERROR|CRITICAL) (.*)$")


def warnings(log: Path) -> list[list[str]]:
    """Each distinct warning line of a tap in the run's log (level, then the text; 200 characters), and how often."""
    seen: dict[tuple[str, str], int] = {}
    for line in log.read_text().splitlines():
        match = WARNING.match(line)
        if match:
            key = (match.group(1), f"{match.group(2).lower()}: {match.group(3)}"[:200])
            seen[key] = seen.get(key, 0) + 1
    return [[tap, text, str(times)] for (tap, text), times in seen.items()] or [["all sources", "no warnings", "0"]]


def health(query: Query, meltano_db: Path, log: Path, as_of: dt.date) -> list[list[str]]:
    with sqlite3.connect(meltano_db) as conn:
        runs = conn.execute(
            "select job_name, max(ended_at) from runs where state = 'SUCCESS' group by job_name"
        ).fetchall()
    last = {re.search(r"(tap-[a-z]+)-to-", name).group(1): dt.datetime.fromisoformat(at) for name, at in runs}
    warnings: dict[str, int] = {}
    for line in log.read_text().splitlines():
        match = WARNING.match(line)
        if match:
            warnings[match.group(1)] = warnings.get(match.group(1), 0) + 1
    shown = []
    for (schema,) in query(
        "select distinct table_schema from information_schema.tables where table_schema like 'tap_%'"
    ):
        tap = schema.replace("_", "-")
        tables = [
            name
            for (name,) in query(f"select table_name from information_schema.tables where table_schema = '{schema}'")
        ]
        loaded = sum(query(f'select count(*) from "{schema}"."{name}"')[0][0] for name in tables)
        newest = query(NEWEST[tap])[0][0]
        newest = newest.date() if isinstance(newest, dt.datetime) else newest
        lag = DASH if newest is None else f"{(as_of - newest).days} d"
        shown.append(
            [
                tap,
                f"{last[tap]:%Y-%m-%d %H:%M}",
                num(len(tables)),
                num(loaded),
                iso(newest),
                lag,
                num(warnings.get(tap, 0)),
            ]
        )
    return shown
