"""The Airbyte sources drop credential-named vendor fields as the Singer taps do (tapkit.credentials):
the simulators' "credentials" variant puts a sentinel in such fields; it is in no RECORD, STATE or LOG,
and a LOG warning names each dropped field."""

from __future__ import annotations

import re

import pytest

from tests.airbyte.protocol import configured_catalog, run_in_process
from tests.airbyte.sources import SOURCES
from tests.airbyte.test_sources import all_streams

#: the sources whose simulator has a variant that puts credentials in the vendor's answers (their profiles say which)
WITH_CREDENTIALS = [source for source in SOURCES if source.profile.credentials]


@pytest.mark.parametrize("source", WITH_CREDENTIALS, ids=lambda s: s.vendor)
def test_vendor_credentials_are_in_no_airbyte_message(source, sandbox):
    credentials = source.profile.credentials
    sandbox.set_variants(source.vendor, credentials.variant)
    sentinels = credentials.values(sandbox)
    config = source.config(sandbox)
    read = run_in_process(
        source.tap_class, "read", config=config, catalog=configured_catalog(all_streams(source, sandbox))
    )
    assert read.returncode == 0, read.stdout[-2000:]
    assert not any(value in read.stdout for value in sentinels)
    named = re.findall(r"Credential dropped in stream '([^']+)': vendor field '([^']+)'", read.stdout)
    assert len(named) == len(set(named))
    assert {field for _, field in named} == credentials.dropped
    # a tap's own warning for credentials it drops before the kit's rule (tap-lytics: the account keys)
    assert credentials.also_named in read.stdout
    tap = source.tap_class(config=config, validate_config=False, setup_mapper=False)
    distinct = {
        name: len({tuple(repr(r.get(k)) for k in stream.primary_keys) for r in read.records(name)})
        for name, stream in tap.streams.items()
    }
    assert distinct == source.expected_rows(sandbox, config)
