"""Settings every tap shares (names are part of the users' configs: keep them)."""

from __future__ import annotations

from singer_sdk import typing as th

from tapkit import retry


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
