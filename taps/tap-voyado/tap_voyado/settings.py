"""tap-voyado's settings, typed (declared for users in tap.py's `config_jsonschema`; see tapkit.settings)."""

from __future__ import annotations

import dataclasses
import typing as t

from tapkit.settings import AtLeast, KitSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class VoyadoSettings(KitSettings):
    api_key: str
    cluster_id: str | None
    api_version: str
    #: None (unset) differs from []: one of customer_keys and customer_keys_file must be given
    customer_keys: tuple[str, ...] | None
    customer_keys_file: str | None
    download_dir: str
    download_min_free_mb: t.Annotated[float, AtLeast(0)]
    job_timeout_days: t.Annotated[int, AtLeast(0)]
