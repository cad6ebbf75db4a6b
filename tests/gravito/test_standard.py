"""singer-sdk's standard tap tests, against the Gravito simulator."""

from __future__ import annotations

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox.gravito import DOMAINS
from tap_gravito.tap import TapGravito
from tests.support.live import sandbox_url

CONFIG = {"access_token": "standard-test-token", "domains": list(DOMAINS[:2]), "api_url": sandbox_url("gravito")}

TestTapGravito = get_tap_test_class(TapGravito, config=CONFIG, suite_config=SuiteConfig())
