"""tap-consentmanager's settings, typed (declared for users in tap.py's `config_jsonschema`; see tapkit.settings)."""

from __future__ import annotations

import dataclasses

from tapkit.settings import DayWindowSettings, SnapshotSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsentmanagerSettings(DayWindowSettings, SnapshotSettings):
    api_key: str
    custom_vendors_all: bool
