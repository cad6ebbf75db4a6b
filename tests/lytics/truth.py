"""What a warehouse holds after a first full sync of tap-lytics: the vendor profile's ground truth
(sandbox/sandbox/lytics.py), under the names this folder's tests use."""

from __future__ import annotations

from sandbox.lytics import PROFILE, expected_table_rows, identity_fields, member_key
from sandbox.lytics import sync_ground_truth as ground_truth

#: settings (minus api_url and api_key) of the Meltano `sandbox` environment: every stream gets rows.
SANDBOX_CONFIG = PROFILE.meltano_settings

#: streams that append one snapshot per run (key includes measured_at): n runs hold n times the rows
PER_RUN_SNAPSHOTS = PROFILE.per_run_snapshots

__all__ = [
    "PER_RUN_SNAPSHOTS",
    "SANDBOX_CONFIG",
    "expected_table_rows",
    "ground_truth",
    "identity_fields",
    "member_key",
]
