"""Bad settings end with one clear line and a non-zero exit, before any request."""

from __future__ import annotations

import pytest
from tapkit import ConfigError

from tap_voyado.tap import TapVoyado
from tests.support.singer import run_tap
from tests.voyado.conftest import API_KEY


def test_a_missing_keys_file_stops_the_console_script_before_any_request(sandbox, voyado_config, tmp_path):
    config = voyado_config(["cust-1"], customer_keys_file=str(tmp_path / "nowhere.txt"))
    run = run_tap("tap-voyado", config)
    assert run.returncode == 1
    assert run.last_stderr_line == f"tap-voyado: error: setting customer_keys_file: no such file: {tmp_path / 'nowhere.txt'}"
    assert sandbox.count("voyado") == 0
    assert API_KEY not in run.stdout + run.stderr
    assert [m for m in run.messages if m["type"] in ("RECORD", "STATE")] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_url": None}, "set cluster_id (https://{cluster_id}.api.esales.apptus.cloud) or api_url"),
        ({"api_version": "v3"}, "setting api_version must be one of v2, admin-v3, admin-v4, got 'v3'"),
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


def test_cluster_id_gives_the_vendor_url_and_api_version_the_base_path(voyado_config):
    config = {**voyado_config(["cust-1"], cluster_id="w1a2b3", api_version="admin-v3")}
    del config["api_url"]
    stream = TapVoyado(config=config).streams["export_jobs"]
    assert stream.api_base == "https://w1a2b3.api.esales.apptus.cloud/api/admin/v3/event-data"
    assert TapVoyado(config={**config, "api_version": "v2"}).streams["export_jobs"].api_base.endswith(
        ".apptus.cloud/api/v2/event-data"
    )
