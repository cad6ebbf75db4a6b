"""The main job's headline: a few answers read from the dbt marts of the DuckDB warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

QUERIES = {
    # one accept rate across CMPs (consent_daily.accept_rate's formula), then each source's share of it
    "Accept rate, last 7 days": """
        select coalesce(source, 'all CMPs, countries, devices'), sum(accepts), sum(consent_views),
               round(100.0 * sum(accepts) / nullif(sum(consent_views), 0), 1),
               -- share of all views: the window sums the rollup total too, so halve it
               round(100.0 * sum(consent_views) / nullif(sum(sum(consent_views)) over () / 2, 0), 1)
        from analytics.consent_daily where "date" > ?::date - 7
        group by rollup (source) order by source nulls first
    """,
    "Top TCF purposes (per source, all domains)": """
        select source || ' purpose ' || purpose_id, sum(consenting_profiles), sum(profiles),
               round(100.0 * sum(consenting_profiles) / sum(profiles), 1)
        from analytics.tcf_purpose_consent group by source, purpose_id
        qualify row_number() over (partition by source order by 4 desc, purpose_id) <= 3
        order by source, 4 desc, purpose_id
    """,
    "Subject requests: open / overdue": """
        select system,
               count(*) filter (where state in ('created', 'waiting', 'running', 'initial', 'primary', 'archive',
                                                'secondary')),
               count(*) filter (where overdue), count(*) filter (where overdue is null), count(*)
        from analytics.data_subject_requests group by system order by system
    """,
    "Audience sizes (latest)": """
        select h.segment_name, h.size, coalesce(m.members, 0), h.measured_at
        from analytics.audience_size_history h
        left join analytics.audience_members_current m using (segment_id)
        qualify row_number() over (partition by h.segment_id order by h.measured_at desc) = 1
        order by h.size desc, h.segment_name
    """,
}
COLUMNS = {
    "Accept rate, last 7 days": ("", "accepts", "consent views", "accept %", "share of views %"),
    "Top TCF purposes (per source, all domains)": ("", "consenting", "profiles", "consent %"),
    "Subject requests: open / overdue": ("system", "open", "overdue (>30 d)", "age unknown", "all"),
    "Audience sizes (latest)": ("audience", "size", "members loaded", "measured at"),
}


def headline(warehouse: Path, today: dt.date) -> str:
    lines = []
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for title, sql in QUERIES.items():
            rows = conn.execute(sql, [today] if "?" in sql else []).fetchall()
            header = COLUMNS[title]
            lines.append(f"\n{title}")
            lines.append(f"  {header[0]:<30}" + "".join(f"{column:>17}" for column in header[1:]))
            for row in rows:
                cells = [
                    "-"
                    if value is None
                    else (f"{value:%Y-%m-%d %H:%M}" if isinstance(value, dt.datetime) else str(value))
                    for value in row
                ]
                lines.append(f"  {cells[0]:<30}" + "".join(f"{cell:>17}" for cell in cells[1:]))
            if not rows:
                lines.append("  (no rows: the tap has not loaded this warehouse)")
    return "\n".join(lines)
