"""What a warehouse holds after a first full sync of tap-claravine: the vendor profile's ground truth
(sandbox/sandbox/claravine.py), under the names this folder's tests use."""

from __future__ import annotations

from sandbox.claravine import PROFILE, expected_table_rows

#: The Meltano `sandbox` environment's settings (api_url and the secrets aside)
SANDBOX_CONFIG: dict = PROFILE.meltano_settings

__all__ = ["SANDBOX_CONFIG", "expected_table_rows"]
