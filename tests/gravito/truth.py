"""Expected warehouse rows for tap-gravito, from the simulator's ground truth (never from the tap)."""

from __future__ import annotations

from sandbox.gravito import DOMAINS

#: Settings for the Meltano `sandbox` environment (api_url and access_token come from the environment).
SANDBOX_CONFIG: dict = {"domains": list(DOMAINS), "lookback_hours": 24}


def expected_table_rows(sandbox, config: dict) -> dict[str, int]:
    truth = sandbox.app("gravito").ground_truth(domains=config["domains"])
    unparsed = {(row["domain"], row["raw_message"]) for row in truth["unparsed_messages"]}
    keys = {
        "microprofiles": ("domain", "profile_id"),
        "consents": ("domain", "profile_id", "consent_id", "recorded_at"),
        "keyring": ("domain", "profile_id", "key_id", "recorded_at"),
        "tcf_consents": ("domain", "profile_id"),
        "non_tcf_vendor_consents": ("domain", "profile_id", "vendor_id"),
    }
    counts = {stream: len({tuple(row[k] for k in key) for row in truth[stream]}) for stream, key in keys.items()}
    counts["microprofiles"] += len(unparsed)
    return counts
