"""The committed Meltano plugin definitions are exactly what scripts/generate_plugins.py makes of the taps today."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
import yaml

from tests.pipelines.meltano_project import ROOT


def generator():
    spec = importlib.util.spec_from_file_location("generate_plugins", ROOT / "scripts" / "generate_plugins.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPECTED = generator().expected_files()


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda path: str(path.relative_to(ROOT)))
def test_generated_file_is_up_to_date(path):
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `uv run python scripts/generate_plugins.py`"
    assert path.read_text() == EXPECTED[path], (
        f"{path.relative_to(ROOT)} is stale: run `uv run python scripts/generate_plugins.py`"
    )


def test_every_tap_has_a_user_definition():
    taps = sorted(path.name for path in (ROOT / "taps").glob("tap-*"))
    assert sorted(path.parent.name for path in EXPECTED if path.name == "meltano-plugin.yml") == taps


@pytest.mark.parametrize(
    "path", sorted(p for p in EXPECTED if p.name == "meltano-plugin.yml"), ids=lambda path: path.parent.name
)
def test_user_definition_marks_every_secret_sensitive(path):
    (plugin,) = yaml.safe_load(path.read_text())["plugins"]["extractors"]
    tap_module = importlib.import_module(f"{plugin['namespace']}.tap")
    secrets = {
        name
        for cls in vars(tap_module).values()
        if getattr(cls, "name", None) == plugin["name"]
        for name, prop in cls.config_jsonschema["properties"].items()
        if prop.get("secret")
    }
    assert secrets, plugin["name"]
    assert {s["name"] for s in plugin["settings"] if s.get("sensitive")} == secrets
