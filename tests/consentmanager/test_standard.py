"""singer-sdk's standard tap tests, against the consentmanager simulator."""

from __future__ import annotations

import datetime as dt

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox.core import default_today
from tap_consentmanager.tap import TapConsentmanager
from tests.support.live import sandbox_url

CONFIG = {
    "api_key": "standard-test-key",
    "start_date": (default_today() - dt.timedelta(days=3)).isoformat(),
    "api_url": sandbox_url("consentmanager"),
}

TestTapConsentmanager = get_tap_test_class(
    TapConsentmanager,
    config=CONFIG,
    suite_config=SuiteConfig(),
)
