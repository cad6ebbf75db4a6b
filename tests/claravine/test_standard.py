"""singer-sdk's standard tap tests, against the Claravine simulator."""

from __future__ import annotations

import datetime as dt

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox.core import default_today
from tap_claravine.tap import TapClaravine
from tests.support.live import sandbox_url

# Days old enough that every slow submission has settled, so each dataset's table has rows.
CONFIG = {
    "api_key": "standard-test-key",
    "api_secret": "standard-test-secret",
    "start_date": (default_today() - dt.timedelta(days=6)).isoformat(),
    "end_date": (default_today() - dt.timedelta(days=4)).isoformat(),
    "api_url": sandbox_url("claravine"),
}

TestTapClaravine = get_tap_test_class(TapClaravine, config=CONFIG, suite_config=SuiteConfig())
