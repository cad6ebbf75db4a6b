"""The Airbyte sources drop credential-named vendor fields as the Singer taps do (tapkit.credentials):
the simulators' "credentials" variant puts a sentinel in such fields; it is in no RECORD, STATE or LOG,
and a LOG warning names each dropped field."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from sandbox.core import VENDOR_CREDENTIAL

from tests.airbyte.protocol import configured_catalog, run_in_process
from tests.airbyte.sources import SOURCES
from tests.airbyte.test_sources import all_streams

DROPPED = {
    "lytics": {"apikey", "dataapikey", "integrations.webhook.authToken"},
    "consentmanager": {"api_key", "integration.accessToken"},
}


@pytest.mark.parametrize("source", [s for s in SOURCES if s.vendor in DROPPED], ids=lambda s: s.vendor)
def test_vendor_credentials_are_in_no_airbyte_message(source, sandbox):
    sandbox.set_variants(source.vendor, "credentials")
    config = source.config(sandbox)
    read = run_in_process(source.tap_class, "read", config=config, catalog=configured_catalog(all_streams(source, sandbox)))
    assert read.returncode == 0, read.stdout[-2000:]
    assert VENDOR_CREDENTIAL not in read.stdout
    named = re.findall(r"Credential dropped in stream '([^']+)': vendor field '([^']+)'", read.stdout)
    assert len(named) == len(set(named))
    assert {field for _, field in named} == DROPPED[source.vendor]
    truth = import_module(f"tests.{source.vendor}.truth")
    tap = source.tap_class(config=config, validate_config=False, setup_mapper=False)
    distinct = {
        name: len({tuple(repr(r.get(k)) for k in stream.primary_keys) for r in read.records(name)})
        for name, stream in tap.streams.items()
    }
    assert distinct == truth.expected_table_rows(sandbox, config)
