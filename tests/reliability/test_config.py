"""Bad config: one clear line and exit 1, before any request reaches the vendor."""

from __future__ import annotations

import pytest

from tests.reliability.runner import sync
from tests.reliability.taps import TAPS

CASES = [
    pytest.param(vendor, f"config: {label}", change, message, id=f"{vendor}-{label}")
    for vendor, profile in TAPS.items()
    for label, change, message in profile.bad_configs
]


@pytest.mark.parametrize(("vendor", "scenario", "change", "message"), CASES)
def test_bad_config_is_one_clear_line_before_any_request(sandbox, tmp_path, vendor, scenario, change, message):
    profile = TAPS[vendor]
    run = sync(profile, profile.config(sandbox, tmp_path, **change))
    assert run.returncode == 1, run.stderr[-2000:]
    assert run.last_stderr_line.startswith(f"{profile.name}: error: "), run.stderr[-2000:]
    assert message in run.last_stderr_line
    assert run.messages == [] or all(m["type"] not in ("RECORD", "STATE") for m in run.messages)
    assert sandbox.count(vendor) == 0


@pytest.mark.parametrize("vendor", sorted(TAPS))
def test_an_api_url_without_scheme_and_host_is_one_line_naming_the_setting(sandbox, tmp_path, vendor):
    """What Meltano passes when `${CONSENT_SANDBOX_URL}/<vendor>` is used with the variable unset."""
    profile = TAPS[vendor]
    run = sync(profile, profile.config(sandbox, tmp_path, api_url=f"/{vendor}"))
    assert run.returncode == 1, run.stderr[-2000:]
    assert run.last_stderr_line == (
        f"{profile.name}: error: setting api_url must be an absolute http(s) URL, got '/{vendor}'"
        " (is an environment variable it is made from unset?)"
    )
    assert "Traceback" not in run.stderr
    assert sandbox.count(vendor) == 0
