"""The five taps as the reliability matrix sees them: how to configure each one against the sandbox
with sentinel secrets, which setting a refused credential names, and what a first sync must load."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.gravito import DOMAINS

from tests.claravine.truth import expected_table_rows as claravine_rows
from tests.consentmanager.truth import expected_table_rows as consentmanager_rows
from tests.gravito.truth import expected_table_rows as gravito_rows
from tests.lytics.truth import SANDBOX_CONFIG as LYTICS_CONFIG
from tests.lytics.truth import expected_table_rows as lytics_rows
from tests.voyado.truth import SANDBOX_CONFIG as VOYADO_CONFIG
from tests.voyado.truth import expected_table_rows as voyado_rows

#: every secret setting of every test holds a value containing this; it must never be printed
SENTINEL = "SENTINEL-c0ffee-5ecret"

#: small retries so that a fault on every try ends within a second or two
FAST_RETRIES = {"retry_max_attempts": 3, "retry_backoff_seconds": 0.01}


def _days_ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class TapProfile:
    name: str  # console script, e.g. tap-gravito
    vendor: str  # sandbox app name
    vendor_label: str  # how the tap's error lines name the vendor
    secrets: tuple[str, ...]  # secret settings (each gets a sentinel value)
    auth_check: str  # what "authentication failed: check ..." names
    settings: t.Callable[[Path], dict]  # non-secret settings, given a scratch directory
    expected: t.Callable[[t.Any, dict], dict[str, int]]  # tests/<vendor>/truth.py: rows per table
    records_path: str  # a fragment of a request that serves records mid-sync (where a fault can cut a sync short)
    #: rows per table when the run reports data it could not load (None: it reports none)
    reported_loss: t.Callable[[t.Any, t.Any, dict], dict[str, int] | None] | None = None
    #: settings that make an incremental re-run re-read nothing already loaded (no lookback)
    no_lookback: dict = field(default_factory=dict)
    #: (label, change to the config, text the error line must hold); None as a value deletes the setting
    bad_configs: tuple[tuple[str, dict, str], ...] = ()

    def config(self, sandbox: t.Any, scratch: Path, **overrides: t.Any) -> dict:
        config = {
            **{name: f"{SENTINEL}-{name}" for name in self.secrets},
            "api_url": sandbox.url(self.vendor),
            **FAST_RETRIES,
            **self.settings(scratch),
            **overrides,
        }
        return {name: value for name, value in config.items() if value is not None}

    def expected_rows(self, sandbox: t.Any, config: dict) -> dict[str, int]:
        return {stream: count for stream, count in self.expected(sandbox, config).items() if count}


def voyado_reported_loss(run: t.Any, sandbox: t.Any, config: dict) -> dict[str, int] | None:
    """A download that is not a zip cannot be fetched again (the vendor deletes an export once
    downloaded): tap-voyado keeps the file, marks the job `error` in export_jobs and warns."""
    failed = [row["customer_key"] for row in run.records("export_jobs") if row["status"] == "error"]
    warned = [
        key for key in failed if any(f"'{key}' ended with status error" in line for line in run.stderr.splitlines())
    ]
    if not failed or warned != failed:
        return None
    keys = config["customer_keys"]
    return {
        **voyado_rows(sandbox, {**config, "customer_keys": [k for k in keys if k not in failed]}),
        "export_jobs": len(keys),
    }


TAPS: dict[str, TapProfile] = {
    profile.vendor: profile
    for profile in (
        TapProfile(
            name="tap-consentmanager",
            vendor="consentmanager",
            vendor_label="consentmanager.net",
            secrets=("api_key",),
            auth_check="api_key",
            settings=lambda scratch: {"start_date": _days_ago(3)},
            expected=consentmanager_rows,
            records_path="type=1&",
            no_lookback={"lookback_days": 0},
            bad_configs=(
                ("missing setting", {"start_date": None}, "start_date"),
                ("malformed date", {"start_date": "last tuesday"}, "start_date"),
            ),
        ),
        TapProfile(
            name="tap-gravito",
            vendor="gravito",
            vendor_label="Gravito",
            secrets=("access_token",),
            auth_check="access_token",
            settings=lambda scratch: {"domains": list(DOMAINS)},
            expected=gravito_rows,
            records_path="domainName=news.example.org",
            no_lookback={"lookback_hours": 0},
            bad_configs=(
                ("missing setting", {"domains": None}, "domains"),
                ("empty domains list", {"domains": []}, "setting domains must list at least one domain"),
            ),
        ),
        TapProfile(
            name="tap-voyado",
            vendor="voyado",
            vendor_label="Voyado",
            secrets=("api_key",),
            auth_check="api_key",
            settings=lambda scratch: {**VOYADO_CONFIG, "download_dir": str(scratch / "downloads")},
            expected=voyado_rows,
            reported_loss=voyado_reported_loss,
            records_path="/export-customer-job-result",
            bad_configs=(
                ("missing setting", {"customer_keys": None}, "customer_keys"),
                ("unknown api_version", {"api_version": "v3"}, "setting api_version must be one of"),
                ("missing customer_keys_file", {"customer_keys_file": "/nonexistent/keys.txt"}, "no such file"),
            ),
        ),
        TapProfile(
            name="tap-claravine",
            vendor="claravine",
            vendor_label="Claravine",
            secrets=("api_key", "api_secret"),
            auth_check="api_key and api_secret",
            settings=lambda scratch: {"start_date": _days_ago(6), "end_date": _days_ago(5)},
            expected=claravine_rows,
            records_path="/data?",
            no_lookback={"lookback_days": 0},
            bad_configs=(
                ("missing setting", {"start_date": None}, "start_date"),
                ("malformed date", {"start_date": "06/01/2026"}, "start_date"),
            ),
        ),
        TapProfile(
            name="tap-lytics",
            vendor="lytics",
            vendor_label="Lytics",
            secrets=("api_key",),
            auth_check="api_key",
            settings=lambda scratch: dict(LYTICS_CONFIG),
            expected=lytics_rows,
            records_path="/scan?limit=25&start=",
            bad_configs=(("missing setting", {"api_key": None}, "api_key"),),
        ),
    )
}
