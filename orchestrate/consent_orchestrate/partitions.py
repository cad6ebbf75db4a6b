"""The partitions of the Meltano project: one per Gravito domain, Lytics audience and consentmanager account.

They are read from the project itself (meltano.yml and its include_paths), from the active environment's
config, so the orchestrator never keeps its own list: add a domain to the environment and it gets an asset.
A partition is a `meltano run` of the tap with one setting narrowed to that partition (through the setting's
environment variable, which Meltano puts above meltano.yml) and its own state id suffix.

consentmanager accounts have one API key each. The environment holds one account (its `api_key`); more come
from CONSENT_ORCHESTRATE_CONSENTMANAGER_ACCOUNTS, a JSON object {account name: name of the environment
variable holding that account's key}, so no key is ever written into a definition.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ACCOUNTS_VARIABLE = "CONSENT_ORCHESTRATE_CONSENTMANAGER_ACCOUNTS"


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


def partitions(project_root: Path, environment: str | None = None) -> list[Partition]:
    config = environment_config(project_root, environment or default_environment(project_root))
    found: list[Partition] = []
    for domain in config.get("tap-gravito", {}).get("domains", []):
        found.append(Partition("tap-gravito", domain, {"TAP_GRAVITO_DOMAINS": json.dumps([domain])}))
    for audience in config.get("tap-lytics", {}).get("segments", []):
        found.append(Partition("tap-lytics", audience, {"TAP_LYTICS_SEGMENTS": json.dumps([audience])}))
    accounts = json.loads(os.environ.get(ACCOUNTS_VARIABLE) or "{}")
    if accounts:
        for account, key_variable in accounts.items():
            found.append(
                Partition("tap-consentmanager", account, secret_env={"TAP_CONSENTMANAGER_API_KEY": key_variable})
            )
    elif "tap-consentmanager" in config:
        found.append(Partition("tap-consentmanager", "default"))
    return found
