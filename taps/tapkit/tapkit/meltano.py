"""Meltano plugin definitions generated from a tap's own settings, so the two never drift apart.

`plugin_definition(TapClass, pip_url=..., description=...)` gives the extractor block (name, label,
description, namespace, pip_url, executable, capabilities, settings with labels, descriptions,
kinds and `sensitive: true`, settings_group_validation) that the project's meltano.yml includes and
that users paste into their own project.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk import Tap

#: What Meltano acts on (flags it passes, features it offers). Every tap here supports these; the
#: SDK's other capabilities (activate-version, structured-logging) are not promised by the kit.
CAPABILITIES = ("about", "catalog", "discover", "state", "stream-maps", "schema-flattening", "batch")
_KINDS = {"integer": "integer", "number": "decimal", "boolean": "boolean", "array": "array", "object": "object"}


def _kind(prop: dict) -> str:
    types = prop.get("type", "string")
    types = [types] if isinstance(types, str) else [kind for kind in types if kind != "null"]
    kind = types[0] if types else "string"
    if kind == "string" and prop.get("format") in ("date", "date-time"):
        return "date_iso8601"
    return _KINDS.get(kind, "string")


def builtin_setting_names(tap_class: type[Tap]) -> set[str]:
    """singer-sdk's own settings (stream maps, flattening, batch). The SDK adds them to the class's
    schema in place once a tap is validated, so they are told apart by asking the SDK for them."""
    probe: dict = {"properties": {}}
    tap_class.append_builtin_config(probe)
    return set(probe["properties"])


def setting_definitions(config_jsonschema: dict, *, exclude: t.Collection[str] = ()) -> list[dict]:
    settings = []
    for name, prop in config_jsonschema.get("properties", {}).items():
        if name in exclude:
            continue
        setting: dict[str, t.Any] = {"name": name, "label": prop.get("title") or name.replace("_", " ").capitalize()}
        if prop.get("description"):
            setting["description"] = prop["description"]
        # `kind: password` is deprecated in Meltano: a secret is a string marked sensitive (redacted in output).
        setting["kind"] = _kind(prop)
        if prop.get("secret"):
            setting["sensitive"] = True
        if "default" in prop:
            setting["value"] = prop["default"]
        settings.append(setting)
    return settings


def capabilities(tap_class: type[Tap]) -> list[str]:
    declared = {str(capability) for capability in tap_class.capabilities}
    missing = [capability for capability in CAPABILITIES if capability not in declared]
    if missing:
        raise ValueError(f"{tap_class.name} no longer declares capabilities {missing}")
    return list(CAPABILITIES)


def plugin_definition(tap_class: type[Tap], *, pip_url: str, label: str, description: str) -> dict:
    schema = tap_class.config_jsonschema
    return {
        "name": tap_class.name,
        "label": label,
        "description": description,
        "namespace": tap_class.name.replace("-", "_"),
        "pip_url": pip_url,
        "executable": tap_class.name,
        "capabilities": capabilities(tap_class),
        "settings_group_validation": [sorted(schema.get("required", []))],
        "settings": setting_definitions(schema, exclude=builtin_setting_names(tap_class)),
    }
