"""tap-didomi's settings, typed (declared for users in tap.py's `config_jsonschema`; see tapkit.settings)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from typing_extensions import override

from tapkit import clock
from tapkit.settings import AtLeast, DayWindowSettings, SnapshotSettings

#: the first run's partition days when no start_date is set
DEFAULT_START_DAYS = 30


@dataclasses.dataclass(frozen=True, kw_only=True)
class DidomiSettings(DayWindowSettings, SnapshotSettings):
    api_key: str
    api_secret: str
    organization_id: str
    page_size: t.Annotated[int, AtLeast(1)]
    consents_api: bool
    #: None: the export streams load nothing
    export_bucket_url: str | None
    #: None or empty: every export-id= folder of the bucket
    export_ids: tuple[str, ...] | None
    aws_profile: str | None
    aws_access_key_id: str | None
    aws_secret_access_key: str | None
    aws_session_token: str | None
    aws_region: str | None
    s3_endpoint_url: str | None
    gcs_service_account_json: str | None
    gcs_endpoint_url: str | None

    #: settings that may be unset though their type has no None: `from_config` computes their default
    computed_defaults = frozenset({"start_date"})

    @override
    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> t.Self:
        # start_date is optional for Didomi's users: unset, the first run reads the last DEFAULT_START_DAYS days.
        if not config.get("start_date"):
            default = clock.today() - dt.timedelta(days=DEFAULT_START_DAYS)
            config = {**config, "start_date": default.isoformat()}
        return super().from_config(config)
