"""transform/ as a dbt package: a user's own dbt project on DuckDB adds it with packages.yml (git with
`subdirectory:`, from a clone of HEAD), points it at its own raw schemas through vars, turns on two of the five
vendors (Gravito and Lytics), and runs `dbt deps` and `dbt build`. The raw tables are loaded by the taps and the
project's target-duckdb, as a real pipeline would; the marts are compared exactly with the ground truth.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from tapkit import clock
from tests.distribution.test_new_user import sandbox_settings
from tests.pipelines import marts_truth
from tests.pipelines.meltano_project import ROOT, install_loader
from tests.support.singer import run_tap

pytestmark = [pytest.mark.pipeline]

LOADED = {"gravito": "raw_gravito", "lytics": "raw_lytics"}  # vendor -> the user's raw schema for it
NOT_LOADED = ("consentmanager", "voyado", "claravine", "didomi")
PLUGINS = ROOT / ".meltano"


@pytest.fixture(scope="module")
def plugins():
    """The project's pinned target-duckdb and dbt-duckdb (each in its own virtualenv, installed once)."""
    install_loader("target-duckdb")
    install_loader("dbt-duckdb")
    return {
        "target": PLUGINS / "loaders" / "target-duckdb" / "venv" / "bin" / "target-duckdb-versions",
        "dbt": PLUGINS / "transformers" / "dbt-duckdb" / "venv" / "bin" / "dbt",
    }


def clone_of_head(path: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(path)], check=True, capture_output=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True)
    subprocess.run(["git", "checkout", "--quiet", "-B", "main", head.stdout.strip()], cwd=path, check=True)
    return path


def load(tap: str, schema: str, warehouse: Path, sandbox, target: Path, workdir: Path) -> None:
    """One sync of the tap into the user's raw schema, through target-duckdb."""
    synced = run_tap(tap, sandbox_settings(tap, sandbox))
    assert synced.returncode == 0, synced.stderr[-3000:]
    config = workdir / f"{schema}.json"
    config.write_text(json.dumps({"filepath": str(warehouse), "default_target_schema": schema}))
    loaded = subprocess.run(
        [str(target), "--config", str(config)], input=synced.stdout, capture_output=True, text=True, check=False
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]


def user_project(path: Path, transform_repo: Path, warehouse: Path) -> Path:
    """What the README tells a dbt user to write: packages.yml, vars for the raw schemas, the vendors turned on."""
    path.mkdir()
    variables: dict = {f"consent_taps_{vendor}_schema": schema for vendor, schema in LOADED.items()}
    variables.update({f"consent_taps_{vendor}_enabled": False for vendor in NOT_LOADED})
    project = {"name": "my_analytics", "version": "1.0.0", "config-version": 2, "profile": "my_analytics"}
    (path / "dbt_project.yml").write_text(yaml.safe_dump({**project, "vars": variables}, sort_keys=False))
    packages = [{"git": f"file://{transform_repo}", "subdirectory": "transform"}]
    (path / "packages.yml").write_text(yaml.safe_dump({"packages": packages}))
    duck = {"type": "duckdb", "path": str(warehouse), "schema": "analytics", "threads": 1}
    (path / "profiles.yml").write_text(
        yaml.safe_dump({"my_analytics": {"target": "dev", "outputs": {"dev": duck}}}, sort_keys=False)
    )
    return path


def dbt(plugins: dict, project: Path, *args: str) -> str:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    proc = subprocess.run(
        [str(plugins["dbt"]), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    return proc.stdout


def test_a_users_dbt_project_builds_the_marts_of_the_two_vendors_it_loads(plugins, sandbox, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    started = clock.now()  # the taps' clock (pinned for the run)
    for vendor, schema in LOADED.items():
        load(f"tap-{vendor}", schema, warehouse, sandbox, plugins["target"], tmp_path)
    project = user_project(tmp_path / "my_analytics", clone_of_head(tmp_path / "consent-taps"), warehouse)

    dbt(plugins, project, "deps")
    built = dbt(plugins, project, "build")
    assert "Completed successfully" in built

    with duckdb.connect(str(warehouse), read_only=True) as conn:

        def rows(sql: str) -> list[tuple]:
            return conn.execute(sql).fetchall()

        def tables(schema: str) -> set[str]:
            listed = rows(f"select table_name from information_schema.tables where table_schema = '{schema}'")
            return {name for (name,) in listed}

        # only the loaded vendors' marts exist, and no staging model of the others
        assert tables("analytics") == {
            "tcf_purpose_consent",
            "tcf_vendor_consent",
            "tcf_consent_by_day",
            "audience_size_history",
            "audience_members_current",
            "data_subject_requests",
        }
        assert {name.split("__")[0] for name in tables("analytics_staging")} == {"stg_gravito", "stg_lytics"}

        for mart, id_column, kind in (
            ("tcf_purpose_consent", "purpose_id", "purpose"),
            ("tcf_vendor_consent", "vendor_id", "vendor"),
        ):
            found = rows(
                f"select source, domain, {id_column}, profiles, consenting_profiles, consent_rate from analytics.{mart}"
            )
            expected = marts_truth.tcf_consent(sandbox, kind, sources=("gravito",))
            assert len(found) == len(expected) > 0
            assert {row[:3]: row[3:] for row in found} == expected

        by_day = rows(
            "select source, choice_date, domain, kind, tcf_id, profiles, consenting_profiles "
            "from analytics.tcf_consent_by_day"
        )
        expected_by_day = marts_truth.tcf_consent_by_day(sandbox, sources=("gravito",))
        assert {(row[0], row[1].isoformat(), *row[2:5]): row[5:] for row in by_day} == expected_by_day
        assert len(by_day) == len(expected_by_day) > 0

        history = rows("select segment_id, measured_at, segment_name, size from analytics.audience_size_history")
        assert sorted((row[0], row[2], row[3]) for row in history) == sorted(marts_truth.audience_sizes(sandbox))
        measured = {row[1].replace(tzinfo=dt.UTC) for row in history}
        assert len(measured) == 1 and started <= measured.pop() <= clock.now()

        members = rows("select segment_id, members from analytics.audience_members_current")
        assert dict(members) == marts_truth.audience_members_current(sandbox)
        assert len(members) == len(marts_truth.audience_members_current(sandbox))

        # the union holds only the system this project loads
        requests = rows(
            "select system, request_id, subject, state, completed_at is not null, days_open, overdue "
            "from analytics.data_subject_requests"
        )
        expected_requests = marts_truth.lytics_deletion_requests(sandbox)
        assert {row[:2]: row[2:] for row in requests} == expected_requests
        assert len(requests) == len(expected_requests) > 0
