"""What a warehouse holds after a first full sync of tap-lytics, from the simulator's ground truth."""

from __future__ import annotations

import typing as t

#: settings (minus api_url and api_key) of the Meltano `sandbox` environment: every stream gets rows.
SANDBOX_CONFIG: dict[str, t.Any] = {
    "table": "user",
    "segments": ["all", "sweden", "dormant"],
    "scan_page_size": 25,
    "profile_key": "_uid",
    "profile_lookups": [
        {"field": "email", "value": "user00003@example.com"},
        {"field": "user_id", "value": "user00010"},
        {"field": "user_id", "value": "no-such-user"},
    ],
    # one request in each state (initial, primary, archive, secondary, done) at the sandbox's seed 42, and an unknown one
    "deletion_request_ids": [
        "06cb18ae08260453f7af-1740787200",
        "ed2b183888fccde4998f-1740960000",
        "6419d28ed92ead8e3b6a-1741132800",
        "4ee43ce9856fc31982a8-1741305600",
        "0b97ccaccbc4b374be1d-1741478400",
        "unknown-request-1",
    ],
}


def ground_truth(sandbox: t.Any, config: dict) -> dict[str, list[dict]]:
    return sandbox.app("lytics").ground_truth(
        table=config.get("table", "user"),
        segments=config.get("segments") or (),
        profile_lookups=config.get("profile_lookups") or (),
        deletion_request_ids=config.get("deletion_request_ids") or (),
    )


def identity_fields(sandbox: t.Any, table: str = "user") -> list[str]:
    """The table's identity fields as the simulator's schema lists them: by_fields, then is_by columns."""
    schema = sandbox.app("lytics").schema(table)
    fields = list(schema["by_fields"])
    return fields + [column["as"] for column in schema["columns"] if column["is_by"] and column["as"] not in fields]


def _identity_text(value: t.Any) -> str | None:
    if isinstance(value, list):  # an array identity (`_uids`): its smallest element
        texts = [text for text in map(_identity_text, value) if text is not None]
        return min(texts) if texts else None
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value) if isinstance(value, (str, int, float)) else None


def member_key(sandbox: t.Any, config: dict, profile: dict) -> str | None:
    """The profile_id the README promises: profile_key's value, else `<field>:<value>` of the first
    identity field the profile has; None: the profile cannot be keyed (counted, not emitted)."""
    if config.get("profile_key"):
        return _identity_text(profile.get(config["profile_key"]))
    for field in identity_fields(sandbox, config.get("table", "user")):
        text = _identity_text(profile.get(field))
        if text is not None:
            return f"{field}:{text}"
    return None


def expected_table_rows(sandbox: t.Any, config: dict) -> dict[str, int]:
    truth = ground_truth(sandbox, config)
    keys = [(row["segment_id"], member_key(sandbox, config, row["profile"])) for row in truth["audience_members"]]
    return {
        "accounts": len({row["id"] for row in truth["accounts"]}),
        "segments": len({row["id"] for row in truth["segments"]}),
        "schema_fields": len({row["as"] for row in truth["schema_fields"]}),
        "segment_sizes": len({row["id"] for row in truth["segment_sizes"]}),  # one snapshot (measured_at) per run
        "audience_members": len({(segment, key) for segment, key in keys if key is not None}),
        "profiles": len({(row["lookup_field"], row["lookup_value"]) for row in truth["profiles"]}),
        "deletion_requests": len({row["request_id"] for row in truth["deletion_requests"]}),
    }

#: streams that append one snapshot per run (key includes measured_at): n runs hold n times the rows
PER_RUN_SNAPSHOTS = ("segment_sizes",)
