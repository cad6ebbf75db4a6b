"""tap-didomi: Didomi's configuration (notices, purposes, vendors ...), its Consents API, and its bucket exports."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from typing_extensions import override

from tap_didomi.api import DEFAULT_API_URL, DEFAULT_PAGE_SIZE, DidomiApi
from tap_didomi.buckets import key_secrets, parse_bucket_url, service_account_info
from tap_didomi.settings import DEFAULT_START_DAYS, DidomiSettings
from tap_didomi.streams import STREAM_TYPES
from tapkit import ConfigError, VendorTap, request_settings
from tapkit.state import StateLayout

if t.TYPE_CHECKING:
    from singer_sdk import Stream

    from tap_didomi.streams import DidomiStream
    from tapkit.probe import ProbeResult


class TapDidomi(VendorTap[DidomiSettings]):
    """Didomi Platform API and the batch/analytics exports Didomi writes to your S3 or GCS bucket."""

    name = "tap-didomi"
    vendor_name = "Didomi"
    auth_settings = ("api_key", "api_secret")
    api_class = DidomiApi
    settings_class = DidomiSettings
    state_layout = StateLayout.of(STREAM_TYPES)

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            title="API key",
            description="Private API key (Didomi console: your organization > Settings > Private API keys).",
        ),
        th.Property(
            "api_secret",
            th.StringType,
            required=True,
            secret=True,
            title="API secret",
            description="The secret shown once next to the private API key.",
        ),
        th.Property(
            "organization_id",
            th.StringType,
            required=True,
            title="Organization ID",
            description="The Didomi organization to read (every API route is scoped by it).",
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=DEFAULT_PAGE_SIZE,
            title="Page size",
            description="Rows asked per list request ($limit).",
        ),
        th.Property(
            "consents_api",
            th.BooleanType,
            default=False,
            title="Consents API",
            description="Read consent_users and consent_events from the Consents API (a separately priced "
            "Didomi product). Off: those streams load nothing.",
        ),
        th.Property(
            "export_bucket_url",
            th.StringType,
            title="Export bucket URL",
            description="Where Didomi writes the batch and analytics exports: s3://<bucket>/<prefix> or "
            "gs://<bucket>/<prefix> (the prefix holds the export-id=... folders, e.g. s3://bucket/data). "
            "Unset: the export streams load nothing.",
        ),
        th.Property(
            "export_ids",
            th.ArrayType(th.StringType),
            title="Export IDs",
            description="Export IDs to read. Default: every export-id= folder of the bucket.",
        ),
        th.Property(
            "start_date",
            th.DateType,
            title="Start date",
            description=f"First partition date (YYYY-MM-DD) read on the first run. Default: {DEFAULT_START_DAYS} "
            "days before today (UTC).",
        ),
        th.Property(
            "lookback_days",
            th.IntegerType,
            default=2,
            title="Lookback days",
            description="Partition days before each export's bookmark read again, for files Didomi delivers late.",
        ),
        th.Property(
            "end_date",
            th.DateType,
            title="End date",
            description="Last partition date (YYYY-MM-DD) read. Default: today (UTC).",
        ),
        th.Property(
            "aws_profile",
            th.StringType,
            title="AWS profile",
            description="AWS profile for the S3 bucket (default: the standard AWS credential chain).",
        ),
        th.Property(
            "aws_access_key_id", th.StringType, secret=True, title="AWS access key ID", description="S3 access key."
        ),
        th.Property(
            "aws_secret_access_key",
            th.StringType,
            secret=True,
            title="AWS secret access key",
            description="S3 secret key.",
        ),
        th.Property(
            "aws_session_token",
            th.StringType,
            secret=True,
            title="AWS session token",
            description="Temporary session token (after assuming Didomi's bucket_access_role_arn).",
        ),
        th.Property("aws_region", th.StringType, title="AWS region", description="Region of the S3 bucket."),
        th.Property(
            "s3_endpoint_url",
            th.StringType,
            title="S3 endpoint URL",
            description="An S3-compatible endpoint instead of AWS (a local emulator).",
        ),
        th.Property(
            "gcs_service_account_json",
            th.StringType,
            secret=True,
            title="GCS service account JSON",
            description="The service account key (JSON text) that reads the GCS bucket.",
        ),
        th.Property(
            "gcs_endpoint_url",
            th.StringType,
            title="GCS endpoint URL",
            description="A GCS-compatible endpoint instead of Google's (a local emulator).",
        ),
        *request_settings(DEFAULT_API_URL, snapshots=True),
    ).to_dict()

    @override
    def secrets_within(self, secret_settings: t.Mapping[str, t.Any]) -> t.Iterable[str]:
        # The JSON key is masked whole; its private key also alone and line by line, as a message might quote it.
        return key_secrets(secret_settings.get("gcs_service_account_json"))

    @override
    def check_settings(self) -> None:
        super().check_settings()
        settings = self.settings
        if not settings.organization_id.strip():
            raise ConfigError("setting organization_id must be your Didomi organization ID (a non-empty text)")
        scheme = parse_bucket_url(settings.export_bucket_url)[0] if settings.export_bucket_url else None
        if scheme == "gs" and settings.gcs_service_account_json:
            # its fields, before any request; only where it is used (an S3 user's unused key is not judged)
            service_account_info(settings.gcs_service_account_json)
        if any(not export_id.strip() for export_id in settings.export_ids or ()):
            raise ConfigError("setting export_ids must be a list of export IDs (non-empty texts)")

    @override
    def probe(self) -> t.Iterable[ProbeResult]:
        from tap_didomi import probe

        return probe.run(self)

    @override
    def run_sync(self, sync_every_stream: t.Callable[[], None]) -> None:
        # Credentials are checked before any record: the export streams, which sort first, need no token.
        t.cast("DidomiApi", self.api).session.token()
        super().run_sync(sync_every_stream)

    @override
    def discover_streams(self) -> list[DidomiStream]:
        return [stream_type(self) for stream_type in STREAM_TYPES]

    @override
    def ordered_streams(self, streams: list[Stream]) -> list[Stream]:
        # The API's small lists first, the bucket's exports last (the SDK would sort them by name): a run stopped
        # or refused early has the configuration, and a reader of the output sees the API's answers first.
        order: dict[type, int] = {stream_type: index for index, stream_type in enumerate(STREAM_TYPES)}
        return sorted(streams, key=lambda stream: order.get(type(stream), len(order)))


# Console scripts.
main = TapDidomi.run_singer
airbyte_main = TapDidomi.run_airbyte


if __name__ == "__main__":
    main()
