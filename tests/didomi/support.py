"""tap-didomi's config against the sandbox, and ground truth keyed like the tap's tables."""

from __future__ import annotations

import datetime as dt
import typing as t

from sandbox.didomi import BUCKET, ORGANIZATION, PREFIX, S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY

TAP = "tap-didomi"
API_KEY = "didomi-key-5b0c"
API_SECRET = "didomi-secret-91fe"
KEYS = {
    "export_users": ("export_id", "partition_date", "id"),
    "export_events": ("export_id", "partition_date", "id"),
    "export_proofs": ("export_id", "partition_date", "id"),
    "cmp_hourly_metrics": ("export_id", "partition_date", "hour", "notice_id", "domain", "country", "device_type"),
    "vendor_numeric_ids": ("metadata_partner_id", "organization_id"),
    "purpose_numeric_ids": ("metadata_purpose_id", "organization_id"),
}


def start_date(sandbox: t.Any, days: int = 10) -> str:
    return (sandbox.today() - dt.timedelta(days=days)).isoformat()


def config(sandbox: t.Any, **overrides: t.Any) -> dict:
    return {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "api_url": sandbox.url("didomi") + "/v1",  # the real host's layout: the Compliance API beside /v1
        "organization_id": ORGANIZATION,
        "export_bucket_url": f"s3://{BUCKET}/{PREFIX}",
        "s3_endpoint_url": sandbox.url("didomi") + "/s3",
        "aws_access_key_id": S3_ACCESS_KEY_ID,
        "aws_secret_access_key": S3_SECRET_ACCESS_KEY,
        "aws_region": S3_REGION,
        "start_date": start_date(sandbox),
        "consents_api": True,
        "retry_backoff_seconds": 0.01,
        **overrides,
    }


def key_of(stream: str, row: dict) -> tuple:
    return tuple(row[name] for name in KEYS.get(stream, ("id",)))


def truth(sandbox: t.Any, **kwargs: t.Any) -> dict[str, list[dict]]:
    return sandbox.app("didomi").ground_truth(**kwargs)
