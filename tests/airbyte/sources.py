"""The Airbyte sources under test: one per vendor profile (sandbox/sandbox/<vendor>.py).

Each knows the tap class and a config that reads every stream of the sandbox quickly (the profile's
Airbyte settings, else its Meltano sandbox settings; no retry waits). Secrets are one recognisable
value, so tests can prove it never shows up in any output.
"""

from __future__ import annotations

import tempfile
import typing as t
from dataclasses import dataclass

from sandbox.core import Sandbox
from sandbox.profiles import VendorProfile, all_profiles, days_ago

if t.TYPE_CHECKING:
    from tapkit.tap import VendorTap

SECRET = "ab-secret-7Zq9-do-not-print"

__all__ = ["SECRET", "SOURCES", "SOURCE_IDS", "Source", "days_ago"]


@dataclass(frozen=True)
class Source:
    profile: VendorProfile

    @property
    def vendor(self) -> str:
        return self.profile.vendor

    @property
    def executable(self) -> str:  # the source's console script, e.g. source-gravito
        return self.profile.source

    @property
    def tap_class(self) -> type[VendorTap]:
        # the profile names its tap class by string (the sandbox imports no tap): every one is a kit tap
        return t.cast("type[VendorTap]", self.profile.load_tap_class())

    def settings(self) -> dict:
        """Everything but api_url and the secrets."""
        chosen = self.profile.airbyte_settings
        return chosen() if chosen is not None else dict(self.profile.meltano_settings)

    def expected_rows(self, sandbox: Sandbox, config: dict) -> dict[str, int]:
        return self.profile.expected_rows(sandbox, config)

    def config(self, sandbox: Sandbox, **overrides: t.Any) -> dict:
        from tapkit.tap import secret_setting_names

        config: dict[str, t.Any] = {name: SECRET for name in secret_setting_names(self.tap_class.config_jsonschema)}
        config |= {"api_url": sandbox.url(self.vendor), "retry_backoff_seconds": 0, **self.settings()}
        config |= self.profile.url_settings(sandbox.url(self.vendor))
        if "download_dir" in self.tap_class.config_jsonschema["properties"]:
            # A folder of this config's own: the default one keeps zips of earlier tests whose jids (the
            # simulator restarts them on every reset) are the next test's jids, and the tap would emit those.
            config["download_dir"] = tempfile.mkdtemp(prefix=f"source-{self.vendor}-downloads-")
        return config | overrides


SOURCES = [Source(profile) for profile in all_profiles()]
SOURCE_IDS = [source.vendor for source in SOURCES]
