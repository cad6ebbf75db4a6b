"""tap-gravito: Gravito first-party customer data (microprofiles, consents, keyrings, TCF) per domain."""

from __future__ import annotations

import logging
import typing as t
from functools import cached_property

from singer_sdk import typing as th
from typing_extensions import override

from tap_gravito.api import GravitoApi
from tap_gravito.feeds import DomainFeeds
from tap_gravito.fingerprints import STATE_KEY
from tap_gravito.settings import GravitoSettings
from tap_gravito.streams import STREAM_TYPES
from tapkit import ConfigError, VendorTap, request_settings
from tapkit.probe import ProbeResult
from tapkit.state import StateLayout, Where, check_text, saved_partition_state

logger = logging.getLogger("tap_gravito.state")


def check_fingerprints(value: object, where: Where) -> None:
    """profile_fingerprints: packed text (tap_gravito.fingerprints); unreadable text only re-emits profiles.

    Earlier builds wrote "" for a domain that served no profile; that state is accepted (it means
    no fingerprints) and repaired: the domain's next bookmark leaves the key out (`Collector.save`)."""
    if value == "":
        logger.warning(
            "state: %s: an empty %s (written by an earlier build for a domain without profiles) is read "
            "as no fingerprints; this run's state leaves it out",
            where,
            STATE_KEY,
        )
        return
    check_text(value, where, nullable=True)


class TapGravito(VendorTap[GravitoSettings]):
    """Gravito customer data access API: microprofiles, consent histories, keyrings, decoded TCF strings, per domain."""

    name = "tap-gravito"
    vendor_name = "Gravito"
    auth_settings = ("access_token",)
    api_class = GravitoApi
    settings_class = GravitoSettings
    state_layout = StateLayout.of(
        STREAM_TYPES, fields={cls.name: {STATE_KEY: check_fingerprints} for cls in STREAM_TYPES}
    )

    config_jsonschema = th.PropertiesList(
        th.Property(
            "access_token",
            th.StringType,
            required=True,
            secret=True,
            title="Access token",
            description="Data access token from the Gravito Admin portal (Account > Data Access Tokens), "
            "sent in the gravitoaccess header.",
        ),
        th.Property(
            "domains",
            th.ArrayType(th.StringType),
            required=True,
            title="Domains",
            description='The domainName values to extract, one request per domain per run (e.g. ["gravito.net"]).',
        ),
        th.Property(
            "gravito_version",
            th.StringType,
            default="v3",
            title="Gravito version",
            description="First-party API version, sent in the gravitoversion header. The tap reads v3 microprofiles.",
        ),
        th.Property(
            "lookback_hours",
            th.IntegerType,
            default=24,
            title="Lookback hours",
            description="Hours before each domain's bookmark that are emitted again, since merged profiles can "
            "bring entries with older timestamps.",
        ),
        *request_settings("https://apiv2.gravito.net"),
    ).to_dict()

    @override
    def check_settings(self) -> None:
        super().check_settings()
        domains = list(self.settings.domains)
        if not domains:
            raise ConfigError('setting domains must list at least one domain, e.g. ["example.com"]')
        for domain in domains:
            if not isinstance(domain, str) or not domain.strip():
                raise ConfigError(f"setting domains holds an empty or non-text entry: {domain!r}")
        repeated = sorted({domain for domain in domains if domains.count(domain) > 1})
        if repeated:
            raise ConfigError(f"setting domains lists {', '.join(repeated)} more than once")
        if self.settings.gravito_version and not self.settings.gravito_version.strip():
            raise ConfigError("setting gravito_version must not be empty (the vendor's default is v3)")

    @override
    def probe(self) -> t.Iterable[ProbeResult]:
        from tap_gravito import probe

        return probe.run(self)

    @cached_property
    def domain_feeds(self) -> DomainFeeds:
        """Each domain's answer, asked once per run and handed to every stream."""
        api = t.cast(GravitoApi, self.api)
        return DomainFeeds(
            api, self.settings.domains, self.prefetch, self.saved_bookmarks, self.logger.getChild(DomainFeeds.NAME)
        )

    def saved_bookmarks(self, domain: str) -> list[t.Any]:
        """The domain's bookmark in each selected stream, as the state holds it."""
        return [
            saved_partition_state(self.state, stream.name, {"domain": domain}).get("replication_key_value")
            for stream in self.streams.values()
            if stream.selected
        ]

    @override
    def discover_streams(self) -> list:
        return [stream_class(tap=self, feeds=self.domain_feeds) for stream_class in STREAM_TYPES]


# Console scripts (kept as module attributes so existing entry points keep working).
main = TapGravito.run_singer
airbyte_main = TapGravito.run_airbyte


if __name__ == "__main__":
    main()
