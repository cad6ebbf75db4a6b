"""A pytest plugin: collect the outcome of every reliability cell, print the table at the end of the
run, and write docs/reliability.md when the full matrix ran.

Loaded from tests/conftest.py so that the xdist controller (which collects nothing) has it too: the
workers' reports reach the controller's `pytest_runtest_logreport` with their user properties.
"""

from __future__ import annotations

from pathlib import Path

from tests.reliability.matrix import NO_ERROR_ENVELOPE, SCENARIOS, applies, cells
from tests.reliability.taps import TAPS

CELL = "reliability-cell"
NOTE = "reliability-note"  # how a passing cell passed, where a scenario allows two outcomes
DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"

_outcomes: dict[tuple[str, str], str] = {}
_notes: dict[tuple[str, str], set[str]] = {}


def pytest_runtest_logreport(report) -> None:
    properties = dict(report.user_properties)
    if CELL not in properties:
        return
    cell = tuple(properties[CELL])
    if report.failed:
        _outcomes[cell] = "FAIL"
    elif report.when == "call" and report.passed:
        _outcomes.setdefault(cell, "pass")
        if NOTE in properties:
            _notes.setdefault(cell, set()).add(properties[NOTE])


def outcome(cell: tuple[str, str]) -> str:
    result = _outcomes.get(cell, "not run")
    notes = _notes.get(cell)
    return f"{result} ({', '.join(sorted(notes))})" if result == "pass" and notes else result


def table() -> list[str]:
    vendors = list(TAPS)
    lines = ["| scenario | " + " | ".join(vendors) + " |", "|---|" + "---|" * len(vendors)]
    for scenario in SCENARIOS:
        row = [outcome((scenario, vendor)) if applies(scenario, vendor) else "n/a" for vendor in vendors]
        lines.append(f"| {scenario} | " + " | ".join(row) + " |")
    return lines


def pytest_terminal_summary(terminalreporter, config) -> None:
    if not _outcomes or hasattr(config, "workerinput"):
        return
    terminalreporter.section("reliability matrix (scenario by tap)")
    for line in table():
        terminalreporter.write_line(line)
    if all(cell in _outcomes for cell in cells()):
        DOC.write_text(document())
        terminalreporter.write_line(f"written to {DOC.relative_to(DOC.parents[1])}")


def soak_section() -> str:
    """The soak's section, written by `./scripts/soak --write-doc` and kept when the matrix rewrites the page."""
    text = DOC.read_text() if DOC.exists() else ""
    start = text.find("\n## Soak")
    return "\n" + text[start:].lstrip("\n") if start >= 0 else ""


def document() -> str:
    scenarios = "\n".join(f"- **{name}**: {what}" for name, what in SCENARIOS.items())
    envelopes = "\n".join(f"- {vendor}: {why}" for vendor, why in NO_ERROR_ENVELOPE.items())
    return f"""# Reliability matrix

Every tap runs as a real process against the sandbox (real HTTP on 127.0.0.1) under each fault, and
the outcome is asserted (tests/reliability). This table is written by the test run itself
(`./scripts/test`, or `uv run pytest tests/reliability -n 2`) whenever the whole matrix ran; it is the
result of the last such run committed.

{chr(10).join(table())}

n/a: the tap has no such setting (no date setting in tap-voyado and tap-lytics; api_version, a keys
file and a domains list belong to one tap each) or no such step (only tap-voyado downloads an export),
or no such state (no partitioned stream in tap-consentmanager and tap-voyado; tap-consentmanager and
tap-gravito keep nothing but singer-sdk's bookmarks); "vendor credentials" runs on the two simulators whose
vendor is known to send credentials or that carry the variant for the kit's rule (lytics, consentmanager); the
rule itself is the same code for all five.

## Scenarios

{scenarios}

Every scenario runs with each secret setting set to a sentinel value and asserts the sentinel appears
nowhere in the tap's stdout or stderr (see Secrets for the Meltano runs).
Retries run with `retry_max_attempts` 3 and `retry_backoff_seconds` 0.01; "slow" uses
`request_timeout` 1 s and a 2 s delay. The 429 cells assert the elapsed time is at least the
Retry-After (a correctness bound, not a speed test).

The bad-body cells (truncate, html, empty, envelope-error) fault the tap's first request and, in a
second run, a request that serves records mid-sync; the cell shows which outcomes were seen:
"clear error" (exit 1, the last line names the vendor and the endpoint), "exact output" (the fault
was harmless) or "kept and reported" (tap-voyado: a download that is not a zip cannot be fetched
again, because the vendor deletes an export once downloaded; the file is kept, the job's
export_jobs row says `error` and a warning names the key; every other record is exact).

"Exact ground truth" means: per stream, the distinct primary keys equal the simulator's ground truth
(tests/<vendor>/truth.py) and the record count equals a fault-free run's.

## Vendors without an error envelope

{envelopes}

## Kill and resume

The tap is killed with SIGKILL after a seeded random number of Singer messages, three times, each
run starting from the last STATE the previous one emitted, then runs to the end (sandbox size 4 and
20 ms per request, so that every kill lands mid-sync; lookbacks set to 0). The union of the records
(deduplicated by primary key, as a warehouse upserts) equals the ground truth. A record loaded by two
runs is allowed only where the state the later run started from held no position past it: records
after the killed run's last STATE (the uncommitted window), the day a bookmark names (day windows
re-read their bookmarked day), a scan that had finished (tap-lytics re-scans an audience on every run,
a snapshot) and full-table streams. A record the state had passed (an earlier day, a scan page before
the saved cursor) must not come again. "kill after download" uses tap-voyado's test-only hook
(TAP_VOYADO_TEST_CRASH_AFTER_SAVE): the process dies right after an export is on disk, before any STATE.

## SIGTERM and SIGINT

Orchestrators (Airflow, Dagster, Kubernetes, CI runners) stop a run with SIGTERM, a person with Ctrl-C
(SIGINT). A tap then stops within 5 seconds: the records it had buffered are written, then one last
STATE, which covers only records written before it (a bookmark advances only after its record is
written; tap-lytics' scan cursor and tap-voyado's job table only after their page or export was
emitted), and nothing after it. The last stderr line is `tap-x: stopped by SIGTERM; state covers data
emitted so far` and the exit code is 128 + the signal: **143 for SIGTERM, 130 for SIGINT** (what a shell
reports, and non-zero, so a stopped run is never taken for a success). `source-x read` does the same:
a per-stream STATE for every stream with records after its last one, INCOMPLETE stream statuses, a
`transient_error` TRACE with that line, exit 143 (tests/airbyte/test_stop_signals.py).

"SIGTERM and resume" stops each tap three times at seeded random points (SIGTERM, SIGINT, SIGTERM; the
same points on every run), each run resuming from the previous one's last STATE, then runs to the end;
it asserts exit code, the one line, under 5 s from signal to exit, that the last message is a STATE,
and, as "kill and resume" does, that the union of the runs equals the ground truth by key and that no
record the state had passed comes again. "SIGTERM in a slow request" stops a tap whose mid-sync request
hangs for 60 s (request_timeout 120 s): it still ends within 5 s with a last STATE. "SIGTERM after
download" (tap-voyado, TAP_VOYADO_TEST_CRASH_AFTER_SAVE=sigterm) signals the tap right after an export
is on disk: the job stays `done` in the last STATE, the zip is kept, and the resumed run emits every line.

Two things found on the way: singer-sdk's own handler wrote a STATE and exited 0; and CPython's
BufferedWriter drops bytes when a signal interrupts a write larger than its buffer into a full pipe
(a RECORD line was cut in half before the last STATE), so the kit writes its buffer with `os.write`.

## Credentials from the vendor

A vendor field whose name says it is a credential is dropped on every stream of every tap, at any
depth (nested objects, lists of objects, `_extra`): its name, lowercased with separators removed, ends
with apikey, token, secret, password, passwd, authorization, credential or privatekey (or their plural).
So `apikey`, `dataapikey`, `Api-Key`, `access_token`, `client_secret`, `private_key` go; `token_count`,
`password_changed_at`, `api_key_id`, `customer_key` stay (the last word of a name says what it holds).
A stream adds names with `credential_fields` and keeps a non-credential with
`credential_allowed_fields`; no declared column of the five taps falls under the rule (a unit test reads
every schema). One warning per stream and field names it, never its value; the first bytes of a bad body
shown in an error have such values masked. The "vendor credentials" cells switch on a simulator
variant (lytics `account-credentials`: accounts carry `apikey` and `dataapikey`, as Lytics' client
library lists them, which tap-lytics drops itself; consentmanager `credentials`: every row carries
`api_key` and a nested `accessToken`, which the kit's rule drops),
run `meltano run` into DuckDB and into PostgreSQL, and assert exact row counts, that each field is
named once per stream, and that the sentinel value is in no table, no log line, no `meltano state get`
and not in meltano.db. The Airbyte sources drop the same fields (tests/airbyte/test_vendor_credentials.py).

## Spool files

Bodies past 4 MiB (`TAPKIT_SPOOL_MAX_MEMORY`) are spooled to anonymous temporary files in TMPDIR
(O_TMPFILE on Linux, unlinked at once elsewhere), closed as soon as their attempt fails. Every test of
the matrix runs its taps with a TMPDIR of its own and a 1 KiB spool threshold, so every fault above also
goes through spool files, and checks that directory empty at the end (success, errors, retries, kills,
signals). "spool: broken body retried" breaks a body halfway (the connection drops after half of what
Content-Length promised) and expects the retry and the exact ground truth; "spool: SIGTERM mid-body"
stalls a large body halfway, first sees its spool file open in the test's TMPDIR (/proc), then sends
SIGTERM: exit 143 within 5 s, nothing left.

## Secrets

Every tap run of the matrix gets a sentinel for each secret setting and fails if the sentinel shows up
in stdout or stderr (kill-and-resume checks every line as it is read). The "meltano, secrets" cells run
`meltano run <tap> target-jsonl` with the sentinels given as TAP_<NAME>_<SETTING> environment variables
(checked to win over the `sandbox` environment's values), one retried 503 so that the log carries a
warning naming an endpoint, and look for the sentinel in Meltano's log, the loaded files,
`meltano state get` and the system database that keeps the state.

## Bad state

The "state:" cells take the last STATE of a real sync against the sandbox and edit it as a person
might, per tap (tests/reliability/test_bad_state.py): a bookmark (`replication_key_value`, or
tap-lytics' `saved_at`) replaced by an integer, a list, an object, `"yesterday"` or a date in 2099; a
stream renamed; a bookmark field misspelt; a partitioned stream's bookmark moved to the stream level;
the tap's own fields broken (tap-voyado: a job without `requested_at`, or requested in 2099;
tap-claravine: a pending transaction's day `26/11/2026`; tap-lytics: a scan cursor that is a number);
a state file that is not JSON, or `[]`. Each run must exit 1 with a last line
`tap-x: error: invalid state: stream S[, partition K=V], bookmark F: <value> ...`, no traceback, no
RECORD or STATE, and the sandbox must have received no request at all. The check (`tapkit.state`)
runs in the tap's constructor, before discovery (which is a request for tap-claravine and tap-lytics).

Decisions: a stream the tap does not have is refused (most often a misspelt name; ignoring it would
re-read the stream that was meant from its start), except the per-dataset tables of tap-claravine,
named at discovery and matched by their `dataset_` prefix; a bookmark is in the future when it is
later than now plus one hour (`CLOCK_SKEW`), or, for day-window streams (tap-consentmanager's reports,
tap-claravine's transactions), when its day is after tomorrow (UTC), since a day's bookmark holds that
day's last timestamp; the state of a full-table stream is ignored with a warning (a full read loses
nothing). Older shapes: every tap has written the same state since 0.1.0 (their state code's history
shows no other shape), so there is nothing to migrate; Meltano's state-store form
`{{"singer_state": ...}}` and a whole STATE message are unwrapped with a warning. The last STATE of a
sync, bare and in Meltano's form, resumes (exit 0, the bookmarks loaded as written).

## Disk (tap-voyado)

The vendor deletes an export once it has been downloaded, so tap-voyado checks `download_dir` at the
start of a run (before any request) and before each download: it must be creatable and writable (a
file is written and removed: modes do not stop root, a read-only file system does) and hold at least
`download_min_free_mb` free (default 100 MB; Elevate tells an export's size only in the download
itself). The "disk:" cells (tests/voyado/test_disk.py) create jobs, let the sandbox clock make them
downloadable, then run with a `download_dir` below a regular file, or with `download_min_free_mb` at a
petabyte (too full, deterministically): exit 1, one line naming `download_dir`, and no request at all
(the sandbox log is unchanged). The next run with a good folder emits every line, exact against the
simulator's ground truth, with one download per job. By hand, on an 8 kB tmpfs (root can mount one; CI
may not, so it is no test): with `download_min_free_mb` 0 the save of a larger export fails and the run
ends with `export job <jid> for customer key '<key>' was downloaded but could not be saved in
download_dir (No space left on device ...)`, no partial file left; with 1 it stops before the download.
{soak_section()}"""
