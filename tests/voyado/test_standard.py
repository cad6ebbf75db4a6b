"""singer-sdk's standard tap tests, against the Voyado simulator.

The keys are "instant-..." keys, whose jobs the simulator finishes on the first poll, so every sync of
the suite (each one starts without state, so it requests new jobs) emits customer_data rows.
"""

from __future__ import annotations

import tempfile

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_voyado.tap import TapVoyado
from tests.support.live import sandbox_url

CONFIG = {
    "api_key": "standard-test-key",
    "api_url": sandbox_url("voyado"),
    "customer_keys": ["instant-standard-1", "instant-standard-2", "empty-standard-3"],
    "download_dir": tempfile.mkdtemp(prefix="voyado-standard-"),
}

TestTapVoyado = get_tap_test_class(TapVoyado, config=CONFIG, suite_config=SuiteConfig())
