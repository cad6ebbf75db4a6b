"""tap-lytics' settings, typed (declared for users in tap.py's `config_jsonschema`; see tapkit.settings)."""

from __future__ import annotations

import dataclasses
import typing as t

from tapkit.settings import AtLeast, SnapshotSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class LyticsSettings(SnapshotSettings):
    api_key: str
    table: str
    segments: tuple[str, ...]
    scan_page_size: t.Annotated[int, AtLeast(1)]
    profile_key: str | None
    #: each {"field": ..., "value": ...}
    profile_lookups: tuple[dict[str, t.Any], ...]
    deletion_request_ids: tuple[str, ...]
