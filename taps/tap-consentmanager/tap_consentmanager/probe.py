"""`tap-consentmanager --probe`: the tap's assumptions about the Data API, checked with four read-only GETs.

1. yesterday's CMP report (type 1, from=to=yesterday): the key is accepted, `data` is an array, keys are
   unique within the day, the rows are of the day asked;
2. the custom purpose list (type 10) and 3. the custom vendor list (type 9): `data` is an array, ids are text;
4. the consent log (type 19) of today - 8: no longer served (archived after seven days), and what an
   empty report's `data` looks like.
Every request goes through the tap's own client (rate limit, retries, the key masked).
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

from tap_consentmanager.api import ConsentmanagerApi, EnvelopeError
from tap_consentmanager.duplicates import DuplicateKeys
from tap_consentmanager.envelope import DataMember
from tap_consentmanager.streams import CmpReportStream, ConsentLogStream, CustomPurposesStream, CustomVendorsStream
from tapkit import AuthenticationError, TapkitError
from tapkit import probe as kit
from tapkit.windows import utc_today

if t.TYPE_CHECKING:
    from tap_consentmanager.settings import ConsentmanagerSettings
    from tapkit.tap import VendorTap

ARCHIVED_DAY_OFFSET = 8  # the consent log keeps seven days, today included


@dataclass
class Answer:
    data_type: int
    asked: str
    data: DataMember | None = None
    rows: list[dict] = field(default_factory=list)
    error: TapkitError | None = None

    @property
    def shown(self) -> str:
        if isinstance(self.error, EnvelopeError):  # the vendor's own words first, before the URL
            return f"status {self.error.status!r}: {self.error.vendor_message}"
        if self.error is not None:
            return str(self.error)
        assert self.data is not None
        if self.data.is_empty_report:
            return 'data is ""' if self.data.text == "" else "data is null"
        return f"{len(self.rows)} rows" if self.data.is_array else f"data is {self.data.describe()}"


def ask(
    api: ConsentmanagerApi, data_type: int, first: dt.date, last: dt.date, *, day: bool, all_entries: bool = False
) -> Answer:
    """One GET of one report type (`day`: one day of a date-ranged report); errors are kept, not raised."""
    window = f" from=to={first.isoformat()}" if day else ""
    answer = Answer(data_type, f"GET type={data_type}{window}")
    try:
        response = api.report(data_type, first, last, all_entries=all_entries)
        try:
            answer.data = api.data_of(response)
            if answer.data.is_array:
                answer.rows = [row for row in api.rows(response) if isinstance(row, dict)]
        finally:
            response.close()
    except TapkitError as exc:
        answer.error = exc
    return answer


def probe(tap: VendorTap[ConsentmanagerSettings]) -> t.Iterator[kit.ProbeResult]:
    api = tap.api.for_stream("probe")
    assert isinstance(api, ConsentmanagerApi)
    today = utc_today()
    yesterday = today - dt.timedelta(days=1)
    # the lists ask the sync's own window (the vendor expects from/to; lists ignore them)
    first, last = tap.settings.start_date, tap.settings.end_date or today
    archived_day = today - dt.timedelta(days=ARCHIVED_DAY_OFFSET)
    report = ask(api, CmpReportStream.data_type, yesterday, yesterday, day=True)
    purposes = ask(api, CustomPurposesStream.data_type, first, last, day=False)
    vendors = ask(
        api,
        CustomVendorsStream.data_type,
        first,
        last,
        day=False,
        all_entries=tap.settings.custom_vendors_all,
    )
    archived = ask(api, ConsentLogStream.data_type, archived_day, archived_day, day=True)

    yield key_accepted(report)
    yield data_is_array([report, purposes, vendors])
    yield empty_report_is_empty_array(archived)
    yield consent_log_archived(archived)
    yield custom_ids_are_text(purposes, vendors)
    yield report_keys_unique(report)
    yield rows_of_the_day_asked(report, yesterday)


def key_accepted(report: Answer) -> kit.ProbeResult:
    assumption = "the API key is accepted in the query string (key=…)"
    error = report.error
    if error is None:
        return kit.result(assumption, report.asked, 'status "created"', True)
    # HTTP 401/403, or an error envelope whose own message is about the key ("Missing or invalid key")
    refused = isinstance(error, AuthenticationError) or (
        isinstance(error, EnvelopeError) and "key" in error.vendor_message.lower()
    )
    if refused:
        return kit.result(assumption, report.asked, report.shown, False)
    return kit.could_not_tell(assumption, report.asked, report.shown)


def data_is_array(answers: list[Answer]) -> kit.ProbeResult:
    assumption = "a report's `data` is a JSON array (output=json), not CSV text"
    asked = "; ".join(a.asked for a in answers)
    shown = "; ".join(f"type {a.data_type}: {a.shown}" for a in answers)
    read = [
        a for a in answers if a.data is not None and not a.data.is_empty_report
    ]  # `""` is judged as an empty report
    if any(a.data is not None and not a.data.is_array for a in read):
        return kit.result(assumption, asked, shown, False)
    if not read:
        return kit.could_not_tell(assumption, asked, shown)
    return kit.result(assumption, asked, shown, True)


def empty_report_is_empty_array(archived: Answer) -> kit.ProbeResult:
    assumption = 'an empty report answers `"data": []` (the tap also takes `""` as empty, with a warning)'
    if archived.data is None:
        return kit.could_not_tell(assumption, archived.asked, archived.shown)
    if archived.data.is_empty_report:
        return kit.result(assumption, archived.asked, archived.shown, False)
    if archived.data.is_array and not archived.rows:
        return kit.result(assumption, archived.asked, "data is []", True)
    return kit.could_not_tell(assumption, archived.asked, f"{archived.shown} (not an empty report)")


def consent_log_archived(archived: Answer) -> kit.ProbeResult:
    assumption = "the consent log serves only the last 7 days (the tap asks no older day)"
    if archived.data is None:
        return kit.could_not_tell(assumption, archived.asked, archived.shown)
    if archived.data.is_empty_report or (archived.data.is_array and not archived.rows):
        return kit.result(assumption, archived.asked, "no rows", True)
    if archived.data.is_array:
        return kit.result(assumption, archived.asked, f"{len(archived.rows)} rows of an archived day", False)
    return kit.could_not_tell(assumption, archived.asked, archived.shown)


def custom_ids_are_text(purposes: Answer, vendors: Answer) -> kit.ProbeResult:
    assumption = 'custom purpose and vendor ids arrive as JSON strings ("c52", "1")'
    asked = f"{purposes.asked}; {vendors.asked}"
    ids = [(name, row.get("id")) for name, a in (("purposes", purposes), ("vendors", vendors)) for row in a.rows]
    if not ids:
        errors = "; ".join(a.shown for a in (purposes, vendors))
        return kit.could_not_tell(assumption, asked, f"no ids to look at ({errors})")
    shown = "; ".join(
        f"{name}: {', '.join(repr(value) for kind, value in ids if kind == name)[:60] or 'none'}"
        for name in ("purposes", "vendors")
    )
    return kit.result(assumption, asked, shown, all(isinstance(value, str) for _, value in ids))


def report_keys_unique(report: Answer) -> kit.ProbeResult:
    assumption = "cmp_report: no two rows of a day share the primary key (the documented dimensions)"
    if report.data is None or not report.data.is_array or not report.rows:
        return kit.could_not_tell(assumption, report.asked, report.shown)
    duplicates = DuplicateKeys(CmpReportStream.vendor_keys)
    duplicates.check(report.rows)
    if duplicates.repeats:
        return kit.result(assumption, report.asked, duplicates.summary(), False)
    return kit.result(assumption, report.asked, f"{len(report.rows)} rows, {len(report.rows)} keys", True)


def rows_of_the_day_asked(report: Answer, day: dt.date) -> kit.ProbeResult:
    assumption = "from=to=D answers the rows dated D only (whole days, `to` inclusive)"
    if report.data is None or not report.data.is_array or not report.rows:
        return kit.could_not_tell(assumption, report.asked, report.shown)
    dates = sorted({str(row.get("date")) for row in report.rows})
    return kit.result(assumption, report.asked, f"dates: {', '.join(dates)}", dates == [day.isoformat()])
