"""The Airbyte sources drop credential-named vendor fields as the Singer taps do (tapkit.credentials):
the simulators' "credentials" variant puts a sentinel in such fields; it is in no RECORD, STATE or LOG,
and a LOG warning names each dropped field."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from sandbox.core import VENDOR_CREDENTIAL

#: the simulator variant that puts credentials in the vendor's answers
VARIANT = {"lytics": "account-credentials", "consentmanager": "credentials"}


def credential_values(sandbox, vendor: str) -> list[str]:
    """The sentinel values those credentials hold."""
    return sandbox.app("lytics").credential_values() if vendor == "lytics" else [VENDOR_CREDENTIAL]

from tests.airbyte.protocol import configured_catalog, run_in_process
from tests.airbyte.sources import SOURCES
from tests.airbyte.test_sources import all_streams

DROPPED = {
    # the account keys: tap-lytics drops them itself before the kit's rule sees them (its own warning)
    "lytics": set(),
    "consentmanager": {"api_key", "integration.accessToken"},
}


@pytest.mark.parametrize("source", [s for s in SOURCES if s.vendor in DROPPED], ids=lambda s: s.vendor)
def test_vendor_credentials_are_in_no_airbyte_message(source, sandbox):
    sandbox.set_variants(source.vendor, VARIANT[source.vendor])
    sentinels = credential_values(sandbox, source.vendor)
    config = source.config(sandbox)
    read = run_in_process(source.tap_class, "read", config=config, catalog=configured_catalog(all_streams(source, sandbox)))
    assert read.returncode == 0, read.stdout[-2000:]
    assert not any(value in read.stdout for value in sentinels)
    named = re.findall(r"Credential dropped in stream '([^']+)': vendor field '([^']+)'", read.stdout)
    assert len(named) == len(set(named))
    assert {field for _, field in named} == DROPPED[source.vendor]
    if source.vendor == "lytics":  # the account keys: tap-lytics drops them itself, before the kit's rule
        assert "dropped credential field(s) apikey, dataapikey" in read.stdout
    truth = import_module(f"tests.{source.vendor}.truth")
    tap = source.tap_class(config=config, validate_config=False, setup_mapper=False)
    distinct = {
        name: len({tuple(repr(r.get(k)) for k in stream.primary_keys) for r in read.records(name)})
        for name, stream in tap.streams.items()
    }
    assert distinct == truth.expected_table_rows(sandbox, config)
