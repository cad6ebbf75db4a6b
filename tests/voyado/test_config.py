"""Bad settings end with one clear line and a non-zero exit, before any request."""

from __future__ import annotations

import pytest

from tap_voyado.api import VoyadoApi
from tap_voyado.tap import TapVoyado
from tapkit import ConfigError
from tests.support.singer import run_tap
from tests.voyado.conftest import API_KEY

ALLOWED_VERSIONS = "admin-v4, admin-v3, v2 or a later admin-v<N>"


def test_a_missing_keys_file_stops_the_console_script_before_any_request(sandbox, voyado_config, tmp_path):
    config = voyado_config(["cust-1"], customer_keys_file=str(tmp_path / "nowhere.txt"))
    run = run_tap("tap-voyado", config)
    assert run.returncode == 1
    assert (
        run.last_stderr_line
        == f"tap-voyado: error: setting customer_keys_file: no such file: {tmp_path / 'nowhere.txt'}"
    )
    assert sandbox.count("voyado") == 0
    assert API_KEY not in run.stdout + run.stderr
    assert [m for m in run.messages if m["type"] in ("RECORD", "STATE")] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_url": None}, "set cluster_id (https://{cluster_id}.elevate-api.cloud) or api_url"),
        ({"api_version": "v3"}, f"setting api_version must be one of {ALLOWED_VERSIONS}, got 'v3'"),
        ({"api_version": "admin-v2"}, f"setting api_version must be one of {ALLOWED_VERSIONS}, got 'admin-v2'"),
        ({"customer_keys": None}, "set customer_keys (a list) or customer_keys_file (one key per line)"),
        ({"cluster_id": "my cluster/1"}, "setting cluster_id must be letters, digits and dashes, got 'my cluster/1'"),
        ({"job_timeout_days": -1}, "setting job_timeout_days must be 0 or more, got -1"),
    ],
)
def test_bad_settings_are_config_errors_before_any_request(sandbox, voyado_config, change, message):
    config = {name: value for name, value in {**voyado_config(["cust-1"]), **change}.items() if value is not None}
    with pytest.raises(ConfigError) as raised:
        TapVoyado(config=config, validate_config=True)
    assert str(raised.value) == message
    assert sandbox.count("voyado") == 0


def tap_for(**settings) -> TapVoyado:
    """A tap built from settings alone (no request is made: URL building needs no server)."""
    return TapVoyado(config={"api_key": API_KEY, "customer_keys": ["cust-1"], **settings})


@pytest.mark.parametrize(
    ("settings", "base"),
    [
        ({"cluster_id": "w1a2b3"}, "https://w1a2b3.elevate-api.cloud/api/admin/v4/event-data"),
        (
            {"cluster_id": "w1a2b3", "api_version": "admin-v3"},
            "https://w1a2b3.elevate-api.cloud/api/admin/v3/event-data",
        ),
        ({"cluster_id": "w1a2b3", "api_version": "v2"}, "https://w1a2b3.elevate-api.cloud/api/v2/event-data"),
        # the older docs' host stays reachable through api_url (which wins over cluster_id)
        (
            {"cluster_id": "ignored", "api_url": "https://w1a2b3.api.esales.apptus.cloud/", "api_version": "v2"},
            "https://w1a2b3.api.esales.apptus.cloud/api/v2/event-data",
        ),
        ({"api_url": "http://127.0.0.1:9/voyado"}, "http://127.0.0.1:9/voyado/api/admin/v4/event-data"),
    ],
)
def test_the_base_url_is_the_elevate4_host_with_the_versions_path(settings, base):
    api = tap_for(**settings).api
    assert isinstance(api, VoyadoApi)
    assert api.api_base == base


def test_each_version_has_its_own_base_under_one_host():
    api = tap_for(cluster_id="c-9").api
    assert isinstance(api, VoyadoApi)
    assert api.configured_version == "admin-v4"
    assert {name: api.version_base(name) for name in ("admin-v4", "admin-v3", "v2")} == {
        "admin-v4": "https://c-9.elevate-api.cloud/api/admin/v4/event-data",
        "admin-v3": "https://c-9.elevate-api.cloud/api/admin/v3/event-data",
        "v2": "https://c-9.elevate-api.cloud/api/v2/event-data",
    }
