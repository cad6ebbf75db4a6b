"""The reliability matrix: every scenario, in the order of the summary table, and the cells that do
not apply to a tap (with the reason the table prints)."""

from __future__ import annotations

from tests.reliability.config_faults import FILE_SCENARIOS, SHARED_SETTING_SCENARIOS, bad_config_scenarios
from tests.reliability.taps import TAPS

SCENARIOS: dict[str, str] = {
    "429-seconds": "429, Retry-After in seconds: waits, then exact ground truth",
    "429-date": "429, Retry-After as an HTTP date: waits, then exact ground truth",
    "500": "500 once: retried, exact ground truth",
    "502": "502 once: retried, exact ground truth",
    "503": "503 once: retried, exact ground truth",
    "reset": "connection reset once: retried, exact ground truth",
    "slow": "response slower than request_timeout once: retried, exact ground truth",
    "429-always": "429 on every try: exit 1 after retry_max_attempts, one line",
    "500-always": "500 on every try: exit 1 after retry_max_attempts, one line",
    "502-always": "502 on every try: exit 1 after retry_max_attempts, one line",
    "503-always": "503 on every try: exit 1 after retry_max_attempts, one line",
    "reset-always": "reset on every try: exit 1 after retry_max_attempts, one line",
    "slow-always": "too slow on every try: exit 1 after retry_max_attempts, one line",
    "one partition always fails": "one domain, audience, dataset, customer key or report answers 500 (or an "
    "unreadable body) on every try: it alone is skipped, one line; the rest exact with its final STATE; its own "
    "state as the run found it; exit 1, last line lists it",
    "401": "401: exit 1 before any record, names the setting",
    "403": "403: exit 1 before any record, names the setting",
    "truncate": "truncated JSON with 200: clear error or exact output",
    "html": "HTML error page with 200: clear error or exact output",
    "empty": "empty body with 200: clear error or exact output",
    "envelope-error": "error envelope with 200: clear error or exact output",
    **FILE_SCENARIOS,
    **SHARED_SETTING_SCENARIOS,
    "config: malformed date": "a malformed date: one line, no request",
    "config: unknown api_version": "an unknown api_version: one line, no request",
    "config: empty domains list": "an empty domains list: one line, no request",
    "config: missing customer_keys_file": "a customer_keys_file that does not exist: one line, no request",
    "drift: add": "a new vendor field: completes, value in _extra, one warning",
    "drift: remove": "a vendor field gone: completes with exact ground truth",
    "drift: retype": "a number turned string: completes, value in _extra, one warning",
    "kill and resume": "SIGKILL at seeded random points, resume from last STATE: nothing lost",
    "kill after download": "the process dies right after the export download: nothing lost",
    "SIGTERM and resume": "SIGTERM/SIGINT at seeded random points: exit 143/130 within 5 s, one line, "
    "last message a STATE; resumed from it, nothing lost",
    "SIGTERM in a slow request": "SIGTERM while a request hangs for 60 s: stopped within 5 s, last message a STATE",
    "SIGTERM after download": "SIGTERM right after the export download: the zip is kept, emitted on resume",
    "SIGTERM during download": "SIGTERM while an export is half downloaded: the download finishes and is saved, "
    "then the stop; emitted on resume",
    "meltano, secrets": "meltano run into target-jsonl: sentinel secrets absent from log and state",
    "vendor credentials": "credential-named vendor fields (sentinel values) through meltano into DuckDB and "
    "PostgreSQL: exact rows, sentinel in no table, log or state, each field named in one warning per stream",
    "spool: broken body retried": "a body that breaks halfway is retried: exact ground truth, no spool file left",
    "spool: SIGTERM mid-body": "SIGTERM while a large body is half spooled: exit 143 within 5 s, no spool file left",
    "state: wrong type": "a bookmark that is an integer, a list or an object: "
    "one line naming stream and bookmark, no request",
    "state: unparsable date": "a bookmark that is no date: one line naming stream and bookmark, no request",
    "state: bookmark in the future": "a bookmark in 2099: one line naming stream and bookmark, no request",
    "state: unknown stream": "a stream the tap does not have (a misspelt name): one line, no request",
    "state: unknown bookmark field": "a misspelt bookmark field: one line naming stream and field, no request",
    "state: bookmark outside its partition": "a partitioned stream's bookmark at "
    "the stream level: one line, no request",
    "state: tap's own fields": "a malformed job table, pending transaction or scan cursor: one line, no request",
    "state: not a state object": "a state file that is not JSON, or a list: one line, no request",
    "state: the tap's own, bare or wrapped": "the last STATE of a sync, bare or in Meltano's form: resumes from it",
    "disk: download_dir unwritable": "a download_dir below a file: one line before any request; later run exact",
    "disk: download_dir too full": "less free than download_min_free_mb: one line before any request; later run exact",
}

#: scenarios for a tap's own state and steps: they apply to the taps whose profile lists them (own_scenarios)
OWN_SCENARIOS = frozenset().union(*(tap.own_scenarios for tap in TAPS.values()))

#: what the simulators send for "envelope-error" where their APIs document none
NO_ERROR_ENVELOPE = {vendor: tap.no_error_envelope for vendor, tap in TAPS.items() if tap.no_error_envelope}


def applies(scenario: str, vendor: str) -> bool:
    if scenario.startswith("config: "):
        return scenario in bad_config_scenarios(vendor)
    profile = TAPS[vendor]
    if scenario == "vendor credentials":  # the simulators with a "credentials" variant
        return profile.credentials is not None
    if scenario == "state: bookmark outside its partition":
        return profile.partitioned_state
    return scenario not in OWN_SCENARIOS or scenario in profile.own_scenarios


def cells() -> list[tuple[str, str]]:
    """Every (scenario, tap vendor) the full matrix runs."""
    return [(scenario, vendor) for scenario in SCENARIOS for vendor in TAPS if applies(scenario, vendor)]
