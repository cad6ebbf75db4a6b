"""tap-consentmanager: every live report type of the consentmanager.net Data API."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from tap_consentmanager.streams import STREAM_TYPES
from tapkit import ConfigError, TapkitError, VendorTap, request_settings
from tapkit.state import StateLayout

if t.TYPE_CHECKING:
    from tapkit.probe import ProbeResult


class ReportsStoppedError(TapkitError):
    """Some reports could not be read (their `data` was not a JSON array); the others synced."""


class TapConsentmanager(VendorTap):
    """consentmanager.net Data API: all 17 live report types (CMP statistics, consent log, vendors, purposes, changelog ...), typed and incremental by day."""

    name = "tap-consentmanager"
    vendor_name = "consentmanager.net"
    auth_settings = ("api_key",)
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
            description="Days before the bookmark that are read again, since the vendor's recent aggregates still change.",
        ),
        th.Property(
            "custom_vendors_all",
            th.BooleanType,
            default=False,
            title="All custom vendors",
            description="custom_vendors lists every vendor created (all=1), not only those used in a CMP.",
        ),
        *request_settings("https://app.consentmanager.net"),
    ).to_dict()

    def check_settings(self) -> None:
        super().check_settings()
        start = self.require_date("start_date", required=True)
        end = self.require_date("end_date")
        if end is not None and start is not None and end < start:
            raise ConfigError(f"setting end_date ({end}) is before start_date ({start})")
        lookback = self.config.get("lookback_days")
        if lookback is not None and lookback < 0:
            raise ConfigError(f"setting lookback_days must be 0 or more, got {lookback!r}")

    def discover_streams(self) -> list:
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]

    # -- a report that cannot be read stops alone; the run still fails, at the end ----------------

    def report_failed(self, report: str, problem: str) -> None:
        self._failed_reports.append((report, problem))

    @property
    def _failed_reports(self) -> list[tuple[str, str]]:
        return self.__dict__.setdefault("_failed_reports_list", [])

    def run_sync(self, sync_every_stream: t.Callable[[], None]) -> None:
        super().run_sync(sync_every_stream)
        failed = self._failed_reports
        if failed:
            # Each problem starts with its report's name: `cmp_report (type 1) on 2026-11-30: ...`.
            details = " | ".join(problem for _, problem in failed)
            raise ReportsStoppedError(f"{len(failed)} report(s) stopped, every other report synced: {details}")

    # -- `--probe` -----------------------------------------------------------------------------

    def probe(self) -> t.Iterable[ProbeResult]:
        from tap_consentmanager.probe import probe

        return probe(self)


# Console scripts (kept as module attributes so existing entry points keep working).
main = TapConsentmanager.run_singer
airbyte_main = TapConsentmanager.run_airbyte


if __name__ == "__main__":
    main()
