"""Spool files of large bodies (tapkit.body) are gone on every exit path. Every reliability test spools
bodies past 1 KiB into a TMPDIR of its own, checked empty when the test ends (tests/reliability/
conftest.py); these cells add a body that breaks mid-read and is retried, and a SIGTERM that lands
while a large body is half read (its spool file is seen open in that directory first)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.runner import assert_exact_ground_truth, clean_counts, sync
from tests.reliability.taps import TAPS
from tests.reliability.test_kill_resume import command

#: a request whose body is spooled mid-sync and retried (the profile's: an export download served once is not)
BROKEN_BODY_PATH = {vendor: profile.broken_body_path for vendor, profile in TAPS.items()}


def open_spool_files(pid: int, directory: Path) -> list[str]:
    """Files the process holds open in `directory` (anonymous temporary files show as '<dir>/#n (deleted)')."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["spool: broken body retried"])
def test_a_body_broken_mid_read_is_retried_and_leaves_no_spool_file(sandbox, tmp_path, spool_dir, vendor, scenario):
    profile = TAPS[vendor]
    clean = clean_counts(profile, sandbox, tmp_path)
    config = profile.config(sandbox, tmp_path)
    sandbox.faults.add("break-body", vendor=vendor, path=BROKEN_BODY_PATH[vendor], times=1)
    run = sync(profile, config)
    assert "the connection broke while the body was being read" in run.stderr, run.stderr[-2000:]
    assert_exact_ground_truth(run, profile, sandbox, config, clean)
    assert list(spool_dir.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see the open spool file")
@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize("scenario", ["spool: SIGTERM mid-body"])
def test_sigterm_while_a_large_body_is_half_read_leaves_no_spool_file(
    sandbox, tmp_path, spool_dir, monkeypatch, vendor, scenario
):
    profile = TAPS[vendor]
    monkeypatch.setenv("TAPKIT_SPOOL_MAX_MEMORY", "64")  # half of any records body goes to disk
    config = profile.config(sandbox, tmp_path, request_timeout=120)
    # Padded with whitespace: the tap reads a body in 256 KiB chunks, so half of it must be past that to be on disk.
    stall = sandbox.faults.add("stall-body", vendor=vendor, path=BROKEN_BODY_PATH[vendor], delay=60, pad=600_000)
    with open(tmp_path / "stderr", "w") as stderr:
        proc = subprocess.Popen(
            command(profile, config, None, tmp_path / "run"), stdout=subprocess.DEVNULL, stderr=stderr
        )
        deadline = time.monotonic() + 30
        while stall.times and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stall.times == 0, "the tap never sent the request whose body stalls"
        spooled: list[str] = []
        while not spooled and time.monotonic() < deadline:  # the first half of the body is on its way to disk
            spooled = open_spool_files(proc.pid, spool_dir)
            time.sleep(0.05)
        assert spooled, "the half-read body was not spooled into the test's TMPDIR"
        proc.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        returncode = proc.wait(timeout=60)
    assert time.monotonic() - signalled_at < 5
    assert returncode == 143, (tmp_path / "stderr").read_text()[-2000:]
    assert list(spool_dir.iterdir()) == []
