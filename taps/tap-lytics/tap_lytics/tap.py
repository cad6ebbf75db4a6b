"""tap-lytics: Lytics accounts, audiences, schema, audience members, profiles and GDPR deletion status."""

from __future__ import annotations

import re
import typing as t
from functools import cached_property

from singer_sdk import typing as th
from typing_extensions import override

from tap_lytics import scan_state
from tap_lytics.api import LyticsApi
from tap_lytics.audiences import AudienceCatalog
from tap_lytics.identity import MemberKey, identity_fields
from tap_lytics.profile_schema import profile_properties
from tap_lytics.scalars import ScalarTyping
from tap_lytics.settings import LyticsSettings
from tap_lytics.state_layout import LAYOUT as STATE_LAYOUT
from tap_lytics.streams import (
    PROFILE_RESERVED,
    AccountsStream,
    AudienceMembersStream,
    DeletionRequestsStream,
    ProfilesStream,
    SchemaFieldsStream,
    SegmentSizesStream,
    SegmentsStream,
    audience_members_schema,
    profiles_schema,
)
from tapkit import ConfigError, VendorTap, request_settings
from tapkit.probe import ProbeResult

TABLE_NAME = re.compile(r"[A-Za-z0-9_]+")


class TapLytics(VendorTap[LyticsSettings]):
    """Lytics API: accounts, audiences and their sizes, schema, audience members, profile lookups and GDPR deletion status."""  # noqa: E501 - `--about` shows this docstring as the one-line description

    name = "tap-lytics"
    vendor_name = "Lytics"
    auth_settings = ("api_key",)
    state_layout = STATE_LAYOUT
    api_class = LyticsApi
    settings_class = LyticsSettings

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            title="API token",
            description="Lytics access token with read roles, sent raw in the Authorization header.",
        ),
        th.Property(
            "table",
            th.StringType,
            default="user",
            title="Table",
            description="Lytics table (entity type) whose schema, audiences and profiles are read.",
        ),
        th.Property(
            "segments",
            th.ArrayType(th.StringType),
            default=[],
            title="Audiences to export",
            description="Ids or slugs of the audiences whose members audience_members scans. Default: none.",
        ),
        th.Property(
            "scan_page_size",
            th.IntegerType,
            default=100,
            title="Scan page size",
            description="Profiles per segment-scan request (`limit`), at most 100: Lytics serves at most 100 rows "
            "per scan page whatever `limit` asks, so a larger value is used as 100 (with a warning).",
        ),
        th.Property(
            "profile_key",
            th.StringType,
            title="Profile key",
            description="Profile field whose value identifies a member (the profile_id column of audience_members). "
            "Unset (the default): the table's identity fields from /api/schema/<table> (by_fields, then columns "
            "marked is_by), the first one a profile has, as `<field>:<value>`; an array such as `_uids` gives its "
            "smallest element. A profile with no such value is counted and reported, not emitted.",
        ),
        th.Property(
            "profile_lookups",
            th.ArrayType(
                th.ObjectType(
                    th.Property("field", th.StringType, required=True),
                    th.Property("value", th.StringType, required=True),
                )
            ),
            default=[],
            title="Profile lookups",
            description="Subject-access lookups for the profiles stream: a list of {field, value}, "
            "e.g. {field: email, value: ...}.",
        ),
        th.Property(
            "deletion_request_ids",
            th.ArrayType(th.StringType),
            default=[],
            title="Deletion request ids",
            description="Request ids of GDPR deletions whose state deletion_requests reads.",
        ),
        *request_settings("https://api.lytics.io", snapshots=True),
    ).to_dict()

    @override
    def check_settings(self) -> None:
        super().check_settings()
        settings = self.settings
        if not settings.api_key.strip():
            raise ConfigError("setting api_key is empty: set a Lytics access token")
        table = settings.table
        if not TABLE_NAME.fullmatch(table):
            raise ConfigError(f"setting table must be a Lytics table name such as 'user', got {table!r}")
        profile_key = settings.profile_key
        if profile_key is not None and not str(profile_key).strip():
            raise ConfigError(
                "setting profile_key is empty: name a profile identity field such as user_id, "
                "or leave it unset to key members on the table's identity fields"
            )
        for name, values in (("segments", settings.segments), ("deletion_request_ids", settings.deletion_request_ids)):
            if any(not value.strip() for value in values):
                raise ConfigError(f"setting {name} contains an empty entry")
        for number, lookup in enumerate(settings.profile_lookups, start=1):
            if not str(lookup.get("field") or "").strip() or not str(lookup.get("value") or "").strip():
                raise ConfigError(f"setting profile_lookups: entry {number} needs a non-empty field and value")

    # -- discovery -------------------------------------------------------------------------------

    @override
    def discover_streams(self) -> list:
        # The table's schema types the profile columns and keys the members; schema_fields emits the
        # same answer. The audience list is asked once, when a stream first needs it.
        table = self.settings.table
        schema = self.lytics_api.for_stream("schema_fields").schema(table)
        profile_columns, untyped = profile_properties(schema.columns, PROFILE_RESERVED)
        if untyped:
            self.logger.warning("Lytics fields of unknown type, kept in _extra: %s", ", ".join(untyped))
        member_key = MemberKey(self.settings.profile_key, identity_fields(schema.by_fields, schema.columns))
        typing = ScalarTyping(schema.columns)
        audiences = self.audience_catalog
        return [
            AccountsStream(tap=self),
            SegmentsStream(tap=self, audiences=audiences),
            SchemaFieldsStream(tap=self, table_schema=schema),
            SegmentSizesStream(tap=self, audiences=audiences, run_started_at=self.run_started_at),
            AudienceMembersStream(
                tap=self,
                schema=audience_members_schema(profile_columns),
                member_key=member_key,
                typing=typing,
                audiences=audiences,
            ),
            ProfilesStream(tap=self, schema=profiles_schema(profile_columns), typing=typing),
            DeletionRequestsStream(tap=self, run_started_at=self.run_started_at),
        ]

    # -- `--probe` -------------------------------------------------------------------------------

    @override
    def probe(self) -> t.Iterable[ProbeResult]:
        """Each assumption about Lytics checked with a handful of read-only requests (tap_lytics.probe)."""
        from tap_lytics.probe import probe_lytics  # only `--probe` needs it

        return probe_lytics(self.lytics_api.for_stream("probe"), self.settings)

    # -- shared by streams (handed to them when they are built) ------------------------------------

    @property
    def lytics_api(self) -> LyticsApi:
        return t.cast("LyticsApi", self.api)  # built from `api_class`

    @cached_property
    def run_started_at(self) -> str:
        """The time of this run: segment_sizes.measured_at and deletion_requests.checked_at."""
        return scan_state.utc_now().isoformat()

    @cached_property
    def audience_catalog(self) -> AudienceCatalog:
        """The table's audiences, one request shared by segments, segment_sizes and audience_members."""
        table = self.settings.table
        api = self.lytics_api.for_stream("segments")
        return AudienceCatalog(lambda: api.segments(table), table=table, configured=self.settings.segments)


# Console scripts (kept as module attributes so existing entry points keep working).
main = TapLytics.run_singer
airbyte_main = TapLytics.run_airbyte


if __name__ == "__main__":
    main()
