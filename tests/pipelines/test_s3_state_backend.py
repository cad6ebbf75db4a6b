"""Meltano's S3 state backend against a local S3 (moto's server): the CI setup of docs/how-to-run-in-ci.md.

The first `meltano run` writes the state to the bucket at `<prefix>/<state_id>/state.json` (where
Meltano's docs say it lives). The second run starts on a brand-new system database, as a fresh CI
runner would, so the only place its bookmarks can come from is the bucket: it asks the sandbox
for less and the warehouse holds exactly the same rows.
"""

from __future__ import annotations

import pytest

from tests.pipelines.test_meltano_pipelines import duckdb_counts, expected_rows

TAP = "tap-consentmanager"  # date-windowed incremental streams: a run from a bookmark asks for fewer days
STATE_ID = f"sandbox:{TAP}-to-target-duckdb"
INCREMENTAL_STREAMS = {"changelog", "cmp_report", "consent_log", "crawler_report", "delivery_domains"}

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]


def test_state_is_written_to_the_bucket_and_read_back_by_a_fresh_runner(meltano, sandbox, s3, tmp_path):
    prefix = f"ci-{tmp_path.name}"
    state_key = f"{prefix}/{STATE_ID}/state.json"
    meltano.extra_env.update(s3.meltano_env(prefix))

    first = meltano.run(TAP, "target-duckdb")
    assert first.returncode == 0, first.stderr[-3000:]
    expected = expected_rows(sandbox, TAP)
    assert duckdb_counts(meltano.duckdb_path, "tap_consentmanager") == expected
    requests_first = sandbox.count("consentmanager")

    assert s3.keys(prefix) == [state_key]  # and the run's lock object is gone
    bookmarks = s3.read_json(state_key)["completed"]["singer_state"]["bookmarks"]
    assert {stream for stream, mark in bookmarks.items() if mark.get("replication_key_value")} == INCREMENTAL_STREAMS

    # A new runner: an empty system database, the same bucket, the same warehouse.
    meltano.extra_env["MELTANO_DATABASE_URI"] = f"sqlite:///{tmp_path / 'second-runner.db'}"
    second = meltano.run(TAP, "target-duckdb")
    assert second.returncode == 0, second.stderr[-3000:]
    requests_second = sandbox.count("consentmanager") - requests_first
    assert 0 < requests_second < requests_first, (requests_first, requests_second)
    assert duckdb_counts(meltano.duckdb_path, "tap_consentmanager") == expected
    assert s3.keys(prefix) == [state_key]
    assert s3.read_json(state_key)["completed"]["singer_state"]["bookmarks"].keys() == bookmarks.keys()
