"""Schema drift: the sync completes with every record, a new or retyped value lands in `_extra`, one warning each."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.reliability.runner import assert_exact_ground_truth, clean_counts, sync
from tests.reliability.taps import TAPS

DRIFT_WARNING = re.compile(r"Schema drift in stream '([^']+)': (?:a value of )?vendor field '([^']+)'")


@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["drift: add", "drift: remove", "drift: retype"])
def test_drift_completes_keeps_the_value_in_extra_and_warns_once(sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    clean = clean_counts(profile, sandbox, tmp_path)
    drift = scenario.removeprefix("drift: ")
    sandbox.settings[f"{vendor}.drift"] = drift
    config = profile.config(sandbox, tmp_path)
    run = sync(profile, config)
    assert_exact_ground_truth(run, profile, sandbox, config, clean)

    warnings = Counter(
        DRIFT_WARNING.search(line).groups() for line in run.stderr.splitlines() if DRIFT_WARNING.search(line)
    )
    assert all(count == 1 for count in warnings.values()), warnings
    if drift == "remove":
        return
    assert warnings, "no drift warning"
    for stream, field in warnings:
        kept = [r["_extra"][field] for r in run.records(stream) if field in (r.get("_extra") or {})]
        assert kept, f"{stream}: no value of {field} in _extra"
