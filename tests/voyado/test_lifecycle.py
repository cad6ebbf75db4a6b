"""The job lifecycle over several runs and simulated days, against the simulator's ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tap_voyado.exports import CRASH_AFTER_SAVE_ENV, CRASH_EXIT_CODE
from tests.support.singer import run_tap
from tests.voyado.conftest import API_KEY

KEYS = ["cust-1", "cust-2", "empty-3", "error-4", "missing-5"]
JOB_FIELDS = {
    "jid",
    "customer_key",
    "status",
    "requested_at",
    "last_checked_at",
    "completed_at",
    "file_count",
    "record_count",
    "vendor_fields",
    "api_version",  # the version that created the job (the default, admin-v4, here)
}


def statuses(run) -> dict[str, str]:
    return {row["customer_key"]: row["status"] for row in run.records("export_jobs")}


def expected_lines(sandbox, keys: list[str], jid_of: dict[str, str]) -> list[tuple]:
    truth = sandbox.app("voyado").ground_truth(customer_keys=keys)["customer_data"]
    return sorted(
        (jid_of[row["customer_key"]], row["customer_key"], row["file_name"], row["line_number"], repr(row["data"]))
        for row in truth
    )


def emitted_lines(run) -> list[tuple]:
    return sorted(
        (row["jid"], row["customer_key"], row["file_name"], row["line_number"], repr(row["data"]))
        for row in run.records("customer_data")
    )


def test_jobs_progress_over_days_and_each_key_is_exported_once(sandbox, clock, voyado_config):
    config = voyado_config(KEYS)
    app = sandbox.app("voyado")

    clock(0)
    first = run_tap("tap-voyado", config)
    assert first.returncode == 0, first.stderr
    assert statuses(first) == {
        "cust-1": "waiting",
        "cust-2": "waiting",
        "empty-3": "waiting",
        "error-4": "waiting",
        "missing-5": "not_found",
    }
    assert first.records("customer_data") == []
    table = first.last_state["bookmarks"]["export_jobs"]["jobs"]
    assert set(table) == set(KEYS)
    assert all(set(job) == JOB_FIELDS for job in table.values())
    assert {job["api_version"] for job in table.values()} == {"admin-v4"}
    jid_of = {key: job["jid"] for key, job in table.items()}
    assert {row["jid"] for row in first.records("export_jobs")} == set(jid_of.values())
    assert "missing-5" in first.stderr and "not_found" in first.stderr

    clock(2)
    second = run_tap("tap-voyado", config, state=first.last_state)
    assert second.returncode == 0, second.stderr
    assert statuses(second) == {"cust-1": "running", "cust-2": "running", "empty-3": "running", "error-4": "error"}
    assert second.records("customer_data") == []

    clock(6)
    third = run_tap("tap-voyado", config, state=second.last_state)
    assert third.returncode == 0, third.stderr
    assert statuses(third) == {"cust-1": "downloaded", "cust-2": "downloaded", "empty-3": "downloaded"}
    assert emitted_lines(third) == expected_lines(sandbox, KEYS, jid_of)
    truth = app.ground_truth(customer_keys=KEYS)["customer_data"]
    for row in third.records("export_jobs"):
        lines = [line for line in truth if line["customer_key"] == row["customer_key"]]
        assert row["record_count"] == len(lines)
        assert row["file_count"] == len({line["file_name"] for line in lines})
    assert next(r for r in third.records("export_jobs") if r["customer_key"] == "empty-3")["record_count"] == 0
    for row in third.records("customer_data"):
        assert row["event_time"] == (row["data"]["time"].replace("Z", "+00:00") if "time" in row["data"] else None)

    clock(9)
    polls_before = sandbox.count("voyado", "/job-status")
    fourth = run_tap("tap-voyado", config, state=third.last_state)
    assert fourth.returncode == 0, fourth.stderr
    assert fourth.counts() == {}
    assert sandbox.count("voyado", "/job-status") == polls_before  # ended jobs are never polled again

    for key in KEYS:
        assert app.create_count(key) == 1
    assert sandbox.count("voyado", "/export-customer-job-result") == 3
    assert sandbox.count("voyado", "create-remove-customer-job") == 0
    final = {key: job["status"] for key, job in fourth.last_state["bookmarks"]["export_jobs"]["jobs"].items()}
    assert final == {key: app.final_status(key) for key in KEYS}
    assert not any(Path(config["download_dir"]).glob("*.zip"))  # forgotten once the state confirmed them
    for run in (first, second, third, fourth):
        assert API_KEY not in run.stdout + run.stderr


def test_keys_from_file_and_list_each_get_one_job_and_state_brackets_the_lines(sandbox, clock, voyado_config, tmp_path):
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("# exported for the DSAR desk\ninstant-a\n\n  instant-a  \n")
    clock(0)
    first = run_tap("tap-voyado", voyado_config([], customer_keys_file=str(keys_file)))
    assert first.returncode == 0, first.stderr
    assert statuses(first) == {"instant-a": "downloaded"}
    assert_state_brackets_the_lines(first, "instant-a")

    second = run_tap(
        "tap-voyado", voyado_config(["instant-b"], customer_keys_file=str(keys_file)), state=first.last_state
    )
    assert second.returncode == 0, second.stderr
    assert statuses(second) == {"instant-b": "downloaded"}
    assert {row["customer_key"] for row in second.records("customer_data")} == {"instant-b"}
    assert sandbox.app("voyado").create_count("instant-a") == 1
    assert sandbox.app("voyado").create_count("instant-b") == 1


def assert_state_brackets_the_lines(run, customer_key: str) -> None:
    """STATE after the creation, STATE 'done' before the first line, the job row, then STATE 'downloaded'."""
    trail = []
    for message in run.messages:
        if message["type"] == "STATE":
            trail.append(("STATE", message["value"]["bookmarks"]["export_jobs"]["jobs"][customer_key]["status"]))
        elif message["type"] == "RECORD":
            trail.append(("RECORD", message["stream"]))
    assert trail[0] == ("STATE", "created")
    first_line = trail.index(("RECORD", "customer_data"))
    job_row = trail.index(("RECORD", "export_jobs"))
    assert ("STATE", "done") in trail[:first_line]
    assert first_line < job_row < trail.index(("STATE", "downloaded"))
    assert all(kind != ("STATE", "downloaded") for kind in trail[:job_row])


def test_a_run_killed_after_the_download_loses_no_record(sandbox, clock, voyado_config):
    keys = ["instant-k1", "instant-k2"]
    config = voyado_config(keys)
    clock(0)
    crashed = run_tap("tap-voyado", config, env={CRASH_AFTER_SAVE_ENV: "1"})
    assert crashed.returncode == CRASH_EXIT_CODE
    assert crashed.records("customer_data") == []
    table = crashed.last_state["bookmarks"]["export_jobs"]["jobs"]
    assert set(table) == set(keys)
    assert all(job["status"] == "created" for job in table.values())  # the crash came before any poll was saved
    assert len(list(Path(config["download_dir"]).glob("*.zip"))) == 1
    assert sandbox.count("voyado", "/export-customer-job-result") == 1  # the vendor has deleted that export

    resumed = run_tap("tap-voyado", config, state=crashed.last_state)
    assert resumed.returncode == 0, resumed.stderr
    jid_of = {key: job["jid"] for key, job in table.items()}
    assert emitted_lines(resumed) == expected_lines(sandbox, keys, jid_of)
    assert statuses(resumed) == {"instant-k1": "downloaded", "instant-k2": "downloaded"}
    assert sandbox.count("voyado", "/export-customer-job-result") == 2  # one download per job, never two
    for key in keys:
        assert sandbox.app("voyado").create_count(key) == 1

    # The zips stay until a run's input state proves their lines were emitted.
    assert len(list(Path(config["download_dir"]).glob("*.zip"))) == 2
    after = run_tap("tap-voyado", config, state=resumed.last_state)
    assert after.returncode == 0 and after.counts() == {}
    assert list(Path(config["download_dir"]).glob("*.zip")) == []


@pytest.mark.usefixtures("sandbox")
def test_a_job_past_its_timeout_is_reported_expired(clock, voyado_config):
    clock(0)
    run = run_tap("tap-voyado", voyado_config(["slow-1", "instant-2"], job_timeout_days=0))
    assert run.returncode == 0, run.stderr
    assert statuses(run) == {"slow-1": "expired", "instant-2": "downloaded"}  # a done job is still downloaded
    assert run.last_state["bookmarks"]["export_jobs"]["jobs"]["slow-1"]["status"] == "expired"
    assert "slow-1" in run.stderr and "expired" in run.stderr


@pytest.mark.usefixtures("sandbox")
def test_an_export_deleted_before_download_is_reported(clock, voyado_config):
    config = voyado_config(["late-1"])
    clock(0)
    first = run_tap("tap-voyado", config)
    clock(20)  # done on day 6, deleted unseen a week later
    second = run_tap("tap-voyado", config, state=first.last_state)
    assert statuses(second) == {"late-1": "not_found"}
    assert "late-1" in second.stderr and "not_found" in second.stderr
    assert second.records("customer_data") == []


def test_admin_v4_paths_and_transient_faults(sandbox, clock, voyado_config):
    clock(0)
    sandbox.faults.add("503", vendor="voyado", path="job-status", times=1)
    sandbox.faults.add("reset", vendor="voyado", path="export-customer-job-result", times=1)
    run = run_tap("tap-voyado", voyado_config(["instant-v4"], api_version="admin-v4"))
    assert run.returncode == 0, run.stderr
    truth = sandbox.app("voyado").ground_truth(customer_keys=["instant-v4"])["customer_data"]
    assert len(run.records("customer_data")) == len(truth)
    assert sandbox.requests and all(r.path.startswith("/api/admin/v4/event-data/") for r in sandbox.requests)
    assert "retrying" in run.stderr


def test_rejected_key_is_a_clear_error_without_secret(sandbox, clock, voyado_config):
    clock(0)
    sandbox.faults.add("403", vendor="voyado", times=-1)
    run = run_tap("tap-voyado", voyado_config(["cust-x"]))
    assert run.returncode == 1
    assert "authentication failed: check api_key" in run.last_stderr_line
    assert API_KEY not in run.stdout + run.stderr
