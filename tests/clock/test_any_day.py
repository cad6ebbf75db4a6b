"""The date-sensitive tests pass on any day: each runs again under pinned clocks spread over a year.

Every calendar decision of the taps reads tapkit/clock.py and every simulator reads `Sandbox.today()`;
both follow CONSENT_TAPS_TODAY. Here a pytest process per clock runs the subset below with that day
pinned, and a local time zone that changes to and from daylight-saving time (the code must use UTC
only, so the zone must change nothing). The clocks: month ends (including a year's), a leap day,
both sides of the EU's daylight-saving start and end, the first days of a year (a seven-day window
reaches into the year before); the day the suite runs is covered by the suite itself.

The subset is chosen for what depends on the day, so the suite stays fast (11 pytest runs of it):
- claravine: settle days (pending submissions), day windows and their lookback, updates of the day before;
- consentmanager: the default end date (today), the consent log's seven-day archive, lookback, a CSV of yesterday;
- gravito: the API's seven-day window (a bookmark behind it), timestamps within the simulated week;
- voyado: job ages over days and the timeout, api_version end-of-life dates (admin-v3 ends 2026-12-31);
- lytics: a scan cursor's age (resumed within the hour);
- didomi: partition days (today's still being written, the days before complete), the default start_date
  (30 days before today), the lookback that picks up a late file, the listing that starts after a day's keys;
- the kit: a tap's default end date from the pinned day.
Tests that take the day only as an input (drift, faults, auth, bad config) run once, in the normal suite.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sandbox.core import PIN_VARIABLE

ROOT = Path(__file__).resolve().parents[2]

#: (test file, -k expression or "" for the whole file)
DATE_SENSITIVE = [
    ("tests/claravine/test_sync.py", "pending or lookback or first_sync or overwritten or datasets_setting"),
    ("tests/consentmanager/test_tap.py", "full_sync or lookback or resumes or consent_log"),
    ("tests/consentmanager/test_variants.py", "empty_string or csv_text"),
    ("tests/gravito/test_sync.py", "seven_days"),
    ("tests/gravito/test_variants.py", "milliseconds"),
    ("tests/voyado/test_lifecycle.py", "progress_over_days or past_its_timeout"),
    ("tests/voyado/test_variants.py", "v2_selected or admin_v3_selected"),
    ("tests/lytics/test_scan_resume.py", "within_the_hour or older_than_an_hour"),
    ("tests/tapkit/test_clock.py", "default_end_date"),
    (
        "tests/didomi/test_sync.py",
        "every_stream_matches or every_file_of_a_partition or still_being_written or late_file_within"
        " or without_start_date",
    ),
]

CLOCKS = [
    dt.date(2027, 1, 1),  # a new year: the seven-day windows reach into the year before
    dt.date(2027, 1, 31),
    dt.date(2027, 2, 28),
    dt.date(2027, 3, 1),  # the day after a short February
    dt.date(2027, 3, 27),  # EU daylight-saving time starts on the 28th (01:00 UTC)
    dt.date(2027, 3, 28),
    dt.date(2027, 6, 30),
    dt.date(2027, 10, 30),  # EU daylight-saving time ends on the 31st (01:00 UTC)
    dt.date(2027, 10, 31),
    dt.date(2027, 12, 31),
    dt.date(2028, 2, 29),  # a leap day
]  # the day the suite runs is the rest of the suite's
#: a zone with daylight-saving time: any use of local time instead of UTC would show on the days above
LOCAL_ZONE = "Europe/Stockholm"


def node_ids() -> list[str]:
    """The selected tests, listed once by pytest itself (so the count below mirrors no number)."""
    ids: list[str] = []
    for path, expression in DATE_SENSITIVE:
        listed = pytest_run(["--collect-only", "-q", path, "-k", expression], clock=None)
        assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
        ids += [line for line in listed.stdout.splitlines() if line.startswith(path + "::")]
    return ids


def pytest_run(args: list[str], clock: dt.date | None) -> subprocess.CompletedProcess:
    day = clock or dt.datetime.now(dt.UTC).date()
    # a fresh pytest, not an xdist worker of this run (its variables would say it is one)
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "XDIST_"))}
    env = {**inherited, PIN_VARIABLE: day.isoformat(), "TZ": LOCAL_ZONE}
    # its own temp folder: a pytest on the default one takes permissions off /tmp/pytest-of-<user> (which the
    # PostgreSQL server of this run, a user of its own, needs) and prunes older numbered folders
    basetemp = tempfile.mkdtemp(prefix="consent-taps-clock-")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:xdist",
        "-p",
        "no:cacheprovider",
        f"--basetemp={basetemp}",
        *args,
    ]
    try:
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    finally:
        shutil.rmtree(basetemp, ignore_errors=True)


@pytest.fixture(scope="module")
def selected() -> list[str]:
    ids = node_ids()
    files = {node.split("::")[0] for node in ids}
    assert files == {path for path, _ in DATE_SENSITIVE}, "an expression above selects no test of its file"
    return ids


@pytest.mark.parametrize("clock", CLOCKS, ids=lambda day: day.isoformat())
def test_the_date_sensitive_tests_pass_on(clock, selected):
    run = pytest_run(["-q", *selected], clock)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, f"{clock}: {summary}\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    assert re.search(rf"\b{len(selected)} passed\b", summary), summary
    assert not re.search(r"skipped|xfailed|xpassed|deselected|error", summary), summary
