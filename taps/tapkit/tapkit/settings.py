"""Settings every tap shares (names are part of the users' configs: keep them), and their typed form.

A setting is declared once for the user in the tap's `config_jsonschema` (name, JSON type, default, title,
description: what `--about` and Meltano show) and read once, typed, from the validated config into the
tap's settings class (a frozen dataclass: `KitSettings` for the kit's settings, subclassed by each tap for
its vendor's). The dataclass adds what a JSON schema cannot say well: the Python type and the bounds
(`AtLeast`, `Positive`). `tests/tapkit/test_settings_typed.py` checks that every tap's two declarations
name the same settings with agreeing types.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import msgspec
from singer_sdk import typing as th

from tapkit import retry
from tapkit.errors import ConfigError


class AtLeast(t.NamedTuple):
    """Bound of a numeric setting, when set: `Annotated[int, AtLeast(0)]`."""

    minimum: int

    def problem(self, name: str, value: t.Any) -> str | None:
        if value < self.minimum:
            bound = "0 or more" if self.minimum == 0 else f"at least {self.minimum}"
            return f"setting {name} must be {bound}, got {value!r}"
        return None


class Positive(t.NamedTuple):
    """Bound of a numeric setting, when set: more than 0 (`Annotated[float, Positive()]`)."""

    def problem(self, name: str, value: t.Any) -> str | None:
        return f"setting {name} must be a positive number, got {value!r}" if value <= 0 else None


S = t.TypeVar("S", bound="KitSettings")


@dataclasses.dataclass(frozen=True, kw_only=True)
class KitSettings:
    """The kit's settings, typed; a tap subclasses it with its vendor's settings (see the module doc).

    Built once per run by `VendorTap.settings` and handed to the api, the streams and the probe."""

    api_url: str | None
    request_timeout: t.Annotated[float, Positive()]
    max_requests_per_second: t.Annotated[float | None, Positive()]
    #: partitions (days, domains, segments ...) fetched at once; the HTTP pool holds at least this many
    max_concurrency: t.Annotated[int, AtLeast(1)]
    retry_max_attempts: int
    retry_backoff_seconds: float

    @classmethod
    def from_config(cls: type[S], config: t.Mapping[str, t.Any]) -> S:
        """The typed settings of a validated config (the SDK has filled in the schema's defaults);
        a value out of bounds is a `ConfigError` naming the setting."""
        hints = t.get_type_hints(cls, include_extras=True)
        values = {field.name: config.get(field.name) for field in dataclasses.fields(cls)}
        for name, value in values.items():
            if _is_date(hints[name]):
                values[name] = value = _date(name, value, optional=type(None) in t.get_args(hints[name]))
            for bound in getattr(hints[name], "__metadata__", ()):
                problem = bound.problem(name, value) if value is not None else None
                if problem:
                    raise ConfigError(problem)
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:  # the schema validation ran first: a type it let through
            raise ConfigError(f"invalid config: {exc}") from None


def _is_date(hint: t.Any) -> bool:
    return dt.date in (hint, *t.get_args(hint)) and dt.datetime not in t.get_args(hint)


def _date(name: str, value: t.Any, *, optional: bool) -> dt.date | None:
    if value in (None, ""):
        if optional:
            return None
        raise ConfigError(f"setting {name} is required (a date, YYYY-MM-DD)")
    # A date-time given for a date setting is read as its day, as the taps always have.
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ConfigError(f"setting {name} must be a date (YYYY-MM-DD), got {value!r}") from None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SnapshotSettings(KitSettings):
    """Settings of a tap with streams that are the vendor's whole set (`request_settings(snapshots=True)`)."""

    emit_activate_version_messages: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class DayWindowSettings(KitSettings):
    """Settings of a tap with a `DayWindowStream` (tapkit.windows)."""

    start_date: dt.date
    #: None: today (UTC), as the sandbox's or the real clock says (tapkit.clock)
    end_date: dt.date | None
    lookback_days: t.Annotated[int, AtLeast(0)]


def request_settings(
    default_api_url: str | None, *, api_url_required: bool = False, snapshots: bool = False
) -> list[th.Property]:
    """The shared settings; `snapshots`: the tap has streams that are the vendor's whole set (tapkit.snapshot)."""
    api_url = th.Property(
        "api_url",
        th.URIType,
        required=api_url_required,
        default=default_api_url,
        title="API URL",
        description="Base URL of the vendor API" + (f" (default {default_api_url})." if default_api_url else "."),
    )
    settings: list[th.Property] = [
        api_url,
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60,
            title="Request timeout",
            description="Seconds to wait for a response (connect and each read) before the request is retried.",
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType,
            title="Max requests per second",
            description="Client-side limit on the request rate, shared by all streams. Unset: no limit.",
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=8,
            title="Max concurrency",
            description="How many partitions (domains, segments ...) are fetched at once.",
        ),
        th.Property(
            "retry_max_attempts",
            th.IntegerType,
            default=retry.DEFAULT_MAX_ATTEMPTS,
            title="Retry: max attempts",
            description="Attempts per request for 429, 5xx, resets and timeouts before the sync stops with an error.",
        ),
        th.Property(
            "retry_backoff_seconds",
            th.NumberType,
            default=retry.DEFAULT_BACKOFF_BASE,
            title="Retry: backoff base",
            description="Base of the exponential backoff (seconds) when the vendor sends no Retry-After.",
        ),
    ]
    return [*settings, SNAPSHOT_SETTING] if snapshots else settings


#: singer-sdk's own name for it. On by default (the SDK's default is off): the loader deletes the rows the
#: vendor no longer has. Off for a loader that does not know the message (target-jsonl warns on each one).
SNAPSHOT_SETTING: th.Property = th.Property(
    "emit_activate_version_messages",
    th.BooleanType,
    default=True,
    title="Emit ACTIVATE_VERSION messages",
    description=(
        "Announce a Singer ACTIVATE_VERSION around each stream that is the vendor's whole set, so a loader that "
        "supports it deletes rows the vendor no longer has. Turn off for a loader without support (target-jsonl)."
    ),
)
