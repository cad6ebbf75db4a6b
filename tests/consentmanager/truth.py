"""What a warehouse holds after a first consentmanager sync, from the simulator's ground truth."""

from __future__ import annotations

import datetime as dt

from sandbox.core import Sandbox

#: the project's Meltano `sandbox` environment settings (api_url and the key aside)
SANDBOX_CONFIG = {"start_date": "${CONSENT_SANDBOX_START_DATE}"}

#: vendor fields that make up each stream's primary key (tap columns are their snake_case)
VENDOR_KEYS = {
    "cmp_report": ("cmpID", "designID", "country", "date", "hour", "urlID", "osID", "uaID", "deviceID"),
    "crawler_report": ("cmpID", "date", "hour"),
    "custom_vendors": ("id", "cmp"),
    "custom_purposes": ("id", "cmp"),
    "text_versions": ("id", "design", "lang"),
}
CONSENT_LOG_DAYS = 7


def raw_rows(sandbox: Sandbox, config: dict) -> dict[str, list[dict]]:
    """The vendor rows a sync of `config` must emit, per stream (consent log clamped to 7 days)."""
    app = sandbox.app("consentmanager")
    truth = app.ground_truth(
        start=config["start_date"], end=config.get("end_date"), custom_vendors_all=config.get("custom_vendors_all", False)
    )
    oldest_served = (sandbox.today() - dt.timedelta(days=CONSENT_LOG_DAYS - 1)).isoformat()
    truth["consent_log"] = [row for row in truth["consent_log"] if row["date"][:10] >= oldest_served]
    return truth


def expected_table_rows(sandbox: Sandbox, config: dict) -> dict[str, int]:
    return {
        stream: len({tuple(row[field] for field in VENDOR_KEYS.get(stream, ("id",))) for row in rows})
        for stream, rows in raw_rows(sandbox, config).items()
    }
