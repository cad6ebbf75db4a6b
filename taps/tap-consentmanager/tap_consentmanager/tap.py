"""tap-consentmanager: every live report type of the consentmanager.net Data API."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from typing_extensions import override

from tap_consentmanager.api import ConsentmanagerApi
from tap_consentmanager.settings import ConsentmanagerSettings
from tap_consentmanager.streams import STREAM_TYPES
from tapkit import VendorTap, request_settings
from tapkit.state import StateLayout

if t.TYPE_CHECKING:
    from tap_consentmanager.stream_base import ConsentmanagerStream
    from tapkit.probe import ProbeResult

__all__ = ["TapConsentmanager"]


class TapConsentmanager(VendorTap[ConsentmanagerSettings]):
    """consentmanager.net Data API: all 17 live report types (CMP statistics, consent log, vendors,
    purposes, changelog ...), typed and incremental by day."""

    name = "tap-consentmanager"
    vendor_name = "consentmanager.net"
    auth_settings = ("api_key",)
    api_class = ConsentmanagerApi
    settings_class = ConsentmanagerSettings
    state_layout = StateLayout.of(STREAM_TYPES)

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            title="API key",
            description="Data API key. It travels in the query string; the tap masks it in every output.",
        ),
        th.Property(
            "start_date",
            th.DateType,
            required=True,
            title="Start date",
            description="First day (YYYY-MM-DD) of the date-ranged reports on the first run.",
        ),
        th.Property(
            "end_date",
            th.DateType,
            title="End date",
            description="Last day (YYYY-MM-DD) of the date-ranged reports. Default: today (UTC).",
        ),
        th.Property(
            "lookback_days",
            th.IntegerType,
            default=2,
            title="Lookback days",
            description=(
                "Days before the bookmark that are read again, since the vendor's recent aggregates still change."
            ),
        ),
        th.Property(
            "custom_vendors_all",
            th.BooleanType,
            default=False,
            title="All custom vendors",
            description="custom_vendors lists every vendor created (all=1), not only those used in a CMP.",
        ),
        *request_settings("https://app.consentmanager.net", snapshots=True),
    ).to_dict()

    @override
    def discover_streams(self) -> list[ConsentmanagerStream]:
        # A report that cannot be read stops alone, the run failing at the end: the kit's isolation.
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]

    # -- `--probe` -----------------------------------------------------------------------------

    @override
    def probe(self) -> t.Iterable[ProbeResult]:
        from tap_consentmanager.probe import probe

        return probe(self)


# Console scripts (kept as module attributes so existing entry points keep working).
main = TapConsentmanager.run_singer
airbyte_main = TapConsentmanager.run_airbyte


if __name__ == "__main__":
    main()
