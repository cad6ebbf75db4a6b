"""The kit's fast RECORD path (skipping singer-sdk's per-record pruning) emits what the SDK path emits,
and steps aside whenever that pruning or a stream map would change a record."""

from __future__ import annotations

import typing as t

import pytest

from tap_gravito.tap import TapGravito
from tapkit.streams import VendorStream
from tests.gravito.truth import SANDBOX_CONFIG


class CollectingWriter:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    def write_message(self, message: t.Any) -> None:
        self.messages.append(message.to_dict())


def sync(config: dict, catalog: dict | None = None, state: dict | None = None) -> list[dict]:
    writer = CollectingWriter()
    tap = TapGravito(config=config, catalog=catalog, state=state, message_writer=writer)
    tap.sync_all()
    for message in writer.messages:
        message.pop("time_extracted", None)
    return writer.messages


def fast_path_used(monkeypatch) -> dict[str, bool]:
    """Record, per stream, whether the fast path was taken."""
    used: dict[str, bool] = {}
    original = VendorStream.__dict__["_emits_records_as_shaped"].func

    def spy(self):
        used[self.name] = original(self)
        return used[self.name]

    monkeypatch.setattr(VendorStream, "_emits_records_as_shaped", property(spy))
    return used


@pytest.fixture
def config(sandbox) -> dict:
    return {**SANDBOX_CONFIG, "access_token": "gravito-token", "api_url": sandbox.url("gravito")}


def test_fast_and_sdk_paths_emit_identical_messages(config, monkeypatch):
    used = fast_path_used(monkeypatch)
    fast = sync(config)
    assert len(used) == 5 and all(used.values())
    monkeypatch.setattr(VendorStream, "_emits_records_as_shaped", False)
    sdk = sync(config)
    assert sum(message["type"] == "RECORD" for message in fast) > 100
    assert fast == sdk


def test_a_deselected_property_takes_the_sdk_path(config, monkeypatch):
    catalog = TapGravito(config=config).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == ["properties", "referer"]:
                metadata["metadata"]["selected"] = False
    used = fast_path_used(monkeypatch)
    messages = sync(config, catalog)
    profiles = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "microprofiles"]
    assert profiles and all("referer" not in record for record in profiles)
    assert used == {
        "microprofiles": False,
        "consents": True,
        "keyring": True,
        "tcf_consents": True,
        "non_tcf_vendor_consents": True,
    }


def test_a_stream_map_takes_the_sdk_path_for_its_stream(config, monkeypatch):
    used = fast_path_used(monkeypatch)
    messages = sync({**config, "stream_maps": {"microprofiles": {"referer": "__NULL__"}}})
    profiles = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "microprofiles"]
    assert profiles and all("referer" not in record for record in profiles)
    assert used["microprofiles"] is False and used["consents"] is True


def test_flattening_takes_the_sdk_path(config, monkeypatch):
    used = fast_path_used(monkeypatch)
    messages = sync({**config, "flattening_enabled": True, "flattening_max_depth": 1})
    assert any(m["type"] == "RECORD" for m in messages)
    assert len(used) == 5 and not any(used.values())
