"""The new user: an empty Meltano project outside the repository, one tap pasted in from its meltano-plugin.yml
(the repository URL in its one-line pip_url replaced by a `git+file://` URL of a clean clone of HEAD), `meltano
install`, `meltano run <tap> target-jsonl` against the sandbox, the loaded rows checked against ground truth.

Each test has its own project folder (its own .meltano, system database and output), so these run beside the
project's own pipeline tests.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.distribution.conftest import PACKAGES
from tests.pipelines.meltano_project import MELTANO, ROOT, resolved_sandbox_config, tap_profile

TAPS = [package for package in PACKAGES if package.startswith("tap-")]
TARGET_JSONL = {
    "name": "target-jsonl",
    "namespace": "target_jsonl",
    "pip_url": "target-jsonl==0.1.4",
    "executable": "target-jsonl",
    "settings": [{"name": "destination_path", "kind": "string"}, {"name": "do_timestamp_file", "kind": "boolean"}],
    "config": {"destination_path": "output", "do_timestamp_file": False},
}


def plugin_file_extractor(tap: str) -> dict:
    (extractor,) = yaml.safe_load((ROOT / "taps" / tap / "meltano-plugin.yml").read_text())["plugins"]["extractors"]
    return extractor


def repository_git_url() -> str:
    """The URL users install from, as the packages' metadata names the repository."""
    return f"git+{project_urls('tapkit')['Repository']}.git"


def project_urls(package: str) -> dict:
    return tomllib.loads((ROOT / "taps" / package / "pyproject.toml").read_text())["project"]["urls"]


def pasted_extractor(tap: str, clone: Path) -> dict:
    """The plugin file's extractor as a user pastes it, its repository URL pointing at the clone of HEAD instead."""
    extractor = plugin_file_extractor(tap)
    assert extractor["pip_url"].count(repository_git_url()) == 2, extractor["pip_url"]  # the kit and the tap
    extractor["pip_url"] = extractor["pip_url"].replace(repository_git_url(), f"git+file://{clone}")
    return extractor


def new_project(path: Path, tap: str, clone: Path) -> None:
    """What the how-to tells a user to do: the plugin file pasted into meltano.yml, nothing else."""
    path.mkdir(parents=True)
    project = {
        "version": 1,
        "project_id": f"new-user-{tap}",
        "send_anonymous_usage_stats": False,
        "venv": {"backend": "uv"},
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "plugins": {"extractors": [pasted_extractor(tap, clone)], "loaders": [TARGET_JSONL]},
    }
    (path / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))


def sandbox_settings(tap: str, sandbox) -> dict:
    """The sandbox's credentials as the project's `sandbox` environment declares them, then the truth module's."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (environment,) = [env for env in project["environments"] if env["name"] == "sandbox"]
    (declared,) = [p["config"] for p in environment["config"]["plugins"]["extractors"] if p["name"] == tap]
    settings = {key: value for key, value in declared.items() if "${" not in str(value)}
    settings["api_url"] = sandbox.url(tap.removeprefix("tap-"))
    # last, the settings made from the vendor's sandbox URL besides api_url (a bucket endpoint the simulator
    # serves): the profile's Meltano settings name it through ${CONSENT_SANDBOX_URL}, which a new user's
    # environment does not set
    by_url = tap_profile(tap).url_settings(settings["api_url"])
    return {**settings, **resolved_sandbox_config(tap), **by_url}


def setting_env(tap: str, settings: dict) -> dict:
    """TAP_<NAME>_<SETTING> variables, as a user's CI would set them (lists and objects as JSON)."""
    prefix = tap.upper().replace("-", "_")
    return {
        f"{prefix}_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in settings.items()
    }


def meltano(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [MELTANO, *args], cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"meltano {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


def primary_keys(tap: str, settings: dict) -> dict[str, list[str]]:
    module = importlib.import_module(f"{tap.replace('-', '_')}.tap")
    (tap_class,) = [obj for obj in vars(module).values() if isinstance(obj, type) and getattr(obj, "name", None) == tap]
    return {name: list(stream.primary_keys) for name, stream in tap_class(config=settings).streams.items()}


def distinct_rows(output: Path, keys: dict[str, list[str]]) -> dict[str, int]:
    counts = {}
    for path in sorted(output.glob("*.jsonl")):
        stream = path.stem
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        counts[stream] = len({tuple(json.dumps(record.get(key)) for key in keys[stream]) for record in records})
    return counts


@pytest.mark.parametrize("tap", TAPS)
def test_new_user_adds_the_tap_from_its_plugin_file_and_loads_jsonl(tap, sandbox, clean_clone, tmp_path):
    project = tmp_path / "my-meltano-project"
    new_project(project, tap, clean_clone)
    settings = sandbox_settings(tap, sandbox)
    if any(s["name"] == "emit_activate_version_messages" for s in plugin_file_extractor(tap)["settings"]):
        settings["emit_activate_version_messages"] = False  # what docs/how-to-add-a-tap.md says for target-jsonl
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MELTANO_", "TAP_", "TARGET_"))}
    env.update(MELTANO_CLI_DISABLE_VERSION_CHECK="1", **setting_env(tap, settings))

    meltano(project, env, "install")
    run = meltano(project, env, "run", tap, "target-jsonl")

    expected = tap_profile(tap).expected_rows(sandbox, settings)
    assert distinct_rows(project / "output", primary_keys(tap, settings)) == expected
    assert all(count > 0 for count in expected.values()), expected
    assert sandbox.count(tap.removeprefix("tap-")) > 0  # the run went to this test's sandbox
    sensitive = [s["name"] for s in plugin_file_extractor(tap)["settings"] if s.get("sensitive")]
    secrets = [settings[name] for name in sensitive if name in settings]  # optional ones (a session token) unset
    assert secrets and not [secret for secret in secrets if secret in run.stdout + run.stderr]
    assert "ACTIVATE_VERSION" not in run.stdout + run.stderr  # target-jsonl warns about each one it gets


@pytest.mark.parametrize("tap", TAPS)
def test_the_readmes_show_the_plugin_files_one_line_pip_url(tap):
    pip_url = plugin_file_extractor(tap)["pip_url"]
    assert " " in pip_url and pip_url.startswith("consent-tapkit@git+")  # the kit, then the tap: one line
    assert f"pip_url: {pip_url}" in (ROOT / "taps" / tap / "README.md").read_text()
    assert f"pip_url: {pip_url}" in (ROOT / "README.md").read_text()
