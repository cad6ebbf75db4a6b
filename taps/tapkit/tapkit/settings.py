"""Settings every tap shares (names are part of the users' configs: keep them)."""

from __future__ import annotations

from singer_sdk import typing as th

from tapkit import retry


def request_settings(default_api_url: str | None, *, api_url_required: bool = False) -> list[th.Property]:
    api_url = th.Property(
        "api_url",
        th.URIType,
        required=api_url_required,
        default=default_api_url,
        title="API URL",
        description="Base URL of the vendor API" + (f" (default {default_api_url})." if default_api_url else "."),
    )
    return [
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
            default=4,
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
