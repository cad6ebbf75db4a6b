"""tap-gravito's settings, typed (declared for users in tap.py's `config_jsonschema`; see tapkit.settings)."""

from __future__ import annotations

import dataclasses
import typing as t

from tapkit.settings import AtLeast, KitSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class GravitoSettings(KitSettings):
    access_token: str
    domains: tuple[str, ...]
    #: "" is read as the vendor's default (api.DEFAULT_VERSION); blanks alone are refused
    gravito_version: str
    lookback_hours: t.Annotated[int, AtLeast(0)]
