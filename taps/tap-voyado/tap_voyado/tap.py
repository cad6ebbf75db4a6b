"""tap-voyado: Voyado Elevate GDPR customer-data exports, one asynchronous job per customer key."""

from __future__ import annotations

import re
import typing as t

from singer_sdk import typing as th
from typing_extensions import override

from tap_voyado import versions
from tap_voyado.api import CLUSTER_URL, DEFAULT_API_VERSION, VoyadoApi
from tap_voyado.disk import DEFAULT_MIN_FREE_MB
from tap_voyado.keys import configured_keys
from tap_voyado.settings import VoyadoSettings
from tap_voyado.state_layout import LAYOUT as STATE_LAYOUT
from tap_voyado.streams import STREAM_TYPES
from tapkit import ConfigError, VendorTap, request_settings

CLUSTER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


class TapVoyado(VendorTap[VoyadoSettings]):
    """Voyado Elevate GDPR customer-data exports: one asynchronous export job per customer key, across runs."""

    name = "tap-voyado"
    vendor_name = "Voyado Elevate"
    auth_settings = ("api_key",)
    state_layout = STATE_LAYOUT
    #: the GDPR API's operations; it also holds the run's API version and its one fallback
    api_class = VoyadoApi
    settings_class = VoyadoSettings

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            title="API key",
            description="The cluster's private API key, sent in the Api-Key header.",
        ),
        th.Property(
            "cluster_id",
            th.StringType,
            title="Cluster ID",
            description=f"Elevate cluster id: the API is {CLUSTER_URL} (the Elevate 4 docs' host). "
            "Required unless api_url is set; for the older host, set api_url to https://{cluster_id}.api.esales.apptus.cloud.",
        ),
        th.Property(
            "api_version",
            th.StringType,
            default=DEFAULT_API_VERSION,
            title="API version",
            description=versions.describe_setting(),
        ),
        th.Property(
            "customer_keys",
            th.ArrayType(th.StringType),
            title="Customer keys",
            description="Customer keys (visitor ids) whose data to export; each key is exported once.",
        ),
        th.Property(
            "customer_keys_file",
            th.StringType,
            title="Customer keys file",
            description="A text file with one customer key per line (blank lines and #comments ignored), "
            "read in addition to customer_keys.",
        ),
        th.Property(
            "download_dir",
            th.StringType,
            default="output/voyado-downloads",
            title="Download directory",
            description="Where each export zip is saved before its lines are emitted; a zip is deleted "
            "by the first run whose input state shows it was emitted.",
        ),
        th.Property(
            "download_min_free_mb",
            th.NumberType,
            default=DEFAULT_MIN_FREE_MB,
            title="Minimum free space (MB)",
            description="Free space download_dir must have before each download (the vendor deletes an export "
            "once downloaded, and tells its size only then); less stops the run before the download.",
        ),
        th.Property(
            "job_timeout_days",
            th.IntegerType,
            default=21,
            title="Job timeout (days)",
            description="A job not done this many days after it was requested is reported as expired "
            "and no longer polled.",
        ),
        *request_settings(None),
    ).to_dict()

    @override
    def check_settings(self) -> None:
        super().check_settings()
        settings = self.settings
        api_url, cluster_id = settings.api_url, settings.cluster_id
        if not api_url and not cluster_id:
            raise ConfigError(f"set cluster_id ({CLUSTER_URL}) or api_url")
        if cluster_id and not CLUSTER_ID.fullmatch(str(cluster_id)):
            raise ConfigError(f"setting cluster_id must be letters, digits and dashes, got {cluster_id!r}")
        version = settings.api_version or DEFAULT_API_VERSION
        if versions.named(version) is None:
            raise ConfigError(f"setting api_version must be one of {versions.allowed_values()}, got {version!r}")
        if settings.customer_keys is None and not settings.customer_keys_file:
            raise ConfigError("set customer_keys (a list) or customer_keys_file (one key per line)")
        configured_keys(settings)  # a missing or unreadable keys file fails here, before any request
        if not settings.download_dir.strip():
            raise ConfigError("setting download_dir must name a directory")

    @override
    def probe(self) -> t.Iterable:
        from tap_voyado.probe import probe_rows

        return probe_rows(self)

    @override
    def discover_streams(self) -> list:
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]


# Console scripts (kept as module attributes so existing entry points keep working).
main = TapVoyado.run_singer
airbyte_main = TapVoyado.run_airbyte


if __name__ == "__main__":
    main()
