"""The base Tap: secrets registered before anything can print them, config checked before any request."""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import cached_property
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import resolve_proxies
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import StateMessage

from tapkit import secrets, stopping
from tapkit.concurrency import OrderedPrefetch
from tapkit.errors import ConfigError
from tapkit.probe import ProbeResult
from tapkit.retry import RateLimiter
from tapkit.state import StateCheckedTap
from tapkit.writer import BufferedRecordWriter


def secret_setting_names(config_jsonschema: dict) -> list[str]:
    return [name for name, prop in config_jsonschema.get("properties", {}).items() if prop.get("secret")]


class VendorTap(StateCheckedTap, Tap):
    """A singer-sdk Tap with the kit's conventions."""

    #: how errors name the vendor ("consentmanager.net", "Lytics" ...)
    vendor_name: t.ClassVar[str] = "vendor"
    #: the settings a person should check when the vendor answers 401/403
    auth_settings: t.ClassVar[tuple[str, ...]] = ("api_key",)

    message_writer_class = BufferedRecordWriter

    def _setup_signal_handlers(self) -> None:
        # singer-sdk ~=0.54.9 private hook: its handler exits 0 and writes a STATE before the kit's
        # buffered records; the kit's stops the run with `Stopped` instead (see tapkit.stopping).
        stopping.install()

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Register secrets first: nothing below (validation messages included) may print them.
        self.register_secrets()
        try:
            errors = super()._validate_config(raise_errors=raise_errors)
        except ConfigValidationError as exc:
            # One line that names every offending setting, not "Config validation failed" alone.
            raise ConfigError(f"invalid config: {'; '.join(exc.errors)}") from None
        if raise_errors:
            self.check_settings()
        return errors

    def register_secrets(self) -> None:
        values = [self._config.get(name) for name in secret_setting_names(self.config_jsonschema)]
        secrets.install(value for value in values if isinstance(value, str))

    # -- config checks (before any request) -----------------------------------------------------

    def check_settings(self) -> None:
        """Raise `ConfigError` for settings that the JSON schema cannot judge. Extend in a tap."""
        for name in ("request_timeout", "max_requests_per_second"):
            value = self._config.get(name)
            if value is not None and value <= 0:
                raise ConfigError(f"setting {name} must be a positive number, got {value!r}")
        concurrency = self._config.get("max_concurrency")
        if concurrency is not None and concurrency < 1:
            raise ConfigError(f"setting max_concurrency must be at least 1, got {concurrency!r}")

    def require_date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self._config.get(name)
        if value in (None, ""):
            if required:
                raise ConfigError(f"setting {name} is required (a date, YYYY-MM-DD)")
            return None
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ConfigError(f"setting {name} must be a date (YYYY-MM-DD), got {value!r}") from None

    # -- `--probe`: the tap's assumptions about its vendor, checked against a live account -------

    def probe(self) -> t.Iterable[ProbeResult]:
        """Yield one `ProbeResult` per assumption, making only read-only requests. Override in a tap."""
        raise ConfigError(f"{self.name} has no probe yet")

    # -- console scripts (entry points `tap-<vendor>` and `source-<vendor>`) ----------------------

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
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(self.config.get("max_requests_per_second"))

    @cached_property
    def http_session(self) -> requests.Session:
        session = requests.Session()
        pool = max(4, int(self.config.get("max_concurrency") or 4))
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = f"{self.name}/{self.plugin_version}"
        return session

    def proxies_for(self, request: requests.PreparedRequest) -> dict[str, str]:
        """The proxies for the request's scheme and host (HTTP(S)_PROXY, NO_PROXY), read from the
        environment once per host: requests would read it again on every call, a few % of a sync."""
        key = urlsplit(request.url or "")[:2]
        proxies = self._proxies_by_host.get(key)
        if proxies is None:
            session = self.http_session
            proxies = self._proxies_by_host[key] = resolve_proxies(request, session.proxies, session.trust_env)
        return proxies

    @cached_property
    def _proxies_by_host(self) -> dict[tuple[str, str], dict[str, str]]:
        return {}

    # -- partitions fetched ahead (see tapkit.concurrency) -----------------------------------------

    def prefetch(self, keys: t.Iterable[t.Any], produce: t.Callable[[t.Any], t.Iterable[t.Any]]) -> OrderedPrefetch:
        """An ordered prefetch over `keys` with `max_concurrency` workers, closed when the sync ends."""
        prefetch = OrderedPrefetch(keys, produce, workers=int(self.config.get("max_concurrency") or 1))
        self._prefetches.append(prefetch)
        return prefetch

    @cached_property
    def _prefetches(self) -> list[OrderedPrefetch]:
        return []

    def sync_all(self) -> None:
        try:
            try:
                super().sync_all()
            finally:
                for prefetch in self._prefetches:
                    prefetch.close(wait=stopping.GUARD.signum is None)
                self.message_writer_flush()
        except stopping.Stopped:
            self.write_last_state()
            raise

    def write_last_state(self) -> None:
        """After a stop signal: one STATE after every record written (the buffered ones included).
        `self.state` only ever covers records already handed to the writer (see tapkit.stopping)."""
        self.write_message(StateMessage(value=self.state))
        self.message_writer_flush()

    def message_writer_flush(self) -> None:
        flush = getattr(self.message_writer, "flush", None)
        if flush is not None:
            flush()
