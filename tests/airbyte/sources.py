"""The Airbyte sources under test: one entry per tap whose `source-<vendor>` script works.

Each entry knows the tap class and a config that reads every stream of the sandbox quickly
(small windows, no retry waits). Secrets are one recognisable value, so tests can prove it
never shows up in any output.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import typing as t
from dataclasses import dataclass
from importlib import import_module

from sandbox.core import Sandbox

SECRET = "ab-secret-7Zq9-do-not-print"


def days_ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Source:
    vendor: str
    tap_class_path: str  # "module:Class"
    settings: t.Callable[[], dict]  # everything but api_url and the secrets

    @property
    def tap_class(self) -> type:
        module, name = self.tap_class_path.split(":")
        return getattr(import_module(module), name)

    def config(self, sandbox: Sandbox, **overrides: t.Any) -> dict:
        from tapkit.tap import secret_setting_names

        config = {name: SECRET for name in secret_setting_names(self.tap_class.config_jsonschema)}
        config |= {"api_url": sandbox.url(self.vendor), "retry_backoff_seconds": 0, **self.settings()}
        if "download_dir" in self.tap_class.config_jsonschema["properties"]:
            # A folder of this config's own: the default one keeps zips of earlier tests whose jids (the
            # simulator restarts them on every reset) are the next test's jids, and the tap would emit those.
            config["download_dir"] = tempfile.mkdtemp(prefix=f"source-{self.vendor}-downloads-")
        return config | overrides


def sandbox_settings(vendor: str) -> t.Callable[[], dict]:
    """The settings the tap's engineer chose for the Meltano sandbox environment (tests/<vendor>/truth.py)."""
    return lambda: dict(import_module(f"tests.{vendor}.truth").SANDBOX_CONFIG)


SOURCES = [
    # consentmanager's Meltano setting is an environment template; three days read every stream.
    Source("consentmanager", "tap_consentmanager.tap:TapConsentmanager", lambda: {"start_date": days_ago(3)}),
    Source("gravito", "tap_gravito.tap:TapGravito", sandbox_settings("gravito")),
    Source("voyado", "tap_voyado.tap:TapVoyado", sandbox_settings("voyado")),
    # claravine's Meltano week takes long to read; two days give every stream rows too.
    Source("claravine", "tap_claravine.tap:TapClaravine", lambda: {"start_date": days_ago(2), "lookback_days": 1}),
    Source("lytics", "tap_lytics.tap:TapLytics", sandbox_settings("lytics")),
]
SOURCE_IDS = [source.vendor for source in SOURCES]
