"""Errors a person can act on.

Every error the kit raises on purpose is a `TapkitError`: its text is one line, already free of
secrets, and is printed as the tap's last word before a non-zero exit (see `tapkit.cli`).
"""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError


class TapkitError(FatalAPIError):
    """An error whose message is meant for the person running the tap."""


class ConfigError(TapkitError):
    """A setting is missing, malformed or contradictory; raised before any request."""


class AuthenticationError(TapkitError):
    """The vendor refused the credentials (HTTP 401 or 403)."""


class VendorResponseError(TapkitError):
    """The vendor answered, but not with what the API documents (bad body, error envelope, 4xx)."""


class RetriesExhaustedError(TapkitError):
    """A transient fault (429, 5xx, reset, timeout) persisted through every allowed attempt."""
