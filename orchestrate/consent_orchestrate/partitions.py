"""The partitions of the Meltano project: one per value of each tap's partition setting, or per account.

How each tap splits is `fan_out.json` beside this module, which scripts/generate_plugins.py writes from the
vendor profiles (a tap's partition setting, e.g. a list of domains, audiences, customer keys or datasets; or a
secret setting that identifies an account). The values are read from the project itself (meltano.yml), from
the active environment's config, so the orchestrator never keeps its own list: add a value to the environment
and it gets an asset. A tap of the environment whose setting lists nothing (or that has none) is one partition,
`default`: the whole tap. A partition is a `meltano run` of the tap with its setting narrowed to that value
(through the setting's environment variable, which Meltano puts above meltano.yml) and its own state id suffix.

A tap split by account has one secret per account. The environment holds one account (the `default`
partition); more come from CONSENT_ORCHESTRATE_<TAP>_ACCOUNTS (the tap's name without `tap-`, upper case), a
JSON object {account name: name of the environment variable holding that account's secret}, so no secret is
ever written into a definition.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

FAN_OUT: dict[str, dict[str, str]] = json.loads(Path(__file__).with_name("fan_out.json").read_text())
DEFAULT = "default"  # the partition that is the whole tap


@dataclass(frozen=True)
class Partition:
    tap: str  # the Meltano extractor, e.g. tap-gravito
    name: str  # the partition as the vendor names it; also the state id suffix
    env: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # the setting narrowed to it
    secret_env: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # variable -> variable

    @property
    def asset_name(self) -> str:
        return re.sub(r"[^A-Za-z0-9_]", "_", self.name)

    @property
    def group(self) -> str:
        return self.tap.replace("-", "_")


def environment_config(project_root: Path, environment: str) -> dict[str, dict]:
    """{extractor: config} of one environment of the project (include_paths are not needed for this)."""
    project = yaml.safe_load((project_root / "meltano.yml").read_text())
    for env in project.get("environments", []):
        if env["name"] == environment:
            extractors = (env.get("config") or {}).get("plugins", {}).get("extractors", [])
            return {plugin["name"]: plugin.get("config") or {} for plugin in extractors}
    raise SystemExit(f"consent-orchestrate: meltano.yml has no environment named {environment!r}")


def default_environment(project_root: Path) -> str:
    return (
        os.environ.get("MELTANO_ENVIRONMENT")
        or yaml.safe_load((project_root / "meltano.yml").read_text())["default_environment"]
    )


def setting_variable(tap: str, setting: str) -> str:
    """The environment variable Meltano reads a setting of a plugin from, e.g. TAP_X_DOMAINS."""
    return re.sub(r"[^A-Z0-9]", "_", f"{tap}_{setting}".upper())


def accounts_variable(tap: str) -> str:
    """The variable naming the accounts of a tap split by account, e.g. CONSENT_ORCHESTRATE_X_ACCOUNTS."""
    return setting_variable("CONSENT_ORCHESTRATE", f"{tap.removeprefix('tap-')}_ACCOUNTS")


def tap_partitions(tap: str, config: dict) -> list[Partition]:
    """One tap's partitions, given its config in the environment."""
    split = FAN_OUT.get(tap, {})
    setting, secret = split.get("setting", ""), split.get("account_secret", "")
    if setting and config.get(setting):
        variable = setting_variable(tap, setting)
        return [Partition(tap, value, {variable: json.dumps([value])}) for value in config[setting]]
    accounts = json.loads(os.environ.get(accounts_variable(tap)) or "{}") if secret else {}
    if accounts:
        variable = setting_variable(tap, secret)
        return [
            Partition(tap, account, secret_env={variable: key_variable}) for account, key_variable in accounts.items()
        ]
    return [Partition(tap, DEFAULT)]


def partitions(project_root: Path, environment: str | None = None) -> list[Partition]:
    config = environment_config(project_root, environment or default_environment(project_root))
    order = [*FAN_OUT, *sorted(set(config) - set(FAN_OUT))]  # the profiles' order, then any other extractor
    return [partition for tap in order if tap in config for partition in tap_partitions(tap, config[tap])]
