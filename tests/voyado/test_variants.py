"""The tap against every reading of the docs the simulator serves (`VoyadoApp.VARIANTS`).

Each run is a real process over real HTTP; the output is exact against the simulator's ground truth,
or the run stops with one line naming the assumption (the API version) that did not hold.
"""

from __future__ import annotations

import pytest

from sandbox.voyado import V2_BASE, V3_BASE, V4_BASE, VoyadoApp
from tap_voyado.versions import VERSIONS, today
from tests.support.singer import run_tap
from tests.voyado.conftest import API_KEY

#: done on the first poll; an export without data; downloaded by someone else before the tap asks
KEYS = ["instant-var-1", "empty-var-2", "taken-var-3", "instant-var-4"]
FALLBACK_WARNING = "the admin/v4 export API is not served"
#: "reaches end of life on 2026-12-31" until that day, "reached ..." after it
V3_LIFE = VERSIONS["admin-v3"].life(today())


def job_table(run) -> dict[str, dict]:
    return run.last_state["bookmarks"]["export_jobs"]["jobs"]


def lines(rows) -> list[tuple]:
    return sorted((row["customer_key"], row["file_name"], row["line_number"], repr(row["data"])) for row in rows)


def truth_lines(sandbox, keys) -> list[tuple]:
    return lines(sandbox.app("voyado").ground_truth(customer_keys=keys)["customer_data"])


def voyado_requests(sandbox) -> list:
    return [r for r in list(sandbox.requests) if r.vendor == "voyado"]


@pytest.mark.parametrize("variant", [None, *VoyadoApp.VARIANTS])
def test_the_default_config_is_exact_under_every_variant(sandbox, clock, voyado_config, variant):
    clock(0)
    sandbox.settings["voyado.instant"] = True  # every job done on its first poll (empty-var-2 too)
    sandbox.set_variants("voyado", *([variant] if variant else []))
    config = voyado_config(KEYS)
    first = run_tap("tap-voyado", config)
    assert first.returncode == 0, first.stderr
    second = run_tap("tap-voyado", config, state=first.last_state)  # a job left open is polled again
    assert second.returncode == 0, second.stderr

    app = sandbox.app("voyado")
    emitted = first.records("customer_data") + second.records("customer_data")
    assert lines(emitted) == truth_lines(sandbox, KEYS)
    assert {key: job["status"] for key, job in job_table(second).items()} == {
        key: app.final_status(key) for key in KEYS
    }
    for key in KEYS:
        assert app.create_count(key) == 1
    expected_version = "admin-v3" if variant == "v4-exports-missing" else "admin-v4"  # admin-v5-released: not known
    assert {job["api_version"] for job in job_table(second).values()} == {expected_version}
    assert (first.stderr + second.stderr).count(FALLBACK_WARNING) == (1 if variant == "v4-exports-missing" else 0)
    assert API_KEY not in first.stdout + first.stderr + second.stdout + second.stderr


def test_a_result_refused_with_400_keeps_the_job_done_for_the_next_run(sandbox, clock, voyado_config):
    clock(0)
    sandbox.set_variants("voyado", "result-400")
    config = voyado_config(["taken-400"])
    first = run_tap("tap-voyado", config)
    assert first.returncode == 0, first.stderr
    assert [row["status"] for row in first.records("export_jobs")] == ["done"]
    assert first.stderr.count("is not downloadable although its status was done") == 1
    second = run_tap("tap-voyado", config, state=first.last_state)
    assert [row["status"] for row in second.records("export_jobs")] == ["not_found"]
    assert first.records("customer_data") + second.records("customer_data") == []


def test_the_fallback_creates_on_admin_v3_after_one_404_and_polls_there(sandbox, clock, voyado_config):
    clock(0)
    sandbox.set_variants("voyado", "v4-exports-missing")
    run = run_tap("tap-voyado", voyado_config(KEYS))
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if FALLBACK_WARNING in line]
    assert len(warnings) == 1
    assert "admin-v3" in warnings[0] and "admin/v4" in warnings[0] and "2026-12-31" in warnings[0]
    v4 = [r for r in voyado_requests(sandbox) if r.path.startswith(V4_BASE)]
    assert [(r.method, r.path, r.status) for r in v4] == [("POST", V4_BASE + "/create-export-customer-job", 404)]
    others = [r for r in voyado_requests(sandbox) if not r.path.startswith(V4_BASE)]
    assert others and all(r.path.startswith(V3_BASE) for r in others)


def test_admin_v3_selected_and_ended_stops_with_one_line_naming_it(sandbox, clock, voyado_config):
    clock(0)
    sandbox.set_variants("voyado", "v3-ended")
    run = run_tap("tap-voyado", voyado_config(KEYS, api_version="admin-v3"))
    assert run.returncode == 1
    line = run.last_stderr_line
    assert line.startswith("tap-voyado: error: Voyado Elevate: the export API of api_version admin-v3 (admin/v3")
    assert f"(admin/v3, which {V3_LIFE})" in line and "HTTP 410" in line
    assert run.records() == []
    assert FALLBACK_WARNING not in run.stderr  # a chosen version never falls back
    assert all(r.path.startswith(V3_BASE) for r in voyado_requests(sandbox))
    assert API_KEY not in run.stdout + run.stderr


def test_v2_selected_warns_of_its_end_of_life_and_stops_when_it_is_gone(sandbox, clock, voyado_config):
    clock(0)
    served = run_tap("tap-voyado", voyado_config(["instant-v2"], api_version="v2"))
    assert served.returncode == 0, served.stderr
    assert served.stderr.count("api_version v2 (web-api-v2) reached end of life on 2024-04-20") == 1
    assert lines(served.records("customer_data")) == truth_lines(sandbox, ["instant-v2"])

    sandbox.set_variants("voyado", "v2-ended")
    gone = run_tap("tap-voyado", voyado_config(["instant-v2b"], api_version="v2"))
    assert gone.returncode == 1
    assert gone.last_stderr_line.startswith(
        "tap-voyado: error: Voyado Elevate: the export API of api_version v2 (web-api-v2"
    )
    assert "HTTP 404" in gone.last_stderr_line


def test_only_the_oldest_version_served_is_reached_along_the_whole_chain(sandbox, clock, voyado_config):
    clock(0)
    sandbox.set_variants("voyado", "v4-exports-missing", "v3-ended", "jobs-per-version")
    keys = ["cust-old-1", "instant-old-2"]
    config = voyado_config(keys)
    first = run_tap("tap-voyado", config)
    assert first.returncode == 0, first.stderr
    # one warning per step of the chain: admin/v4 -> admin-v3, admin/v3 -> v2
    assert first.stderr.count(FALLBACK_WARNING) == 1
    assert first.stderr.count("the admin/v3 export API is not served") == 1
    assert "creates its export jobs on v2 (web-api-v2, which reached end of life on 2024-04-20)" in first.stderr
    created = [(r.path.split("/voyado", 1)[-1], r.status) for r in voyado_requests(sandbox) if "create-" in r.path]
    # each unserved version is asked once; every later job goes straight to v2
    assert created == [
        (V4_BASE + "/create-export-customer-job", 404),
        (V3_BASE + "/create-export-customer-job", 410),
        *[(V2_BASE + "/create-export-customer-job", 200)] * len(keys),
    ]
    assert {job["api_version"] for job in job_table(first).values()} == {"v2"}
    assert lines(first.records("customer_data")) == truth_lines(sandbox, ["instant-old-2"])

    clock(6)  # the other job is done; the state remembers that v2 created both, so v2 polls them
    before = len(voyado_requests(sandbox))
    second = run_tap("tap-voyado", config, state=first.last_state)
    assert second.returncode == 0, second.stderr
    assert all(r.path.split("/voyado", 1)[-1].startswith(V2_BASE) for r in voyado_requests(sandbox)[before:])
    assert lines(first.records("customer_data") + second.records("customer_data")) == truth_lines(sandbox, keys)
    assert {key: job["status"] for key, job in job_table(second).items()} == dict.fromkeys(keys, "downloaded")
    assert all(sandbox.app("voyado").create_count(key) == 1 for key in keys)


def test_no_version_of_the_chain_served_stops_naming_every_one(sandbox, clock, voyado_config):
    clock(0)
    sandbox.set_variants("voyado", "v4-exports-missing", "v3-ended", "v2-ended")
    run = run_tap("tap-voyado", voyado_config(KEYS))
    assert run.returncode == 1
    line = run.last_stderr_line
    assert line.startswith("tap-voyado: error: Voyado Elevate: no export API of api_version admin-v4 or its fallbacks")
    assert f"admin-v3 (admin/v3, which {V3_LIFE})" in line
    assert f"admin-v4: POST /voyado{V4_BASE}/create-export-customer-job answered HTTP 404" in line
    assert f"admin-v3: POST /voyado{V3_BASE}/create-export-customer-job answered HTTP 410" in line
    assert f"v2: POST /voyado{V2_BASE}/create-export-customer-job answered HTTP 404" in line
    assert "run tap-voyado --probe" in line
    assert run.stderr.count(FALLBACK_WARNING) == 1
    assert run.records() == []
    assert API_KEY not in run.stdout + run.stderr


def test_only_a_newer_version_than_the_table_knows_is_reached_by_setting_it(sandbox, clock, voyado_config):
    clock(0)
    only_v5 = ("admin-v5-released", "v4-exports-missing", "v3-ended", "v2-ended")
    sandbox.set_variants("voyado", *only_v5, "jobs-per-version")
    keys = ["cust-new-1", "instant-new-2"]
    stale = run_tap("tap-voyado", voyado_config(keys))
    assert stale.returncode == 1  # the default knows only the chain: one line pointing at --probe
    assert "run tap-voyado --probe" in stale.last_stderr_line

    config = voyado_config(keys, api_version="admin-v5")
    first = run_tap("tap-voyado", config)
    assert first.returncode == 0, first.stderr
    assert FALLBACK_WARNING not in first.stderr
    assert {job["api_version"] for job in job_table(first).values()} == {"admin-v5"}
    assert lines(first.records("customer_data")) == truth_lines(sandbox, ["instant-new-2"])

    clock(6)  # the state's admin-v5 is accepted and the open job is polled there
    before = len(voyado_requests(sandbox))
    second = run_tap("tap-voyado", config, state=first.last_state)
    assert second.returncode == 0, second.stderr
    assert all("/api/admin/v5/" in r.path for r in voyado_requests(sandbox)[before:])
    assert lines(first.records("customer_data") + second.records("customer_data")) == truth_lines(sandbox, keys)
    assert all(sandbox.app("voyado").create_count(key) == 1 for key in keys)


def test_a_newer_version_set_falls_back_along_the_chain_when_it_is_not_served(sandbox, clock, voyado_config):
    clock(0)
    run = run_tap("tap-voyado", voyado_config(["instant-v6"], api_version="admin-v6"))
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("the admin/v6 export API is not served") == 1
    assert job_table(run)["instant-v6"]["api_version"] == "admin-v4"
    assert lines(run.records("customer_data")) == truth_lines(sandbox, ["instant-v6"])


def test_jobs_created_after_a_fallback_are_polled_on_admin_v3_when_admin_v4_returns(sandbox, clock, voyado_config):
    keys = ["cust-mid-1", "empty-mid-2"]
    config = voyado_config(keys)
    clock(0)
    sandbox.set_variants("voyado", "v4-exports-missing", "jobs-per-version")
    first = run_tap("tap-voyado", config)
    assert first.returncode == 0, first.stderr
    assert {job["api_version"] for job in job_table(first).values()} == {"admin-v3"}

    clock(6)
    sandbox.set_variants("voyado", "jobs-per-version")  # admin/v4 serves exports again; jids stay per version
    before = len(voyado_requests(sandbox))
    second = run_tap("tap-voyado", config, state=first.last_state)
    assert second.returncode == 0, second.stderr
    assert lines(second.records("customer_data")) == truth_lines(sandbox, keys)
    assert {key: job["status"] for key, job in job_table(second).items()} == {
        "cust-mid-1": "downloaded",
        "empty-mid-2": "downloaded",
    }
    assert all(r.path.startswith(V3_BASE) for r in voyado_requests(sandbox)[before:])
    assert FALLBACK_WARNING not in second.stderr  # no job was created, so admin/v4 was not asked


def test_a_job_whose_version_disappears_mid_life_is_kept_not_lost(sandbox, clock, voyado_config):
    clock(0)
    sandbox.set_variants("voyado", "jobs-per-version")
    first = run_tap("tap-voyado", voyado_config(["cust-old"]))
    assert first.returncode == 0, first.stderr
    assert job_table(first)["cust-old"]["api_version"] == "admin-v4"

    clock(6)  # cust-old is done, but admin/v4 stops serving exports; a new key arrives
    sandbox.set_variants("voyado", "jobs-per-version", "v4-exports-missing")
    second = run_tap("tap-voyado", voyado_config(["cust-old", "instant-new"]), state=first.last_state)
    assert second.returncode == 0, second.stderr
    assert second.stderr.count(FALLBACK_WARNING) == 1
    assert second.stderr.count("was created on api_version admin-v4, whose path is not served now") == 1
    table = job_table(second)
    assert (table["cust-old"]["api_version"], table["cust-old"]["status"]) == ("admin-v4", "waiting")
    assert (table["instant-new"]["api_version"], table["instant-new"]["status"]) == ("admin-v3", "downloaded")
    assert lines(second.records("customer_data")) == truth_lines(sandbox, ["instant-new"])

    sandbox.set_variants("voyado", "jobs-per-version")  # admin/v4 is back: the old job is still there
    third = run_tap("tap-voyado", voyado_config(["cust-old", "instant-new"]), state=second.last_state)
    assert third.returncode == 0, third.stderr
    assert lines(third.records("customer_data")) == truth_lines(sandbox, ["cust-old"])
    assert job_table(third)["cust-old"]["status"] == "downloaded"
    assert sandbox.app("voyado").create_count("cust-old") == 1


def test_a_state_from_0_1_without_versions_is_polled_on_v2_its_old_default(sandbox, clock, voyado_config):
    clock(0)
    sandbox.set_variants("voyado", "jobs-per-version")
    app = sandbox.app("voyado")
    job = app.create_job("instant-legacy", V2_BASE)  # what tap-voyado 0.1.0 (api_version unset) created
    state = {
        "bookmarks": {
            "export_jobs": {
                "jobs": {
                    "instant-legacy": {
                        "jid": job.jid,
                        "customer_key": "instant-legacy",
                        "status": "created",
                        "requested_at": "2026-12-01T00:00:00+00:00",
                        "last_checked_at": "2026-12-01T00:00:00+00:00",
                        "completed_at": None,
                        "file_count": None,
                        "record_count": None,
                    }
                }
            }
        }
    }
    run = run_tap("tap-voyado", voyado_config(["instant-legacy"]), state=state)
    assert run.returncode == 0, run.stderr
    assert lines(run.records("customer_data")) == truth_lines(sandbox, ["instant-legacy"])
    assert job_table(run)["instant-legacy"]["api_version"] == "v2"
    assert {r.path.rsplit("/", 1)[0] for r in voyado_requests(sandbox) if "event-data" in r.path} == {V2_BASE}
