"""The Dagster fan-out of orchestrate/: one asset per (tap, partition), each a `meltano run --state-id-suffix`.

Four partitions (tap-gravito's three domains, tap-consentmanager's account) run from the project's Meltano,
state in S3 (moto), into one DuckDB warehouse. Dagster runs in orchestrate/'s own uv environment (its own
lock, not a workspace member), built once per test run.

- run 1: every partition materialises; news.example.org's first request gets a 401, so its first `meltano
  run` fails and Dagster's RetryPolicy runs it again, while the others go on; the warehouse holds exactly
  the rows a single job of each tap loads (the ground truth of the environment's full config, which
  test_meltano_pipelines asserts for the single job); one state object per partition.
- run 2: travel.example.net fails for good (every attempt gets a 401): it is retried, then reported failed,
  and does not stop the other three, which rerun incrementally (fewer records each, no duplicate rows).
- run 3: travel.example.net alone, the fault gone: incremental from its own state, which run 2 left as is.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.pipelines.meltano_project import ROOT, project_lock
from tests.pipelines.test_meltano_pipelines import duckdb_counts, expected_rows
from tests.support.uv import uv

ORCHESTRATE = ROOT / "orchestrate"
TAPS = ["tap-gravito", "tap-consentmanager"]
PARTITIONS = {
    "tap_gravito/shop_example_com": "sandbox:tap-gravito-to-target-duckdb:shop.example.com",
    "tap_gravito/news_example_org": "sandbox:tap-gravito-to-target-duckdb:news.example.org",
    "tap_gravito/travel_example_net": "sandbox:tap-gravito-to-target-duckdb:travel.example.net",
    "tap_consentmanager/default": "sandbox:tap-consentmanager-to-target-duckdb:default",
}
RETRIES = 1

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]


@pytest.fixture(scope="session")
def orchestrate_python() -> str:
    synced = subprocess.run(
        [*uv(), "sync", "--locked", "--quiet", "--project", str(ORCHESTRATE)], capture_output=True, text=True
    )
    assert synced.returncode == 0, f"orchestrate/'s environment did not build:\n{synced.stderr[-3000:]}"
    return str(ORCHESTRATE / ".venv" / "bin" / "python")


def fan_out(python: str, meltano, s3, prefix: str, select: str, report) -> tuple[int, dict]:
    env = {
        **meltano.env(),
        **s3.meltano_env(prefix),
        "MELTANO_BIN": str(ROOT / ".venv" / "bin" / "meltano"),
        "CONSENT_ORCHESTRATE_RETRIES": str(RETRIES),
        "CONSENT_ORCHESTRATE_RETRY_DELAY": "0",
    }
    env.pop("VIRTUAL_ENV", None)
    with project_lock():
        proc = subprocess.run(
            [python, "-m", "consent_orchestrate.local", "--select", select, "--report", str(report)],
            cwd=ORCHESTRATE,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    (report.parent / f"{report.stem}.log").write_text(proc.stdout + proc.stderr)
    assert report.exists(), proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.returncode, json.loads(report.read_text())


def gravito_statuses(sandbox, domain: str) -> list[int]:
    return [r.status for r in list(sandbox.requests) if r.vendor == "gravito" and r.query.get("domainName") == [domain]]


@pytest.mark.usefixtures("meltano_plugins")
def test_every_partition_materialises_retries_alone_and_reruns_incrementally(
    orchestrate_python, meltano, sandbox, s3, tmp_path
):
    prefix = f"fanout-{tmp_path.name}"
    expected = {tap: expected_rows(sandbox, tap) for tap in TAPS}

    # run 1: all four; news.example.org fails once
    sandbox.faults.add("401", vendor="gravito", path="domainName=news.example.org", times=1)
    code, first = fan_out(orchestrate_python, meltano, s3, prefix, ",".join(TAPS), tmp_path / "run1.json")
    assert code == 0, (tmp_path / "run1.log").read_text()[-4000:]
    assert {name: row["status"] for name, row in first.items()} == dict.fromkeys(PARTITIONS, "materialized")
    assert {name: row["attempts"] for name, row in first.items()} == {
        **dict.fromkeys(PARTITIONS, 1),
        "tap_gravito/news_example_org": 2,
    }
    assert gravito_statuses(sandbox, "news.example.org") == [401, 200]
    assert {name: row["state_id"] for name, row in first.items()} == PARTITIONS
    for tap in TAPS:
        assert duckdb_counts(meltano.duckdb_path, tap.replace("-", "_")) == expected[tap]
    assert s3.keys(prefix) == sorted(f"{prefix}/{state_id}/state.json" for state_id in PARTITIONS.values())
    travel_state = s3.read_json(f"{prefix}/{PARTITIONS['tap_gravito/travel_example_net']}/state.json")
    contexts = {
        p["context"]["domain"] for p in travel_state["completed"]["singer_state"]["bookmarks"]["consents"]["partitions"]
    }
    assert contexts == {"travel.example.net"}  # each partition's state holds its own bookmarks only

    # run 2: travel.example.net fails on every attempt; the other three rerun from their state
    sandbox.faults.add("401", vendor="gravito", path="domainName=travel.example.net", times=-1)
    code, second = fan_out(orchestrate_python, meltano, s3, prefix, ",".join(TAPS), tmp_path / "run2.json")
    assert code == 1
    assert second["tap_gravito/travel_example_net"]["status"] == "failed"
    assert second["tap_gravito/travel_example_net"]["attempts"] == 1 + RETRIES
    assert gravito_statuses(sandbox, "travel.example.net")[-(1 + RETRIES) :] == [401] * (1 + RETRIES)
    for name in set(PARTITIONS) - {"tap_gravito/travel_example_net"}:
        assert second[name]["status"] == "materialized", name
        assert 0 < second[name]["records"] < first[name]["records"], (name, first[name], second[name])
    for tap in TAPS:
        assert duckdb_counts(meltano.duckdb_path, tap.replace("-", "_")) == expected[tap]
    assert s3.read_json(f"{prefix}/{PARTITIONS['tap_gravito/travel_example_net']}/state.json") == travel_state

    # run 3: travel.example.net alone, the vendor healthy again
    sandbox.faults.clear()
    code, third = fan_out(
        orchestrate_python, meltano, s3, prefix, "tap_gravito/travel_example_net", tmp_path / "run3.json"
    )
    assert code == 0, (tmp_path / "run3.log").read_text()[-4000:]
    assert set(third) == {"tap_gravito/travel_example_net"}
    travel = third["tap_gravito/travel_example_net"]
    assert (
        travel["status"] == "materialized"
        and 0 < travel["records"] < first["tap_gravito/travel_example_net"]["records"]
    )
    assert duckdb_counts(meltano.duckdb_path, "tap_gravito") == expected["tap-gravito"]
