"""`meltano run <tap> <target>` into real DuckDB and a real PostgreSQL, against the sandbox.

For every tap: the first run loads exactly the ground truth's rows per table; a second run
(with the state Meltano kept) adds no duplicates.
"""

from __future__ import annotations

import duckdb
import pytest

from tests.pipelines.meltano_project import extractors, resolved_sandbox_config, tap_profile

TAPS = extractors()
# Meltano keeps per-plugin run files in the project's .meltano/run: runs of one project go one at a time.
pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]


def duckdb_counts(path, schema: str) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = ?", [schema]
            ).fetchall()
        ]
        return {table: conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0] for table in tables}


def expected_rows(sandbox, tap: str, runs: int = 1) -> dict[str, int]:
    """Rows per table after `runs` runs: the same, except for streams that snapshot once per run."""
    profile = tap_profile(tap)
    expected = profile.expected_rows(sandbox, resolved_sandbox_config(tap))
    for stream in profile.per_run_snapshots:
        expected[stream] *= runs
    return expected


@pytest.mark.parametrize("tap", TAPS)
def test_duckdb_exact_rows_and_no_duplicates_on_rerun(tap, meltano, sandbox):
    first = meltano.run(tap, "target-duckdb")
    assert first.returncode == 0, first.stderr[-3000:]
    schema = tap.replace("-", "_")
    expected = expected_rows(sandbox, tap)
    assert duckdb_counts(meltano.duckdb_path, schema) == expected
    assert all(count > 0 for count in expected.values()), expected

    vendor = tap.removeprefix("tap-")
    requests_first = sandbox.count(vendor)
    assert requests_first > 0  # the run really went to this test's sandbox

    second = meltano.run(tap, "target-duckdb")
    assert second.returncode == 0, second.stderr[-3000:]
    assert duckdb_counts(meltano.duckdb_path, schema) == expected_rows(sandbox, tap, runs=2)
    assert 0 < sandbox.count(vendor) - requests_first <= requests_first


@pytest.mark.parametrize("tap", TAPS)
def test_postgres_exact_rows_and_no_duplicates_on_rerun(tap, meltano, sandbox, postgres):
    database = postgres.create_database()
    meltano.extra_env["TARGET_POSTGRES_SQLALCHEMY_URL"] = postgres.sqlalchemy_url(database)
    schema = tap.replace("-", "_")
    for runs in (1, 2):
        proc = meltano.run(tap, "target-postgres")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert postgres.table_counts(database, schema) == expected_rows(sandbox, tap, runs)
