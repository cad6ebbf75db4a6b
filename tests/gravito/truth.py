"""Expected warehouse rows for tap-gravito: the vendor profile's ground truth (sandbox/sandbox/gravito.py),
under the names this folder's tests use."""

from __future__ import annotations

from sandbox.gravito import PROFILE, expected_table_rows

#: Settings for the Meltano `sandbox` environment (api_url and access_token come from the environment).
SANDBOX_CONFIG: dict = PROFILE.meltano_settings

__all__ = ["SANDBOX_CONFIG", "expected_table_rows"]
