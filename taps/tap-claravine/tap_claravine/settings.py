"""tap-claravine's settings, typed (declared for users in tap.py's `config_jsonschema`; see tapkit.settings)."""

from __future__ import annotations

import dataclasses

from tapkit.settings import DayWindowSettings, SnapshotSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClaravineSettings(DayWindowSettings, SnapshotSettings):
    api_key: str
    api_secret: str
    #: None or empty: every dataset the API user can read
    datasets: tuple[str, ...] | None
    key_header: str
    secret_header: str
