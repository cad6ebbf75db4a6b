"""The API versions' table, the run's fallback chain, later admin versions and the version of a job from an
older state (no server)."""

from __future__ import annotations

import datetime as dt

from tap_voyado import versions
from tap_voyado.versions import NotServedError, RunVersion


def not_served(version: str, status: int = 404) -> NotServedError:
    return NotServedError(version, f"POST /api/x/{version}/create-export-customer-job", status)


def test_end_of_life_dates_are_the_vendors():
    v2, v3, v4 = (versions.VERSIONS[name] for name in ("v2", "admin-v3", "admin-v4"))
    assert (v2.end_of_life, v3.end_of_life, v4.end_of_life) == (dt.date(2024, 4, 20), dt.date(2026, 12, 31), None)
    assert v3.ended(dt.date(2027, 1, 1)) and not v3.ended(dt.date(2026, 12, 31))
    assert v3.life(dt.date(2026, 12, 1)) == "reaches end of life on 2026-12-31"
    assert v2.life(dt.date(2026, 12, 1)) == "reached end of life on 2024-04-20"
    assert not v4.ended(dt.date(2099, 1, 1))
    assert versions.DEFAULT_API_VERSION == "admin-v4"


def test_the_chain_is_the_known_versions_newest_first_and_the_default_is_its_head():
    assert versions.CHAIN == ("admin-v4", "admin-v3", "v2")
    assert versions.CHAIN[0] == versions.DEFAULT_API_VERSION
    assert versions.fallbacks("admin-v4") == ("admin-v3", "v2")


def test_the_default_falls_back_along_the_whole_chain_then_stops_naming_every_version():
    run = RunVersion("admin-v4")
    assert run.fall_back(not_served("admin-v4")) == "admin-v3"
    assert (run.current, run.fell_back) == ("admin-v3", True)
    assert run.fall_back(not_served("admin-v3", 410)) == "v2"
    assert run.current == "v2"
    assert run.fall_back(not_served("v2")) is None  # the oldest: nothing left
    assert run.current == "v2"
    message = run.stop_message()
    assert message.startswith("no export API of api_version admin-v4 or its fallbacks (admin-v4 (admin/v4, ")
    assert "admin-v4: POST /api/x/admin-v4/create-export-customer-job answered HTTP 404" in message
    assert "admin-v3: POST /api/x/admin-v3/create-export-customer-job answered HTTP 410" in message
    assert "v2: POST /api/x/v2/create-export-customer-job answered HTTP 404" in message
    assert "run tap-voyado --probe" in message


def test_a_later_admin_version_is_accepted_with_inferred_paths_and_falls_back_along_the_chain():
    later = versions.named("admin-v5")
    assert later is not None
    assert (later.vendor_name, later.base_path, later.end_of_life) == ("admin/v5", "/api/admin/v5/event-data", None)
    assert versions.next_unknown() == later
    assert versions.named("admin-v12").base_path == "/api/admin/v12/event-data"
    for unknown in ("admin-v2", "admin-v1", "admin-v05", "admin-v", "v5", "admin-v5 "):
        assert versions.named(unknown) is None, unknown
    assert versions.fallbacks("admin-v5") == versions.CHAIN
    run = RunVersion("admin-v5")
    assert run.fall_back(not_served("admin-v5")) == "admin-v4"
    assert run.fall_back(not_served("admin-v4")) == "admin-v3"


def test_a_selected_version_never_falls_back():
    for name in ("admin-v3", "v2"):
        run = RunVersion(name)
        assert run.fall_back(not_served(name)) is None
        assert run.current == name
        assert run.stop_message().startswith(f"the export API of api_version {name} (")


def test_the_fallback_warning_names_both_versions():
    run = RunVersion("admin-v4")
    run.fall_back(not_served("admin-v4"))
    warning = run.fallback_warning()
    assert warning.startswith("the admin/v4 export API is not served: POST /api/x/admin-v4/")
    assert "creates its export jobs on admin-v3 (admin/v3, which " in warning
    run.fall_back(not_served("admin-v3", 410))
    second = run.fallback_warning()  # each step names the version that failed and the next one
    assert second.startswith("the admin/v3 export API is not served: POST /api/x/admin-v3/")
    assert "creates its export jobs on v2 (web-api-v2, which reached end of life on 2024-04-20)" in second


def test_a_job_keeps_its_version_and_an_old_entry_gets_0_1s():
    assert versions.of_job({"api_version": "admin-v3"}, "admin-v4") == "admin-v3"
    assert versions.of_job({"api_version": "admin-v5"}, "admin-v4") == "admin-v5"  # a later version a run used
    for configured, expected in (("admin-v4", "v2"), ("admin-v3", "admin-v3"), ("v2", "v2")):
        job: dict = {"jid": "j"}
        assert versions.of_job(job, configured) == expected
        assert job["api_version"] == expected  # written into the entry, so the state records it


def test_the_setting_description_lists_every_value_without_aging():
    text = versions.describe_setting()
    for version in versions.VERSIONS.values():
        assert version.name in text and version.base_path in text
    assert "end of life 2026-12-31" in text and "end of life 2024-04-20" in text
    assert "reaches" not in text and "reached" not in text
    assert "a later admin-v<N>" in text
