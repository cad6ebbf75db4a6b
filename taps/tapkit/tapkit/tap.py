"""The base Tap: secrets registered before anything can print them, config checked before any request."""

from __future__ import annotations

import copy
import typing as t
from functools import cached_property

import click
import requests
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import StateMessage
from typing_extensions import override

from tapkit import clock, secrets, settings_check, stopping
from tapkit.batching import BatchLedger
from tapkit.concurrency import OrderedPrefetch
from tapkit.errors import ConfigError
from tapkit.http import HttpClient, VendorApi
from tapkit.isolation import FailedParts
from tapkit.probe import ProbeResult
from tapkit.retry import RateLimiter
from tapkit.seam import SeamTap
from tapkit.secrets import secret_setting_names
from tapkit.settings import DayWindowSettings, KitSettings, S
from tapkit.state import StateCheckedTap
from tapkit.writer import BufferedRecordWriter


class VendorTap(StateCheckedTap, SeamTap, t.Generic[S]):
    """A singer-sdk Tap with the kit's conventions; `S`, its settings class (tapkit.settings)."""

    #: how errors name the vendor ("consentmanager.net", "Lytics" ...)
    vendor_name: t.ClassVar[str] = "vendor"
    #: the settings a person should check when the vendor answers 401/403
    auth_settings: t.ClassVar[tuple[str, ...]] = ("api_key",)
    #: how an error about a malformed `api_url` shows a good one ("": the setting's default, the vendor's URL)
    api_url_example: t.ClassVar[str] = ""
    #: singer-sdk validates the settings in `--discover` only for a dynamic catalog; Meltano discovers
    #: before every run, so a bad setting must be one clear line there too, not a KeyError later
    dynamic_catalog = True

    @property
    def api_url_shown_as_example(self) -> str:
        default = self.config_jsonschema.get("properties", {}).get("api_url", {}).get("default")
        return self.api_url_example or str(default or "https://api.example.com")

    #: the tap's API client (its `api.py`), built on the kit's `HttpClient`
    api_class: t.ClassVar[type[VendorApi]] = VendorApi
    #: the tap's typed settings (a `KitSettings` subclass with its vendor's settings), built once per run
    settings_class: type[S] = KitSettings  # type: ignore[assignment]  # a tap names its own subclass

    message_writer_class = BufferedRecordWriter

    @override
    def install_signal_handlers(self) -> None:
        # The SDK's handler exits 0 and writes a STATE before the kit's buffered records; the kit's
        # stops the run with `Stopped` instead (see tapkit.stopping).
        stopping.install()

    @override
    def validate_settings(self, validate: t.Callable[[], list[str]], *, raise_errors: bool) -> list[str]:
        # Register secrets first: nothing below (validation messages included) may print them.
        self.register_secrets()
        schema = copy.deepcopy(self.config_jsonschema)
        self.append_builtin_config(schema)
        settings_check.warn_unknown(self.config, schema.get("properties", {}), self.name)
        problems = settings_check.schema_problems(self.config, schema, secret_setting_names(schema))
        if problems and raise_errors:
            raise ConfigError(f"invalid config: {'; '.join(problems)}")
        try:
            errors = validate()
        except ConfigValidationError as exc:
            # One line that names every offending setting, not "Config validation failed" alone.
            raise ConfigError(f"invalid config: {'; '.join(exc.errors)}") from None
        if raise_errors:
            self.check_settings()
        return errors

    def register_secrets(self) -> None:
        values = {name: self.config.get(name) for name in secret_setting_names(self.config_jsonschema)}
        texts = [value for value in values.values() if isinstance(value, str)]
        secrets.install([*texts, *self.secrets_within(values)])

    def secrets_within(self, secret_settings: t.Mapping[str, t.Any]) -> t.Iterable[str]:
        """Parts of the secret settings (raw, by name) to mask on their own too, such as the private key inside a
        JSON key, which a message might quote without the rest. Override; the whole values are masked anyway."""
        return ()

    # -- config checks (before any request) -----------------------------------------------------

    @cached_property
    def settings(self) -> S:
        """The run's settings, typed and bounded, read once from the validated config (tapkit.settings)."""
        return self.settings_class.from_config(self.config)

    def check_settings(self) -> None:
        """Raise `ConfigError` for settings that the JSON schema cannot judge. Extend in a tap."""
        settings = self.settings  # types and bounds (tapkit.settings)
        settings_check.check_api_url(settings.api_url, example=self.api_url_shown_as_example)
        if isinstance(settings, DayWindowSettings):
            settings_check.check_not_future("start_date", settings.start_date, clock.today())
            if settings.end_date is not None and settings.end_date < settings.start_date:
                raise ConfigError(
                    f"setting end_date ({settings.end_date}) is before start_date ({settings.start_date})"
                )

    # -- `--probe`: the tap's assumptions about its vendor, checked against a live account -------

    def probe(self) -> t.Iterable[ProbeResult]:
        """Yield one `ProbeResult` per assumption, making only read-only requests. Override in a tap."""
        raise ConfigError(f"{self.name} has no probe yet")

    # -- console scripts (entry points `tap-<vendor>` and `source-<vendor>`) ----------------------

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        # `tapkit.cli` runs `--probe` before click parses anything; the option is here for `--help`
        # (and for a caller of `cli()` that bypasses tapkit.cli).
        command.params.append(
            click.Option(
                ["--probe"],
                is_flag=True,
                expose_value=False,
                callback=_probe_callback(cls),
                help="Check the tap's assumptions about its vendor against a live account (read-only requests); "
                "prints one row per assumption, exits 0 when all hold.",
            )
        )
        return command

    @classmethod
    def run_singer(cls) -> None:
        """`tap-<vendor>`: the Singer CLI, ending on one clear line when it fails."""
        from tapkit import cli  # cli runs a VendorTap class: imported when the console script runs

        cli.run(cls)

    @classmethod
    def run_airbyte(cls) -> None:
        """`source-<vendor>`: the same tap speaking the Airbyte protocol."""
        from tapkit.airbyte import run

        run(cls)

    # -- shared clients ---------------------------------------------------------------------------

    @cached_property
    def http_client(self) -> HttpClient:
        """One client for every stream and thread of the tap: one session, one rate limiter."""
        settings = self.settings
        return HttpClient(
            vendor=self.vendor_name,
            base_url=settings.api_url or "",
            user_agent=f"{self.name}/{self.plugin_version}",
            logger=self.logger,
            timeout=settings.request_timeout,
            max_attempts=settings.retry_max_attempts,
            backoff_base=settings.retry_backoff_seconds,
            max_requests_per_second=settings.max_requests_per_second,
            # every prefetch worker has a connection; 4 at least, for the sync's own thread beside them
            pool_size=max(4, settings.max_concurrency),
            auth_settings=self.auth_settings,
        )

    @cached_property
    def api(self) -> VendorApi:
        """The tap's API client; streams take it (under their own name, for metrics) when built."""
        return self.api_class(self.http_client, self.settings)

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.http_client.rate_limiter

    @property
    def http_session(self) -> requests.Session:
        return self.http_client.session

    def proxies_for(self, request: requests.PreparedRequest) -> dict[str, str]:
        return self.http_client.proxies_for(request)

    # -- partitions fetched ahead (see tapkit.concurrency) -----------------------------------------

    def prefetch(self, keys: t.Iterable[t.Any], produce: t.Callable[[t.Any], t.Iterable[t.Any]]) -> OrderedPrefetch:
        """An ordered prefetch over `keys` with `max_concurrency` workers, closed when the sync ends."""
        prefetch = OrderedPrefetch(keys, produce, workers=self.settings.max_concurrency)
        self._prefetches.append(prefetch)
        return prefetch

    @cached_property
    def _prefetches(self) -> list[OrderedPrefetch]:
        return []

    def close_prefetches(self) -> None:
        """Stop the partitions fetched ahead (after a sync, or a read abandoned part-way such as an
        Airbyte check); requests in flight are waited for, unless a stop signal came."""
        for prefetch in self._prefetches:
            prefetch.close(wait=stopping.GUARD.signum is None)

    # -- a failing partition or stream stops alone; the run fails at the end (tapkit.isolation) ---

    @cached_property
    def failed_parts(self) -> FailedParts:
        """The run's one ledger of failed parts, handed to every stream; read once every stream synced."""
        return FailedParts(self.logger)

    @override
    def run_sync(self, sync_every_stream: t.Callable[[], None]) -> None:
        try:
            try:
                sync_every_stream()
            finally:
                self.close_prefetches()
                self.message_writer_flush()
        except stopping.Stopped:
            self.write_last_state()
            raise
        error = self.failed_parts.error()
        if error is not None:
            raise error

    @cached_property
    def batch_ledger(self) -> BatchLedger:
        """The state as of the last BATCH message while a stream fills a batch file (tapkit.batching)."""
        return BatchLedger()

    def write_last_state(self) -> None:
        """After a stop signal: one STATE after every record written (the buffered ones included).
        `self.state` only ever covers records already handed to the writer (see tapkit.stopping); while a
        batch file was being filled, the state of the last BATCH message does."""
        at_last_batch = self.batch_ledger.state_at_last_batch
        self.write_message(StateMessage(value=self.state if at_last_batch is None else at_last_batch))
        self.message_writer_flush()

    def message_writer_flush(self) -> None:
        flush = getattr(self.message_writer, "flush", None)
        if flush is not None:
            flush()


def _probe_callback(tap_class: type[VendorTap]) -> t.Callable[[click.Context, click.Parameter, bool], None]:
    def run_probe(context: click.Context, _parameter: click.Parameter, value: bool) -> None:
        if value:
            import sys

            from tapkit import cli

            context.exit(cli.run_probe(tap_class, sys.argv[1:]))

    return run_probe
