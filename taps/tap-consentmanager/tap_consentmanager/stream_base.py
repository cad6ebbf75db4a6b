"""The base of every consentmanager stream: one report type, read from the api's answers.

The vendor's quirks are written, and decided, in `api.py`, where the requests are made.
"""

from __future__ import annotations

import typing as t

from tap_consentmanager.api import ReportShapeError
from tapkit import VendorStream

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers.types import Context

    from tap_consentmanager.api import ConsentmanagerApi
    from tap_consentmanager.settings import ConsentmanagerSettings
    from tapkit import VendorResponse, VendorTap


class ConsentmanagerStream(VendorStream):
    """One report type of the Data API."""

    api: ConsentmanagerApi
    settings: ConsentmanagerSettings
    lenient_numbers = True
    #: the Data API's `type` parameter
    data_type: t.ClassVar[int]

    def __init__(self, tap: VendorTap, *args: t.Any, **kwargs: t.Any):
        super().__init__(tap, *args, **kwargs)
        self._empty_answers: list[tuple[str, str]] = []  # (day or "" for a list, '""' or "null") of empty answers

    @property
    def report_name(self) -> str:
        """How messages name the report: `cmp_report (type 1)`."""
        return f"{self.name} (type {self.data_type})"

    # -- one answer's rows ----------------------------------------------------------------------

    def rows_of(self, answer: VendorResponse, day: dt.date | None, *, close: bool = True) -> Iterator[dict]:
        """The raw rows of one answer (of `day`, for a date-ranged report); its spool is closed after, unless
        the caller reads it again and closes it itself (`close=False`)."""
        try:
            report = self.api.read_report(answer, self.report_name, day)  # the `data` quirk: see api.py
            if report.empty is not None:
                self._empty_answers.append((day.isoformat() if day else "", report.empty))
            yield from report.rows
        finally:
            if close:
                answer.close()

    # -- one report's failure does not stop the others (the kit's isolation: tapkit.isolation) ----

    def guarded(self, records: Iterable[dict], context: Context | None) -> Iterator[dict]:
        """The stream's records; a `ReportShapeError` says where the report stopped, and the kit stops this
        report only (the other reports sync, and the run fails at the end naming it)."""
        try:
            yield from records
        except ReportShapeError as exc:
            raise ReportShapeError(self.name, f"{exc}; {self.stop_note(context)}") from None
        finally:
            self.warn_empty_answers()

    def stop_note(self, context: Context | None) -> str:
        return "no rows of this list were emitted"

    def warn_empty_answers(self) -> None:
        if not self._empty_answers:
            return
        days = [day for day, _ in self._empty_answers if day]
        where = f" for {len(days)} day(s): {', '.join(days)}" if days else ""
        shown = " or ".join(f'`"data": {value}`' for value in sorted({value for _, value in self._empty_answers}))
        self.logger.warning(
            "%s: %s: the vendor answered %s (not a JSON array)%s; taken as no rows.",
            self.vendor,
            self.report_name,
            shown,
            where,
        )
        self._empty_answers.clear()
