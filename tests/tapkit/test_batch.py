"""BATCH messages (`batch_config`, tapkit.batching): files that hold exactly the records, a state that is still right.

Each tap runs as a process against the sandbox twice with the same config: once with RECORD messages,
once with a `batch_config`. The batch files must hold exactly the records the RECORD run emitted (the
ground truth's counts for consentmanager), the final STATE must be the same, and no STATE may claim a
day whose records are not yet in an announced batch file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from tests.consentmanager.truth import raw_rows
from tests.support.live import clock_env
from tests.support.singer import TapRun, run_tap, tap_executable

FAST_RETRIES = {"retry_backoff_seconds": 0.01, "retry_max_attempts": 3}
#: small files, so that a stream's records span several BATCH messages and STATEs
BATCH_SIZE = 40


def batch_config(root: Path) -> dict:
    return {
        "batch_config": {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{root}", "prefix": "batch-"},
            "batch_size": BATCH_SIZE,
        }
    }


def batch_file_records(manifest: list[str]) -> list[dict]:
    rows = []
    for url in manifest:
        with gzip.open(urlsplit(url).path, "rt") as lines:
            rows += [json.loads(line) for line in lines]
    return rows


def batched(run: TapRun) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for message in run.messages:
        if message["type"] == "BATCH":
            rows.setdefault(message["stream"], []).extend(batch_file_records(message["manifest"]))
    return rows


def by_stream(run: TapRun) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for message in run.messages:
        if message["type"] == "RECORD":
            rows.setdefault(message["stream"], []).append(message["record"])
    return rows


def canonical(rows: list[dict]) -> Counter:
    return Counter(json.dumps(row, sort_keys=True) for row in rows)


def consentmanager_config(sandbox) -> dict:
    return {
        "api_key": "cm-batch-key",
        "start_date": (sandbox.today() - dt.timedelta(days=9)).isoformat(),
        "api_url": sandbox.url("consentmanager"),
        **FAST_RETRIES,
    }


def test_consentmanager_batch_files_hold_exactly_the_records_and_the_state_is_the_same(sandbox, tmp_path):
    cfg = consentmanager_config(sandbox)
    plain = run_tap("tap-consentmanager", cfg)
    assert plain.returncode == 0, plain.stderr[-2000:]
    run = run_tap("tap-consentmanager", {**cfg, **batch_config(tmp_path)})
    assert run.returncode == 0, run.stderr[-2000:]

    truth = {stream: len(rows) for stream, rows in raw_rows(sandbox, cfg).items() if rows}
    files, records, expected = batched(run), by_stream(run), by_stream(plain)
    # the day-windowed reports batch; the vendor's whole sets (they announce versions) stay RECORD messages
    assert set(files) == {"cmp_report", "crawler_report", "delivery_domains", "changelog", "consent_log"}
    assert not set(files) & set(records)
    assert {stream: len(rows) for stream, rows in {**files, **records}.items()} == truth
    for stream, rows in expected.items():
        assert canonical({**files, **records}[stream]) == canonical(rows), stream
    assert len([m for m in run.messages if m["type"] == "BATCH" and m["stream"] == "cmp_report"]) > 1
    assert run.last_state == plain.last_state
    assert_no_state_ahead_of_batches(run, "cmp_report", "date")


def assert_no_state_ahead_of_batches(run: TapRun, stream: str, day_field: str) -> None:
    """Every STATE's bookmark of `stream` is a day whose records are all in batch files announced before it."""
    all_days = Counter(str(row[day_field])[:10] for row in batched(run)[stream])
    announced: Counter = Counter()
    checked = 0
    for message in run.messages:
        if message["type"] == "BATCH" and message["stream"] == stream:
            announced.update(str(row[day_field])[:10] for row in batch_file_records(message["manifest"]))
        elif message["type"] == "STATE":
            bookmark = message["value"].get("bookmarks", {}).get(stream, {}).get("replication_key_value")
            if bookmark is None:
                continue
            checked += 1
            for day, count in all_days.items():
                if day <= str(bookmark)[:10]:
                    assert announced[day] == count, (day, bookmark)
    assert checked > 1


def test_a_stream_with_children_keeps_records_and_its_children_batch(sandbox, tmp_path):
    """Claravine: transactions (it has child streams) keeps RECORD messages; transaction_rows, a child, batches."""
    cfg = {
        "api_key": "claravine-key",
        "api_secret": "claravine-secret",
        "api_url": sandbox.url("claravine"),
        "start_date": (sandbox.today() - dt.timedelta(days=3)).isoformat(),
        **FAST_RETRIES,
    }
    plain = run_tap("tap-claravine", cfg)
    assert plain.returncode == 0, plain.stderr[-2000:]
    run = run_tap("tap-claravine", {**cfg, **batch_config(tmp_path)})
    assert run.returncode == 0, run.stderr[-2000:]
    files, records, expected = batched(run), by_stream(run), by_stream(plain)
    assert "transaction_rows" in files
    assert "transactions" in records and "transactions" not in files
    assert expected["transaction_rows"]  # the window holds uploads
    for stream, rows in expected.items():
        assert canonical({**files, **records}[stream]) == canonical(rows), stream
    assert run.last_state == plain.last_state


def test_a_stop_while_a_batch_file_fills_leaves_a_state_of_announced_files_only(sandbox, tmp_path):
    """SIGTERM while the window's last day is being fetched: the records of the days before it are in a batch
    file not yet announced, and their days are committed in the tap's memory. The last STATE must not claim them."""
    cfg = {**consentmanager_config(sandbox), **batch_config(tmp_path), "max_concurrency": 1}
    cfg["batch_config"]["batch_size"] = 1_000_000  # one file per stream: none is announced before the stop
    last_day = sandbox.today().isoformat()
    stall = sandbox.faults.add("slow", vendor="consentmanager", path=f"from={last_day}", delay=60)
    with tempfile.TemporaryDirectory() as scratch:
        config_path = Path(scratch, "config.json")
        config_path.write_text(json.dumps(cfg))
        proc = subprocess.Popen(
            [tap_executable("tap-consentmanager"), "--config", str(config_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **clock_env()},
        )
        deadline = time.monotonic() + 120
        while stall.times and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stall.times == 0, "the tap never asked for the last day"
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()[-2000:]
    messages = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert messages[-1]["type"] == "STATE"
    run = TapRun(proc.returncode, "", err.decode(), messages)
    announced = batched(run)
    bookmarks = messages[-1]["value"].get("bookmarks", {})
    for stream, bookmark in bookmarks.items():
        value = bookmark.get("replication_key_value")
        if value is None:
            continue
        days = {str(row["date"])[:10] for row in announced.get(stream, [])} | {
            str(row["date"])[:10] for row in by_stream(run).get(stream, [])
        }
        assert days and str(value)[:10] <= max(days), (stream, value)


def test_stream_maps_apply_to_batch_files_as_to_record_messages(sandbox, tmp_path):
    maps = {"stream_maps": {"cmp_report": {"page_view": "__NULL__", "views": "consent_view * 2"}}}
    cfg = {**consentmanager_config(sandbox), **maps}
    plain = run_tap("tap-consentmanager", cfg)
    assert plain.returncode == 0, plain.stderr[-2000:]
    run = run_tap("tap-consentmanager", {**cfg, **batch_config(tmp_path)})
    assert run.returncode == 0, run.stderr[-2000:]
    expected = by_stream(plain)["cmp_report"]
    assert expected and all("page_view" not in row and "views" in row for row in expected)
    assert canonical(batched(run)["cmp_report"]) == canonical(expected)
