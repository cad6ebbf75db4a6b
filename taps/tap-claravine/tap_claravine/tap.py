"""tap-claravine: Claravine datasets (templates), transactions (submissions) and their rows."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import typing as th
from typing_extensions import override

from tap_claravine.api import API_HOST, CUSTOMER_HOST, DEFAULT_KEY_HEADER, DEFAULT_SECRET_HEADER, ClaravineApi
from tap_claravine.datasets import DatasetDefinitions
from tap_claravine.settings import ClaravineSettings
from tap_claravine.state_layout import LAYOUT as STATE_LAYOUT
from tap_claravine.streams import (
    DatasetRowsStream,
    DatasetsStream,
    TransactionRowsStream,
    TransactionsStream,
    dataset_stream_names,
)
from tapkit import ConfigError, VendorTap, request_settings
from tapkit.probe import ProbeResult


class TapClaravine(VendorTap[ClaravineSettings]):
    """Claravine API: datasets (templates), transactions (submissions) and their rows, one typed table per dataset."""

    name = "tap-claravine"
    vendor_name = "Claravine"
    auth_settings = ("api_key", "api_secret")
    state_layout = STATE_LAYOUT
    api_class = ClaravineApi
    settings_class = ClaravineSettings

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            title="API key",
            description="API Key (Claravine: Settings > your name > API Keys > Create API Key).",
        ),
        th.Property(
            "api_secret",
            th.StringType,
            required=True,
            secret=True,
            title="API secret",
            description="API Shared Secret shown once next to the API key.",
        ),
        th.Property(
            "start_date",
            th.DateType,
            required=True,
            title="Start date",
            description="First submitted day (YYYY-MM-DD) of the transactions read on the first run.",
        ),
        th.Property(
            "end_date",
            th.DateType,
            title="End date",
            description="Last submitted day (YYYY-MM-DD) of the transactions read. Default: today (UTC).",
        ),
        th.Property(
            "lookback_days",
            th.IntegerType,
            default=1,
            title="Lookback days",
            description="Days before each dataset's bookmark that are listed again on the next run.",
        ),
        th.Property(
            "datasets",
            th.ArrayType(th.StringType),
            title="Datasets",
            description="UUIDs of the datasets (templates) to read. Default: every dataset the API user can read.",
        ),
        th.Property(
            "key_header",
            th.StringType,
            default=DEFAULT_KEY_HEADER,
            title="API key header",
            description="Name of the HTTP header that carries the API key (not published by Claravine: verify).",
        ),
        th.Property(
            "secret_header",
            th.StringType,
            default=DEFAULT_SECRET_HEADER,
            title="API secret header",
            description="Name of the HTTP header that carries the API secret (not published by Claravine: verify).",
        ),
        *request_settings(None, api_url_required=True, snapshots=True),
    ).to_dict()
    api_url_example = "https://<customer>.claravine.com"  # the kit's api_url check shows it
    config_jsonschema["properties"]["api_url"]["description"] = (
        f"Your Claravine API base URL, without /v1: {API_HOST} (the vendor's newer use-case pages) or "
        f"{CUSTOMER_HOST} (the older support article). Which one your account answers on is not published: "
        "tap-claravine --probe says whether the configured one answers."
    )

    @override
    def check_settings(self) -> None:
        super().check_settings()
        headers = [self.settings.key_header.strip(), self.settings.secret_header.strip()]
        if not all(headers) or headers[0].lower() == headers[1].lower():
            raise ConfigError("settings key_header and secret_header must be two different, non-empty header names")
        if any(not uuid.strip() for uuid in self.settings.datasets or ()):
            raise ConfigError("setting datasets must be a list of dataset UUIDs (non-empty strings)")

    @override
    def probe(self) -> t.Iterable[ProbeResult]:
        from tap_claravine import probe

        return probe.run(self)

    @cached_property
    def dataset_definitions(self) -> DatasetDefinitions:
        """The datasets of the run, listed once; shared by discovery and the streams that need them."""
        api = t.cast("ClaravineApi", self.api)  # `api_class` above
        return DatasetDefinitions(
            api.for_stream(DatasetsStream.name),
            wanted=list(self.settings.datasets or ()),
            logger=self.logger.getChild(DatasetsStream.name),  # its warnings read as the stream's
        )

    @override
    def discover_streams(self) -> list:
        # The per-dataset streams come from the API: discovery needs working credentials.
        datasets = self.dataset_definitions
        definitions = datasets.definitions()
        names = dataset_stream_names(definitions)
        return [
            DatasetsStream(self, datasets=datasets),
            TransactionsStream(self),
            TransactionRowsStream(self, datasets=datasets),
            *(
                DatasetRowsStream(self, definition=definition, name=names[definition["uuid"]])
                for definition in definitions
            ),
        ]


# Console scripts (kept as module attributes so existing entry points keep working).
main = TapClaravine.run_singer
airbyte_main = TapClaravine.run_airbyte


if __name__ == "__main__":
    main()
