"""Reports that stopped on an answer the tap cannot read: the others go on, the run fails at the end.

The tap builds one `StoppedReports` and hands it to every stream; a stream notes its report here
when it stops, and the tap reads it once every stream has synced (see `TapConsentmanager.run_sync`).
"""

from __future__ import annotations

from tapkit import TapkitError


class ReportsStoppedError(TapkitError):
    """Some reports could not be read (their `data` was not a JSON array); the others synced."""


class StoppedReports:
    """The ledger of stopped reports, in the order they stopped."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []  # (report, problem)

    def add(self, report: str, problem: str) -> None:
        self.problems.append((report, problem))

    def error(self) -> ReportsStoppedError | None:
        """The run's closing error, or None when every report synced."""
        if not self.problems:
            return None
        # Each problem starts with its report's name: `cmp_report (type 1) on 2026-11-30: ...`.
        details = " | ".join(problem for _, problem in self.problems)
        return ReportsStoppedError(f"{len(self.problems)} report(s) stopped, every other report synced: {details}")
