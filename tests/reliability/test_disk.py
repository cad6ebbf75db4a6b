"""A download_dir that cannot take an export stops the run before the download (the vendor deletes an
export once downloaded); a later run with a good folder emits every line, exact against ground truth."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.reliability.runner import sync
from tests.reliability.taps import TAPS
from tests.voyado.test_lifecycle import emitted_lines, expected_lines, statuses

KEYS = ["cust-1", "cust-2", "empty-3"]
PROFILE = TAPS["voyado"]
PETABYTE_MB = 1024**3  # more free space than any test machine has: "too full", deterministically


def unwritable(tmp_path, config: dict) -> tuple[dict, list[str]]:
    """download_dir below a regular file: mkdir fails even for root."""
    (tmp_path / "a-file").write_text("not a directory")
    return {**config, "download_dir": str(tmp_path / "a-file" / "downloads")}, [
        "download_dir",
        "cannot be created or written",
    ]


def too_full(_tmp_path, config: dict) -> tuple[dict, list[str]]:
    return {**config, "download_min_free_mb": PETABYTE_MB}, ["download_dir", "download_min_free_mb", "MB free"]


@pytest.fixture
def clock(sandbox):
    """`clock(days)` moves the sandbox's today to `days` after the test started."""
    start = sandbox.today()

    def advance(days: int) -> None:
        sandbox.set_today(start + dt.timedelta(days=days))

    yield advance
    sandbox.set_today(None)


@pytest.fixture
def voyado_config(sandbox, tmp_path):
    def build(keys: list[str], **settings) -> dict:
        return PROFILE.config(sandbox, tmp_path, customer_keys=keys, **settings)

    return build


@pytest.mark.parametrize("vendor", ["voyado"])
@pytest.mark.parametrize(
    ("scenario", "bad_disk"),
    [("disk: download_dir unwritable", unwritable), ("disk: download_dir too full", too_full)],
    ids=["unwritable", "too full"],
)
def test_a_disk_that_cannot_take_the_download_stops_before_it_and_loses_nothing(
    sandbox, clock, voyado_config, tmp_path, vendor, scenario, bad_disk
):
    config = voyado_config(KEYS)
    clock(0)
    created = sync(PROFILE, config)  # the jobs exist at the vendor, not done yet
    assert created.returncode == 0, created.stderr
    assert set(statuses(created).values()) == {"waiting"}
    jid_of = {key: job["jid"] for key, job in created.last_state["bookmarks"]["export_jobs"]["jobs"].items()}

    clock(6)  # every export is done and downloadable (once)
    before = len(sandbox.requests)
    bad_config, fragments = bad_disk(tmp_path, config)
    stopped = sync(PROFILE, bad_config, state=created.last_state)
    assert stopped.returncode == 1, stopped.stderr[-2000:]
    line = stopped.last_stderr_line
    assert line.startswith("tap-voyado: error: setting download_dir: "), line
    for fragment in fragments:
        assert fragment in line, line
    assert "no export was downloaded" in line
    assert "Traceback" not in stopped.stderr
    assert stopped.records() == []
    assert len(sandbox.requests) == before  # not a download, not even a poll
    assert sandbox.count("voyado", "/export-customer-job-result") == 0

    good = sync(PROFILE, config, state=created.last_state)
    assert good.returncode == 0, good.stderr[-2000:]
    assert emitted_lines(good) == expected_lines(sandbox, KEYS, jid_of)
    assert statuses(good) == dict.fromkeys(KEYS, "downloaded")
    assert sandbox.count("voyado", "/export-customer-job-result") == len(KEYS)  # one download each, never two


def test_a_negative_minimum_is_a_setting_error_before_any_request(sandbox, voyado_config):
    run = sync(PROFILE, voyado_config(KEYS, download_min_free_mb=-1))
    assert run.returncode == 1
    assert run.last_stderr_line == "tap-voyado: error: setting download_min_free_mb must be 0 or more, got -1"
    assert sandbox.count("voyado") == 0
