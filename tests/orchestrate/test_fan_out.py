"""The Dagster fan-out (orchestrate/) has an asset for every partition of every tap of the Meltano project:
one per value of the tap's partition setting (a Gravito domain, a Voyado customer key, a Claravine dataset, a
Lytics audience), one per consentmanager account, and the whole tap (`default`) where the setting lists
nothing. Dagster loads the definitions in orchestrate/'s own environment, as deployed; no partition runs here
(tests/pipelines/test_orchestrate_fanout.py runs them)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from sandbox.didomi import ANALYTICS_EXPORT, BATCH_EXPORT
from sandbox.profiles import profile_of
from tests.support.uv import uv

ROOT = Path(__file__).resolve().parents[2]
ORCHESTRATE = ROOT / "orchestrate"

#: what orchestrate's Python prints: every asset of the definitions, with the partition it runs
LIST_ASSETS = """
import json
from consent_orchestrate.definitions import PROJECT_ROOT, defs
from consent_orchestrate.partitions import partitions
found = {f"{p.group}/{p.asset_name}": {"tap": p.tap, "name": p.name, "env": p.env, "secret_env": p.secret_env}
         for p in partitions(PROJECT_ROOT, "sandbox")}
keys = sorted("/".join(key.path) for key in defs.resolve_all_asset_keys())
print(json.dumps({"keys": keys, "partitions": found}))
"""


@pytest.fixture(scope="module")
def orchestrate_python() -> str:
    synced = subprocess.run(
        [*uv(), "sync", "--locked", "--quiet", "--project", str(ORCHESTRATE)], capture_output=True, text=True
    )
    assert synced.returncode == 0, f"orchestrate/'s environment did not build:\n{synced.stderr[-3000:]}"
    return str(ORCHESTRATE / ".venv" / "bin" / "python")


def fan_out(python: str, project_root: Path, **env: str) -> dict:
    """The assets and partitions Dagster's definitions hold for a Meltano project (its `sandbox` environment)."""
    run_env = {key: value for key, value in os.environ.items() if not key.startswith("CONSENT_ORCHESTRATE_")}
    run_env.pop("VIRTUAL_ENV", None)
    listed = subprocess.run(
        [python, "-c", LIST_ASSETS],
        cwd=ORCHESTRATE,
        env={**run_env, "CONSENT_PROJECT_ROOT": str(project_root), "MELTANO_ENVIRONMENT": "sandbox", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    return json.loads(listed.stdout.splitlines()[-1])


def project_with(tmp_path: Path, **settings: dict) -> Path:
    """A copy of the Meltano project whose `sandbox` environment has these settings added per extractor."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (environment,) = [env for env in project["environments"] if env["name"] == "sandbox"]
    for plugin in environment["config"]["plugins"]["extractors"]:
        plugin["config"].update(settings.get(plugin["name"], {}))
    (tmp_path / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    return tmp_path


def asset(group: str, name: str) -> str:
    return f"{group}/{name.replace('.', '_').replace('-', '_')}"


def test_every_tap_fans_out_over_its_partition_setting(orchestrate_python, sandbox, tmp_path):
    datasets = [row["uuid"] for row in sandbox.app("claravine").ground_truth(start=sandbox.today())["datasets"]]
    assert len(datasets) > 1
    domains = profile_of("gravito").meltano_settings["domains"]
    customer_keys = profile_of("voyado").meltano_settings["customer_keys"]
    segments = profile_of("lytics").meltano_settings["segments"]
    assert len(domains) == 3 and len(customer_keys) == 4 and len(segments) == 3

    export_ids = [BATCH_EXPORT, ANALYTICS_EXPORT]  # the simulator's bucket holds these two
    project = project_with(
        tmp_path, **{"tap-claravine": {"datasets": datasets}, "tap-didomi": {"export_ids": export_ids}}
    )
    found = fan_out(orchestrate_python, project)

    expected = {
        asset("tap_consentmanager", "default"): ("tap-consentmanager", "default", {}),
        **{asset("tap_gravito", d): ("tap-gravito", d, {"TAP_GRAVITO_DOMAINS": json.dumps([d])}) for d in domains},
        **{
            asset("tap_voyado", k): ("tap-voyado", k, {"TAP_VOYADO_CUSTOMER_KEYS": json.dumps([k])})
            for k in customer_keys
        },
        **{
            asset("tap_claravine", d): ("tap-claravine", d, {"TAP_CLARAVINE_DATASETS": json.dumps([d])})
            for d in datasets
        },
        **{asset("tap_lytics", s): ("tap-lytics", s, {"TAP_LYTICS_SEGMENTS": json.dumps([s])}) for s in segments},
        **{asset("tap_didomi", e): ("tap-didomi", e, {"TAP_DIDOMI_EXPORT_IDS": json.dumps([e])}) for e in export_ids},
    }
    assert found["keys"] == sorted(expected)
    assert {
        key: (partition["tap"], partition["name"], partition["env"]) for key, partition in found["partitions"].items()
    } == expected


def test_a_tap_whose_setting_lists_nothing_is_one_partition(orchestrate_python):
    """The project as committed: Claravine reads every dataset and Didomi every export id, so each whole tap
    is one partition."""
    found = fan_out(orchestrate_python, ROOT)
    assert [key for key in found["keys"] if key.startswith("tap_claravine/")] == ["tap_claravine/default"]
    assert found["partitions"]["tap_claravine/default"]["env"] == {}
    assert [key for key in found["keys"] if key.startswith("tap_didomi/")] == ["tap_didomi/default"]  # every id
    assert len(found["keys"]) == 1 + 3 + 4 + 1 + 3 + 1


def test_consentmanager_fans_out_over_accounts_named_in_the_environment(orchestrate_python):
    accounts = {"shop": "CM_KEY_SHOP", "news": "CM_KEY_NEWS"}
    found = fan_out(orchestrate_python, ROOT, CONSENT_ORCHESTRATE_CONSENTMANAGER_ACCOUNTS=json.dumps(accounts))
    assert [key for key in found["keys"] if key.startswith("tap_consentmanager/")] == [
        "tap_consentmanager/news",
        "tap_consentmanager/shop",
    ]
    for account, variable in accounts.items():
        partition = found["partitions"][f"tap_consentmanager/{account}"]
        assert partition["secret_env"] == {"TAP_CONSENTMANAGER_API_KEY": variable}
        assert partition["env"] == {}
