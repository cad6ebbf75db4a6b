"""tapkit: what every tap of this collection stands on (nothing vendor-specific)."""

from tapkit import cli
from tapkit.errors import (
    AuthenticationError,
    ConfigError,
    RetriesExhaustedError,
    TapkitError,
    VendorResponseError,
)
from tapkit.http import HttpClient, Request, VendorApi, VendorResponse
from tapkit.isolation import PartsFailedError
from tapkit.settings import request_settings
from tapkit.shaping import EXTRA_COLUMN, RecordShaper, snake_case
from tapkit.snapshot import CompleteSnapshot
from tapkit.streams import VendorStream
from tapkit.tap import VendorTap
from tapkit.windows import DayWindowStream

__all__ = [
    "EXTRA_COLUMN",
    "AuthenticationError",
    "CompleteSnapshot",
    "ConfigError",
    "DayWindowStream",
    "HttpClient",
    "PartsFailedError",
    "RecordShaper",
    "Request",
    "RetriesExhaustedError",
    "TapkitError",
    "VendorApi",
    "VendorResponse",
    "VendorResponseError",
    "VendorStream",
    "VendorTap",
    "cli",
    "request_settings",
    "snake_case",
]
