"""singer-sdk's standard tap tests, against the Lytics simulator."""

from __future__ import annotations

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_lytics.tap import TapLytics
from tests.lytics.truth import SANDBOX_CONFIG
from tests.support.live import sandbox_url

CONFIG = {**SANDBOX_CONFIG, "api_key": "standard-test-token", "api_url": sandbox_url("lytics")}

TestTapLytics = get_tap_test_class(TapLytics, config=CONFIG, suite_config=SuiteConfig())
