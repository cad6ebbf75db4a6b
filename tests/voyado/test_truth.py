"""truth.py (used by the pipeline tests) agrees with a real first sync of SANDBOX_CONFIG."""

from __future__ import annotations

from tests.support.singer import run_tap
from tests.voyado.conftest import API_KEY
from tests.voyado.truth import SANDBOX_CONFIG, expected_table_rows


def test_expected_table_rows_match_a_first_sync_of_the_sandbox_config(sandbox, clock, tmp_path):
    clock(0)
    config = {**SANDBOX_CONFIG, "api_key": API_KEY, "api_url": sandbox.url("voyado"), "download_dir": str(tmp_path)}
    run = run_tap("tap-voyado", config)
    assert run.returncode == 0, run.stderr
    distinct = {
        "export_jobs": len({row["jid"] for row in run.records("export_jobs")}),
        "customer_data": len({(r["jid"], r["file_name"], r["line_number"]) for r in run.records("customer_data")}),
    }
    assert distinct == expected_table_rows(sandbox, config)
    assert all(count > 0 for count in distinct.values())
