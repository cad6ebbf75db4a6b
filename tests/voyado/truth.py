"""What a warehouse holds after a first full sync of tap-voyado: the vendor profile's ground truth
(sandbox/sandbox/voyado.py), under the names this folder's tests use."""

from __future__ import annotations

from sandbox.voyado import PROFILE, done_on_first_poll, expected_table_rows

#: Settings (minus api_url and api_key) of the Meltano `sandbox` environment
SANDBOX_CONFIG: dict = PROFILE.meltano_settings

__all__ = ["SANDBOX_CONFIG", "done_on_first_poll", "expected_table_rows"]
