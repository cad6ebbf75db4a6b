"""What a warehouse holds after a first consentmanager sync: the vendor profile's ground truth
(sandbox/sandbox/consentmanager.py), under the names this folder's tests use."""

from __future__ import annotations

from sandbox.consentmanager import CONSENT_LOG_DAYS, PROFILE, VENDOR_KEYS, expected_table_rows, raw_rows

#: the project's Meltano `sandbox` environment settings (api_url and the key aside)
SANDBOX_CONFIG = PROFILE.meltano_settings

__all__ = ["CONSENT_LOG_DAYS", "SANDBOX_CONFIG", "VENDOR_KEYS", "expected_table_rows", "raw_rows"]
