"""`meltano run <tap> target-snowflake` against fakesnow, a local Snowflake emulator.

The loader is the project's target-snowflake (meltanolabs-target-snowflake, same version) inherited as the
TEST-ONLY `target-snowflake--fakesnow` (plugins/test-only.meltano.yml): its executable runs
target-snowflake's own CLI with every connection sent to fakesnow, bridging the statements fakesnow 0.12.1
cannot take (REMOVE becomes a no-op; the rest are listed in
tests/pipelines/fakesnow_target/target_snowflake_fakesnow.py). Meltano builds its virtual environment once
(fakesnow and the target pin duckdb 2.x and a singer-sdk beta, apart from the project's environment).
Row counts are read from fakesnow's DuckDB file with that environment's duckdb.

For each tap: the first run loads exactly the ground truth's rows per table; the second, incremental
run (from the state Meltano kept) adds no duplicates.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.pipelines.meltano_project import ROOT
from tests.pipelines.test_meltano_pipelines import expected_rows

LOADER = "target-snowflake--fakesnow"
LOADER_BIN = ROOT / ".meltano" / "loaders" / LOADER / "venv" / "bin"
TAPS = ["tap-gravito", "tap-consentmanager", "tap-lytics"]

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]


def snowflake_counts(db_dir, schema: str) -> dict[str, int]:
    shown = subprocess.run(
        [str(LOADER_BIN / "fakesnow-row-counts"), str(db_dir / "RAW.db"), schema.upper()],
        capture_output=True, text=True, check=True, timeout=120,
    )
    return {table.lower(): count for table, count in json.loads(shown.stdout).items()}


@pytest.mark.parametrize("tap", TAPS)
def test_snowflake_exact_rows_and_no_duplicates_on_incremental_rerun(tap, meltano, snowflake_loader, sandbox, tmp_path):
    db_dir = tmp_path / "fakesnow"
    db_dir.mkdir()
    meltano.extra_env["FAKESNOW_DB_PATH"] = str(db_dir)
    schema = tap.replace("-", "_")
    vendor = tap.removeprefix("tap-")

    first = meltano.run(tap, LOADER)
    assert first.returncode == 0, first.stderr[-3000:]
    expected = expected_rows(sandbox, tap)
    assert all(count > 0 for count in expected.values()), expected
    assert snowflake_counts(db_dir, schema) == expected
    requests_first = sandbox.count(vendor)

    second = meltano.run(tap, LOADER)
    assert second.returncode == 0, second.stderr[-3000:]
    assert snowflake_counts(db_dir, schema) == expected_rows(sandbox, tap, runs=2)
    assert 0 < sandbox.count(vendor) - requests_first <= requests_first
