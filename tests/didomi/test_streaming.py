"""The export reader streams: a partition file many times larger costs the tap no more memory (peak RSS)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from tests.didomi.support import TAP, config, truth
from tests.support.live import clock_env
from tests.support.singer import tap_executable

BULK_ROWS = 150_000  # ~50 MB of JSON in one .json.gz (each row carries a 200-byte note)
MAX_GROWTH_MB = 40  # what a streamed read may add, for buffers and the SDK's own state


def peak_rss_mb(settings: dict) -> tuple[float, int]:
    """Peak resident memory of one tap process (os.wait4: this child's own rusage), and its users records."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "config.json")
        path.write_text(json.dumps(settings))
        out = Path(tmp, "out.jsonl")
        with out.open("w") as stdout:
            process = subprocess.Popen(
                [tap_executable(TAP), "--config", str(path)],
                stdout=stdout,
                stderr=subprocess.DEVNULL,
                env={**os.environ, **clock_env()},
            )
            _pid, status, usage = os.wait4(process.pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        users = 0
        with out.open() as lines:
            for line in lines:
                if line.startswith('{"type":"RECORD","stream":"export_users"'):
                    users += 1
    return usage.ru_maxrss / 1024, users


def test_a_large_partition_file_is_read_in_constant_memory(sandbox):
    settings = config(sandbox, consents_api=False, export_ids=["batch-7f3a"])
    small_rss, small_users = peak_rss_mb(settings)
    sandbox.settings["didomi.bulk_rows"] = BULK_ROWS
    large_rss, large_users = peak_rss_mb(settings)
    assert small_users == len(truth(sandbox, start_date=settings["start_date"])["export_users"]) - BULK_ROWS
    assert large_users == small_users + BULK_ROWS
    assert large_rss < small_rss + MAX_GROWTH_MB, (small_rss, large_rss)
