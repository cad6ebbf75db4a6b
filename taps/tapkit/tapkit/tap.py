"""The base Tap: secrets registered before anything can print them, config checked before any request."""

from __future__ import annotations

import copy
import datetime as dt
import typing as t
from functools import cached_property

import click
import requests
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import StateMessage

from tapkit import clock, retry, secrets, settings_check, stopping
from tapkit.batching import BatchLedger
from tapkit.concurrency import OrderedPrefetch
from tapkit.errors import ConfigError
from tapkit.http import HttpClient, VendorApi
from tapkit.isolation import FailedParts
from tapkit.probe import ProbeResult
from tapkit.retry import RateLimiter
from tapkit.seam import SeamTap
from tapkit.state import StateCheckedTap
from tapkit.writer import BufferedRecordWriter


def secret_setting_names(config_jsonschema: dict) -> list[str]:
    return [name for name, prop in config_jsonschema.get("properties", {}).items() if prop.get("secret")]


class VendorTap(StateCheckedTap, SeamTap):
    """A singer-sdk Tap with the kit's conventions."""

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

    message_writer_class = BufferedRecordWriter

    def install_signal_handlers(self) -> None:
        # The SDK's handler exits 0 and writes a STATE before the kit's buffered records; the kit's
        # stops the run with `Stopped` instead (see tapkit.stopping).
        stopping.install()

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
        values = [self.config.get(name) for name in secret_setting_names(self.config_jsonschema)]
        secrets.install(value for value in values if isinstance(value, str))

    # -- config checks (before any request) -----------------------------------------------------

    def check_settings(self) -> None:
        """Raise `ConfigError` for settings that the JSON schema cannot judge. Extend in a tap."""
        for name in ("request_timeout", "max_requests_per_second"):
            value = self.config.get(name)
            if value is not None and value <= 0:
                raise ConfigError(f"setting {name} must be a positive number, got {value!r}")
        self.require_at_least("max_concurrency", 1)
        settings_check.check_api_url(self.config.get("api_url"), example=self.api_url_shown_as_example)
        if "start_date" in self.config_jsonschema.get("properties", {}):
            settings_check.check_not_future("start_date", self.require_date("start_date"), clock.today())

    def require_date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.config.get(name)
        if value in (None, ""):
            if required:
                raise ConfigError(f"setting {name} is required (a date, YYYY-MM-DD)")
            return None
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ConfigError(f"setting {name} must be a date (YYYY-MM-DD), got {value!r}") from None

    def require_date_window(self, start: str = "start_date", end: str = "end_date") -> tuple[dt.date, dt.date | None]:
        """The configured window: `start` required, `end` optional and not before it."""
        first = self.require_date(start, required=True)
        last = self.require_date(end)
        assert first is not None  # required=True raised otherwise
        if last is not None and last < first:
            raise ConfigError(f"setting {end} ({last}) is before {start} ({first})")
        return first, last

    def require_at_least(self, name: str, minimum: int) -> None:
        """A numeric setting, when set, is at least `minimum` (a lookback of 0 or more, a page of 1 or more)."""
        value = self.config.get(name)
        if value is not None and value < minimum:
            bound = "0 or more" if minimum == 0 else f"at least {minimum}"
            raise ConfigError(f"setting {name} must be {bound}, got {value!r}")

    # -- `--probe`: the tap's assumptions about its vendor, checked against a live account -------

    def probe(self) -> t.Iterable[ProbeResult]:
        """Yield one `ProbeResult` per assumption, making only read-only requests. Override in a tap."""
        raise ConfigError(f"{self.name} has no probe yet")

    # -- console scripts (entry points `tap-<vendor>` and `source-<vendor>`) ----------------------

    @classmethod
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
        from tapkit import cli

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
        config = self.config
        backoff_base = config.get("retry_backoff_seconds")
        return HttpClient(
            vendor=self.vendor_name,
            base_url=str(config.get("api_url") or ""),
            user_agent=f"{self.name}/{self.plugin_version}",
            logger=self.logger,
            timeout=float(config.get("request_timeout") or 60),
            max_attempts=int(config.get("retry_max_attempts") or retry.DEFAULT_MAX_ATTEMPTS),
            backoff_base=retry.DEFAULT_BACKOFF_BASE if backoff_base is None else float(backoff_base),
            max_requests_per_second=config.get("max_requests_per_second"),
            pool_size=max(4, int(config.get("max_concurrency") or 4)),
            auth_settings=self.auth_settings,
        )

    @cached_property
    def api(self) -> VendorApi:
        """The tap's API client; streams take it (under their own name, for metrics) when built."""
        return self.api_class(self.http_client, self.config)

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
        prefetch = OrderedPrefetch(keys, produce, workers=int(self.config.get("max_concurrency") or 1))
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

            from tapkit import probe

            context.exit(probe.run(tap_class, sys.argv[1:]))

    return run_probe
