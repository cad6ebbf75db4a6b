"""The dbt project on a loaded warehouse: every tap, then `dbt build` (models and their tests), in one
`meltano run`, on DuckDB and on the real PostgreSQL. Every mart's numbers are compared exactly with
figures computed from the simulators' ground truth (tests/pipelines/marts_truth.py).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json

import duckdb
import psycopg
import pytest

from tapkit import clock
from tests.pipelines import marts_truth

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]

#: the streams the marts and their tests read (the rest would only make the runs slower)
SELECT = {
    "tap-consentmanager": ["cmp_report", "cmps", "designs", "delivery_domains"],
    "tap-gravito": ["tcf_consents", "microprofiles"],
    "tap-lytics": ["segments", "segment_sizes", "audience_members", "deletion_requests"],
    "tap-voyado": ["export_jobs", "customer_data"],
    "tap-claravine": ["datasets", "transactions"],
    "tap-didomi": ["cmp_hourly_metrics", "export_users", "purposes", "vendors"],
}


def plain(value):
    """Database values as Python compares them with the truth: days as ISO text, whole numbers as int."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def load_and_build(meltano, target: str, transformer: str, select: dict[str, list[str]] = SELECT) -> None:
    for tap, streams in select.items():
        meltano.extra_env[f"{tap.upper().replace('-', '_')}__SELECT"] = json.dumps(
            [f"{stream}.*" for stream in streams]
        )
    blocks = [block for tap in select for block in (tap, target)]
    proc = meltano.run(*blocks, f"{transformer}:build")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "Completed successfully" in proc.stdout + proc.stderr  # dbt's models and tests all passed


def assert_marts(query, sandbox, started: dt.datetime) -> None:
    def rows(sql: str) -> list[tuple]:
        return [tuple(plain(value) for value in row) for row in query(sql)]

    consent = rows(
        'select source, "date", cmp_id, notice_id, country, device_id, device_type, page_views, consent_views, '
        "accepts, rejects, accept_rate, reject_rate, custom_choices, interactions, opt_ins, consent_rate, "
        "opt_in_rate, interaction_rate from analytics.consent_daily"
    )
    assert {row[:7]: row[7:] for row in consent} == marts_truth.consent_daily(sandbox)
    assert len(consent) == len(marts_truth.consent_daily(sandbox))
    assert {row[0] for row in consent} == {"consentmanager", "didomi"}  # one mart, both CMPs

    for mart, id_column, kind in (
        ("tcf_purpose_consent", "purpose_id", "purpose"),
        ("tcf_vendor_consent", "vendor_id", "vendor"),
    ):
        found = rows(
            f"select source, domain, {id_column}, profiles, consenting_profiles, consent_rate from analytics.{mart}"
        )
        expected = marts_truth.tcf_consent(sandbox, kind)
        assert len(found) == len(expected) > 0
        assert {row[:3]: row[3:] for row in found} == expected
        assert {row[0] for row in found} == {"gravito", "didomi"}

    hourly = rows(
        "select export_id, partition_date, hour, notice_id, domain, country, device_type, regulation, pageviews, "
        "notice_displays, consents_given, consents_denied, consents_partial, ui_interactions, opt_ins, opt_outs, "
        "total_choices, no_choices, consent_rate, opt_in_rate, interaction_rate from analytics.cmp_hourly_metrics"
    )
    assert {row[:8]: row[8:] for row in hourly} == marts_truth.cmp_hourly_metrics(sandbox)
    assert len(hourly) == len(marts_truth.cmp_hourly_metrics(sandbox)) > 0

    history = rows("select segment_id, measured_at, segment_name, size from analytics.audience_size_history")
    assert {(row[0], row[2], row[3]) for row in history} == marts_truth.audience_sizes(sandbox)
    assert len(history) == len(marts_truth.audience_sizes(sandbox))
    measured = {row[1].replace(tzinfo=dt.UTC) if row[1].tzinfo is None else row[1] for row in history}
    assert len(measured) == 1 and started <= measured.pop() <= clock.now()  # this run's measurement

    members = rows("select segment_id, members from analytics.audience_members_current")
    assert dict(members) == marts_truth.audience_members_current(sandbox)
    assert len(members) == len(marts_truth.audience_members_current(sandbox))

    requests = rows(
        "select system, request_id, subject, state, completed_at is not null, days_open, overdue, requested_at "
        "from analytics.data_subject_requests"
    )
    assert {row[:2]: row[2:7] for row in requests} == marts_truth.data_subject_requests(sandbox)
    assert len(requests) == len(marts_truth.data_subject_requests(sandbox))
    assert all((row[7] is not None) == (row[0] == "voyado") for row in requests)

    choices = rows(
        'select "date", cmp_id, url_id, country, device_id, site, page_views, consent_views, accepts, rejects, '
        "custom_choices, interactions from analytics.consent_choices_daily"
    )
    assert {row[:5]: row[5:] for row in choices} == marts_truth.consent_choices_daily(sandbox)
    assert len(choices) == len(marts_truth.consent_choices_daily(sandbox))
    assert any(row[5] is not None for row in choices)  # sites are named from the delivery domains

    by_day = rows(
        "select source, choice_date, domain, kind, tcf_id, profiles, consenting_profiles "
        "from analytics.tcf_consent_by_day"
    )
    assert {row[:5]: row[5:] for row in by_day} == marts_truth.tcf_consent_by_day(sandbox)
    assert len(by_day) == len(marts_truth.tcf_consent_by_day(sandbox)) > 0

    taxonomy = rows(
        'select dataset_uuid, "date", submissions, "rows", pending, failed from analytics.taxonomy_submissions'
    )
    assert {row[:2]: row[2:] for row in taxonomy} == marts_truth.taxonomy_submissions(sandbox)
    assert len(taxonomy) == len(marts_truth.taxonomy_submissions(sandbox))


@pytest.mark.usefixtures("dbt_plugins")
def test_marts_on_duckdb_match_the_ground_truth(meltano, sandbox):
    meltano.extra_env["DBT_DUCKDB_PATH"] = str(meltano.duckdb_path)  # the file target-duckdb writes
    started = clock.now()
    load_and_build(meltano, "target-duckdb", "dbt-duckdb")

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(meltano.duckdb_path), read_only=True) as conn:
            return conn.execute(sql).fetchall()

    assert_marts(query, sandbox, started)


@pytest.mark.usefixtures("dbt_plugins")
def test_marts_on_postgres_match_the_ground_truth(meltano, sandbox, postgres):
    database = postgres.create_database()
    meltano.extra_env.update(
        {"TARGET_POSTGRES_SQLALCHEMY_URL": postgres.sqlalchemy_url(database), **postgres.dbt_env(database)}
    )
    started = clock.now()
    load_and_build(meltano, "target-postgres", "dbt-postgres")

    def query(sql: str) -> list[tuple]:
        with psycopg.connect(postgres.uri(database)) as conn:
            return conn.execute(sql).fetchall()

    assert_marts(query, sandbox, started)
