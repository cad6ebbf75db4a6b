"""`emit_activate_version_messages` (singer-sdk's name): on by default, so loaders delete the rows a vendor no
longer has; off for a loader that does not know the message (target-jsonl warns once per message), with the
very same records and state."""

from __future__ import annotations

import importlib

import pytest

from tapkit.snapshot import CompleteSnapshot
from tests.reliability.runner import sync
from tests.reliability.taps import TAPS


def has_setting(vendor: str) -> bool:
    return "emit_activate_version_messages" in TAPS[vendor].load_tap_class().config_jsonschema["properties"]


SNAPSHOT_TAPS = sorted(vendor for vendor in TAPS if has_setting(vendor))


def has_complete_snapshots(vendor: str) -> bool:
    module = importlib.import_module(TAPS[vendor].tap_class.split(".")[0] + ".streams")
    return any(isinstance(obj, type) and issubclass(obj, CompleteSnapshot) for obj in vars(module).values())


def test_exactly_the_taps_with_complete_snapshots_have_the_setting():
    assert sorted(vendor for vendor in TAPS if has_complete_snapshots(vendor)) == SNAPSHOT_TAPS
    assert len(SNAPSHOT_TAPS) >= 1


@pytest.mark.parametrize("vendor", SNAPSHOT_TAPS)
def test_turning_it_off_drops_only_the_activate_version_messages(sandbox, tmp_path, vendor):
    profile = TAPS[vendor]
    on = sync(profile, profile.config(sandbox, tmp_path / "on"))
    sandbox.reset()
    off = sync(profile, profile.config(sandbox, tmp_path / "off", emit_activate_version_messages=False))
    assert on.returncode == off.returncode == 0, (on.stderr + off.stderr)[-3000:]
    assert [m for m in off.messages if m["type"] == "ACTIVATE_VERSION"] == []
    announced = [m for m in on.messages if m["type"] == "ACTIVATE_VERSION"]
    assert announced and len(announced) == 2 * len({m["stream"] for m in announced})  # opened and closed
    assert off.counts() == on.counts() and sum(on.counts().values()) > 0
    assert all("version" not in m for m in off.messages if m["type"] == "RECORD")
