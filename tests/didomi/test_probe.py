"""`tap-didomi --probe` under every simulator variant: `does not hold` exactly where the variant breaks one."""

from __future__ import annotations

import pytest

from sandbox.didomi import DidomiApp
from tap_didomi import probe as didomi_probe
from tests.didomi.support import API_SECRET, TAP, config
from tests.support.probe import assert_verdicts
from tests.support.singer import run_tap

ROWS = [
    didomi_probe.SESSION,
    didomi_probe.ENVELOPE,
    didomi_probe.RATE_HEADERS,
    didomi_probe.VENDORS,
    didomi_probe.REGULATIONS,
    didomi_probe.NUMERIC_IDS,
    didomi_probe.CONSENTS,
    didomi_probe.SUCCESS,
]
# What each variant breaks (the documented default breaks nothing).
BROKEN = {
    "bare-arrays": {didomi_probe.ENVELOPE},
    "opaque-token": {didomi_probe.SESSION},
    "consents-missing-404": set(),  # the product is there: how its absence is answered is not seen
    "no-success-marker": {didomi_probe.SUCCESS},
    "numeric-ids-at-root": {didomi_probe.NUMERIC_IDS},
    "regulations-filter-required": {didomi_probe.REGULATIONS},
}


def test_every_variant_is_named():
    assert set(BROKEN) == set(DidomiApp.VARIANTS)


@pytest.mark.parametrize("variant", [None, *sorted(DidomiApp.VARIANTS)])
def test_probe_verdicts_under_each_variant(sandbox, variant):
    if variant:
        sandbox.set_variants("didomi", variant)
    run = run_tap(TAP, config(sandbox), args=["--probe"])
    assert_verdicts(run, ROWS, BROKEN.get(variant, set()) if variant else set())
    assert API_SECRET not in run.stdout + run.stderr


@pytest.mark.parametrize("status_variant", [None, "consents-missing-404"])
def test_probe_says_when_the_consents_api_is_missing(sandbox, status_variant):
    if status_variant:
        sandbox.set_variants("didomi", status_variant)
    sandbox.settings["didomi.consents_product"] = False
    run = run_tap(TAP, config(sandbox), args=["--probe"])
    assert_verdicts(run, ROWS, {didomi_probe.CONSENTS})


def test_probe_without_consents_api_or_bucket_checks_the_api_only(sandbox):
    run = run_tap(TAP, config(sandbox, consents_api=False, export_bucket_url=None), args=["--probe"])
    assert_verdicts(run, ROWS[:6], set())
    assert sandbox.count("didomi", "/s3") == 0
