"""The contract of tapkit.seam with the installed singer-sdk: every private name the kit relies on
exists, with the parameters relied on. An upgrade that moves one fails here, by name."""

from __future__ import annotations

import inspect

import pytest
from singer_sdk import Stream

from tapkit.seam import PRIVATE_API, PrivateName, SeamStream
from tests.gravito.truth import SANDBOX_CONFIG


@pytest.mark.parametrize("entry", PRIVATE_API, ids=lambda entry: f"{entry.owner.__name__}.{entry.name}")
def test_each_private_name_exists_with_the_parameters_relied_on(entry: PrivateName) -> None:
    if entry.parameters is None:
        # an instance attribute: set in __init__, so look for it in the source of the class
        assert f"self.{entry.name}" in inspect.getsource(entry.owner), f"{entry.owner.__name__}.{entry.name} is gone"
        return
    method = getattr(entry.owner, entry.name, None)
    assert callable(method), f"{entry.owner.__name__}.{entry.name} is gone"
    names = tuple(inspect.signature(method).parameters)
    assert names[: len(entry.parameters)] == entry.parameters, f"{entry.owner.__name__}.{entry.name}{names}"


def test_every_entry_says_why() -> None:
    assert all(len(entry.why) > 20 for entry in PRIVATE_API)
    assert len({(entry.owner, entry.name) for entry in PRIVATE_API}) == len(PRIVATE_API)


def test_the_stream_version_attribute_is_what_the_sdk_announces(sandbox) -> None:
    """`announced_version` reads `_stream_version`: a live stream of a full-table tap has it, and the
    SDK's own record messages carry it."""
    from tap_gravito.tap import TapGravito

    tap = TapGravito(config={**SANDBOX_CONFIG, "access_token": "gravito-token", "api_url": sandbox.url("gravito")})
    stream = next(iter(tap.streams.values()))
    assert isinstance(stream, Stream)
    assert isinstance(stream, SeamStream)
    assert hasattr(stream, "_stream_version")
    assert stream.announced_version is None  # nothing announced before a sync
