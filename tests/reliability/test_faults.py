"""Every tap under each HTTP fault: retried to exact ground truth, or one clear line and exit 1."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.reliability.matrix_report import NOTE
from tests.reliability.runner import (
    assert_clear_last_line,
    assert_exact_ground_truth,
    clean_counts,
    distinct_keys,
    sync,
)
from tests.reliability.taps import FAST_RETRIES, TAPS

VENDORS = list(TAPS)
RETRY_AFTER = 2.0
SLOW = {"request_timeout": 1}  # the "slow" fault answers after 2 s
CAUSES = {
    "429": "HTTP 429",
    "500": "HTTP 500",
    "502": "HTTP 502",
    "503": "HTTP 503",
    "reset": "the connection was reset",
    "slow": "the response took longer than request_timeout",
}


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(("scenario", "fault"), [("429-seconds", "429"), ("429-date", "429-date")])
def test_retry_after_is_waited_for_then_the_sync_is_exact(sandbox, tmp_path, vendor, scenario, fault):
    profile = TAPS[vendor]
    clean = clean_counts(profile, sandbox, tmp_path)
    rule = sandbox.faults.add(fault, vendor=vendor, times=1, retry_after=RETRY_AFTER)
    config = profile.config(sandbox, tmp_path)
    run = sync(profile, config)
    assert rule.times == 0, "the fault never fired"
    assert_exact_ground_truth(run, profile, sandbox, config, clean)

    [refused] = [r for r in sandbox.requests if r.status == 429]
    retry = next(
        r
        for r in sandbox.requests
        if r.received_at > refused.received_at and (r.path, r.query) == (refused.path, refused.query)
    )
    refused_at, retried_at = refused.received_at, retry.received_at
    # An HTTP date has whole seconds: the server's date is floor(its clock + Retry-After), its clock >= refused_at.
    must_wait = RETRY_AFTER if fault == "429" else math.floor(refused_at + RETRY_AFTER) - refused_at
    assert retried_at - refused_at >= must_wait - 0.05


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("scenario", ["500", "502", "503", "reset", "slow"])
def test_a_transient_fault_is_retried_and_the_sync_is_exact(sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    clean = clean_counts(profile, sandbox, tmp_path)
    rule = sandbox.faults.add(scenario, vendor=vendor, times=1, delay=2)
    config = profile.config(sandbox, tmp_path, **SLOW)
    run = sync(profile, config)
    assert rule.times == 0, "the fault never fired"
    assert_exact_ground_truth(run, profile, sandbox, config, clean)


def attempts_at(sandbox, vendor: str, target: str, expected: int) -> int:
    """Requests the sandbox logged for the endpoint an error line names (`/vendor/path?query`, secrets masked).

    A "slow" answer is logged when the sandbox finally sends it, after the tap stopped waiting: wait for it.
    """
    deadline = time.monotonic() + 3
    while (count := _logged(sandbox, vendor, target)) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def _logged(sandbox, vendor: str, target: str) -> int:
    parts = urlsplit(target)
    path = parts.path.removeprefix(f"/{vendor}")
    if not parts.query:  # the kit's retry and give-up lines name the path only (a query can hold personal data)
        return sum(1 for r in list(sandbox.requests) if r.vendor == vendor and r.path == path)
    shown = parse_qs(parts.query, keep_blank_values=True)
    return sum(
        1
        for r in list(sandbox.requests)
        if r.vendor == vendor
        and r.path == path
        and {k: v for k, v in r.query.items() if shown.get(k) != ["***"]}
        == {k: v for k, v in shown.items() if v != ["***"]}
    )


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(("scenario", "fault"), [(f"{kind}-always", kind) for kind in CAUSES])
def test_the_same_fault_on_every_try_ends_in_one_line_after_the_last_attempt(
    sandbox, tmp_path, vendor, scenario, fault
):
    profile = TAPS[vendor]
    sandbox.faults.add(fault, vendor=vendor, times=-1, retry_after=0, delay=2)
    # one request at a time: the line names a path, not its query, and requests fetched ahead share paths
    run = sync(profile, profile.config(sandbox, tmp_path, **SLOW, max_concurrency=1))
    attempts = int(FAST_RETRIES["retry_max_attempts"])
    line = assert_clear_last_line(
        run, profile, profile.vendor_label, f"failed after {attempts} attempts", CAUSES[fault]
    )
    # Every part fails alone (tapkit.isolation) and the line lists each: every request was one of their
    # attempts, so an endpoint the line names k times was asked exactly k x attempts times.
    named = Counter(match.group(1) for match in re.finditer(r"\b(?:GET|POST) (\S+) failed after", line))
    assert named, line
    for endpoint, times in named.items():
        assert attempts_at(sandbox, vendor, endpoint, times * attempts) == times * attempts, (endpoint, line)


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("scenario", ["401", "403"])
def test_refused_credentials_stop_before_any_record_naming_the_setting(sandbox, tmp_path, vendor, scenario):
    profile = TAPS[vendor]
    sandbox.faults.add(scenario, vendor=vendor, times=-1)
    run = sync(profile, profile.config(sandbox, tmp_path))
    assert_clear_last_line(run, profile, f"authentication failed: check {profile.auth_check}", f"HTTP {scenario}")
    assert run.records() == []


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("where", ["first request", "records mid-sync"])
@pytest.mark.parametrize("scenario", ["truncate", "html", "empty", "envelope-error"])
def test_a_bad_body_is_a_clear_error_or_an_exact_sync_never_a_short_one(
    request, sandbox, tmp_path, vendor, where, scenario
):
    profile = TAPS[vendor]
    clean = clean_counts(profile, sandbox, tmp_path)
    rule = sandbox.faults.add(
        scenario, vendor=vendor, path="" if where == "first request" else profile.records_path, times=1
    )
    config = profile.config(sandbox, tmp_path)
    run = sync(profile, config)
    assert rule.times == 0, "the fault never fired"
    if run.returncode != 0:
        assert_clear_last_line(run, profile, profile.vendor_label, " /")
        outcome = "clear error"
    elif profile.reported_loss and (expected := profile.reported_loss(run, sandbox, config)) is not None:
        assert distinct_keys(run) == {stream: count for stream, count in expected.items() if count}
        outcome = "kept and reported"
    else:
        assert_exact_ground_truth(run, profile, sandbox, config, clean)
        outcome = "exact output"
    request.node.user_properties.append((NOTE, outcome))
