"""The taps as the reliability matrix sees them: each vendor's profile (sandbox/sandbox/<vendor>.py,
found by `sandbox.profiles.all_profiles`) run with sentinel secrets and fast retries."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

from sandbox.profiles import VendorProfile, all_profiles

#: every secret setting of every test holds a value containing this; it must never be printed
SENTINEL = "SENTINEL-c0ffee-5ecret"

#: small retries so that a fault on every try ends within a second or two
FAST_RETRIES = {"retry_max_attempts": 3, "retry_backoff_seconds": 0.01}


@dataclass(frozen=True)
class TapProfile:
    """A vendor profile, with the matrix's config: every other attribute is the profile's."""

    profile: VendorProfile

    def __getattr__(self, name: str) -> t.Any:
        if name.startswith("__") or name == "profile":  # copy and pickle probe before `profile` is set
            raise AttributeError(name)
        return getattr(self.profile, name)

    @property
    def name(self) -> str:  # the tap's console script, e.g. tap-gravito
        return self.profile.tap

    @property
    def vendor_label(self) -> str:  # how the tap's error lines name the vendor
        return self.profile.label

    def config(self, sandbox: t.Any, scratch: Path, **overrides: t.Any) -> dict:
        """Sentinel secrets, fast retries, the profile's quick test settings, then `overrides` (None deletes)."""
        settings = {**FAST_RETRIES, **self.profile.test_settings(scratch), **overrides}
        config = self.profile.sandbox_config(sandbox.base_url, settings, secret=lambda name: f"{SENTINEL}-{name}")
        return {name: value for name, value in config.items() if value is not None}

    def expected_rows(self, sandbox: t.Any, config: dict) -> dict[str, int]:
        return {stream: count for stream, count in self.profile.expected_rows(sandbox, config).items() if count}


TAPS: dict[str, TapProfile] = {profile.vendor: TapProfile(profile) for profile in all_profiles()}
