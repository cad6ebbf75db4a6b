"""tapkit.isolation's ledger and rules, without a server: what counts as a part's fault, one line per failed
part (a part shared by several streams is one entry), the closing error, and what a failed part's state keeps.
The behaviour in real runs is tested per tap in tests/reliability/test_failing_part.py and
tests/airbyte/test_failing_part.py."""

from __future__ import annotations

import logging

import pytest

from tapkit import AuthenticationError, ConfigError, RetriesExhaustedError, VendorResponseError
from tapkit.isolation import FailedParts, PartsFailedError, drop_uncommitted, is_part_fault

EXHAUSTED = RetriesExhaustedError("Vendor: GET /x failed after 3 attempts: HTTP 500")
UNREADABLE = VendorResponseError("Vendor: GET /y returned HTTP 200 with a body that is not valid JSON")


@pytest.mark.parametrize(
    ("exc", "is_fault"),
    [
        (EXHAUSTED, True),
        (UNREADABLE, True),
        (AuthenticationError("authentication failed: check api_key (HTTP 401)"), False),
        (ConfigError("setting x must be positive"), False),
        (ValueError("a bug"), False),
        (KeyboardInterrupt(), False),
    ],
)
def test_only_exhausted_retries_and_unreadable_answers_are_a_parts_fault(exc, is_fault) -> None:
    assert is_part_fault(exc) is is_fault


def test_a_part_shared_by_streams_is_one_entry_and_one_line(caplog) -> None:
    ledger = FailedParts(logging.getLogger("tap-test"))
    with caplog.at_level(logging.ERROR):
        for stream in ("microprofiles", "consents"):
            ledger.add(stream, "domain b.example", EXHAUSTED, vendor="Vendor")
        ledger.add("segments", "", UNREADABLE, vendor="Vendor")
    assert [record.getMessage() for record in caplog.records] == [
        f"Vendor: stream microprofiles (domain b.example) failed and is skipped, the other parts go on: {EXHAUSTED}",
        f"Vendor: stream segments failed and is skipped, the other parts go on: {UNREADABLE}",
    ]
    error = ledger.error()
    assert isinstance(error, PartsFailedError)
    assert str(error) == (
        f"2 part(s) failed, every other part synced: microprofiles, consents (domain b.example): {EXHAUSTED} | "
        f"segments: {UNREADABLE}"
    )
    assert error.streams == {"microprofiles", "consents", "segments"}
    assert error.transient is False  # one cause is an unreadable answer: a later run may fail again
    assert ledger.failed_streams() == {"microprofiles", "consents", "segments"}


def test_no_failed_part_is_no_error_and_exhausted_retries_alone_are_transient() -> None:
    ledger = FailedParts(logging.getLogger("tap-test"))
    assert ledger.error() is None
    ledger.add("consents", "domain b.example", EXHAUSTED, vendor="Vendor")
    error = ledger.error()
    assert error is not None and error.transient is True


def test_the_guard_ends_a_partitions_records_at_the_fault_and_drops_its_uncommitted_progress() -> None:
    ledger = FailedParts(logging.getLogger("tap-test"))
    state = {"replication_key_value": "2026-01-01", "progress_markers": {"replication_key_value": "2026-02-01"}}

    def records():
        yield {"n": 1}
        raise EXHAUSTED

    got = list(ledger.guard("consents", records(), lambda: state, {"domain": "b.example"}, vendor="Vendor"))
    assert got == [{"n": 1}]
    assert state == {"replication_key_value": "2026-01-01"}  # what it had committed, and nothing more
    assert [part.part for part in ledger.error().failed] == ["domain b.example"]


def test_the_guard_lets_every_other_exception_through_untouched() -> None:
    ledger = FailedParts(logging.getLogger("tap-test"))
    state = {"progress_markers": {"replication_key_value": "2026-02-01"}}

    def records():
        yield {"n": 1}
        raise AuthenticationError("authentication failed: check api_key (HTTP 401)")

    with pytest.raises(AuthenticationError):
        list(ledger.guard("consents", records(), lambda: state, None, vendor="Vendor"))
    assert "progress_markers" in state
    assert ledger.error() is None


def test_a_part_guard_skips_one_part_of_a_streams_own_loop() -> None:
    ledger = FailedParts(logging.getLogger("tap-test"))
    done = []
    for key in ("a", "b", "c"):
        with ledger.part("export_jobs", {"customer_key": key}, vendor="Vendor") as part:
            if key == "b":
                raise UNREADABLE
            done.append(key)
        assert part.failed is (key == "b")
    assert done == ["a", "c"]
    assert str(ledger.error()).endswith(f"export_jobs (customer_key b): {UNREADABLE}")


def test_drop_uncommitted_clears_a_streams_partitions_too() -> None:
    state = {
        "progress_markers": {"x": 1},
        "partitions": [{"context": {"d": "a"}, "progress_markers": {"x": 2}, "replication_key_value": "v"}],
    }
    drop_uncommitted(state)
    assert state == {"partitions": [{"context": {"d": "a"}, "replication_key_value": "v"}]}
