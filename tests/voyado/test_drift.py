"""Vendor drift: kept in `_extra` with one warning, never dropped."""

from __future__ import annotations

from tests.support.singer import run_tap

KEYS = ["instant-d1", "instant-d2"]


def test_retyped_time_is_kept_in_extra_with_one_warning(sandbox, clock, voyado_config):
    clock(0)
    sandbox.settings["voyado.drift"] = "retype"
    run = run_tap("tap-voyado", voyado_config(KEYS))
    assert run.returncode == 0, run.stderr
    truth = sandbox.app("voyado").ground_truth(customer_keys=KEYS)["customer_data"]
    rows = run.records("customer_data")
    assert len(rows) == len(truth)
    timed = [row for row in rows if "time" in row["data"]]
    assert timed and len(timed) == sum(1 for line in truth if "time" in line["data"])
    for row in timed:
        assert row["event_time"] is None
        assert row["_extra"] == {"time": row["data"]["time"]}
        assert isinstance(row["data"]["time"], int)
    assert run.stderr.count("Schema drift in stream 'customer_data'") == 1


def test_a_new_job_status_field_is_kept_in_extra_with_one_warning(sandbox, clock, voyado_config):
    clock(0)
    sandbox.settings["voyado.drift"] = "add"
    run = run_tap("tap-voyado", voyado_config(KEYS))
    assert run.returncode == 0, run.stderr
    jobs = run.records("export_jobs")
    assert len(jobs) == 2
    assert all(job["_extra"] == {"queuePosition": 0} for job in jobs)
    assert run.stderr.count("Schema drift in stream 'export_jobs'") == 1
    events = [row for row in run.records("customer_data") if "time" in row["data"]]
    assert events and all(row["data"]["channel"] == "web" for row in events)  # new line fields ride along in data
    assert all("_extra" not in row for row in run.records("customer_data"))
