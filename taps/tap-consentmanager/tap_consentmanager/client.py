"""consentmanager.net Data API: the vendor's quirks, in one place.

- one endpoint, `GET /api/data.php?key=..&type=N&from=..&to=..&output=json`; the key travels in
  the query string (the kit masks it in every message);
- the envelope is {status, message, data}; any status other than "created" is an error that
  shows the vendor's message;
- `data` is documented as `"…" //data payload as csv or json`, while every JSON example is an array:
  an array is read row by row; `""` (or null) is an empty report: zero rows, and one warning per report
  naming it and its days; any other string (CSV text) or shape is a `ReportShapeError`: that report
  stops at its last complete day, the other reports sync, and the run ends non-zero naming it;
- numbers arrive as strings, so columns declared numeric accept numeric text; custom purpose and
  vendor ids are text ("c52", "s2789", "1"), see `ids.py`.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import requests

from tap_consentmanager.envelope import TEXT, DataMember, data_member
from tapkit import VendorResponseError
from tapkit.body import BodyDecodeError
from tapkit.http import describe_request
from tapkit.legacy import LegacyVendorStream as VendorStream  # until this tap asks through its api.py
from tapkit.windows import parse_day, utc_today

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SUCCESS_STATUS = "created"


class EnvelopeError(VendorResponseError):
    """The envelope's `status` is not "created"; `vendor_message` is the vendor's `message`."""

    def __init__(self, message: str, status: t.Any, vendor_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.vendor_message = vendor_message


class ReportShapeError(VendorResponseError):
    """A report's `data` is not a JSON array (CSV text, an object ...): that report cannot be read."""

    def __init__(self, stream: str, message: str) -> None:
        super().__init__(message)
        self.stream = stream


class ConsentmanagerStream(VendorStream):
    """One report type of the Data API."""

    path = "/api/data.php"
    records_prefix = "data.item"
    lenient_numbers = True
    #: the Data API's `type` parameter
    data_type: t.ClassVar[int]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._empty_answers: list[tuple[str, str]] = []  # (day or "" for a list, '""' or "null") of empty answers

    @property
    def report_name(self) -> str:
        """How messages name the report: `cmp_report (type 1)`."""
        return f"{self.name} (type {self.data_type})"

    def request_window(self, context: Context | None) -> tuple[dt.date, dt.date]:
        """from/to of the request; reference lists ignore them, but the vendor expects them."""
        end = self.config.get("end_date")
        return parse_day(self.config["start_date"]), parse_day(end) if end else utc_today()

    def window_label(self) -> str:
        """The day a date-ranged report asks for (" on 2026-11-30"); empty for a list."""
        return ""

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        first, last = self.request_window(context)
        params: dict[str, t.Any] = {
            "key": self.config["api_key"],
            "type": self.data_type,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "output": "json",
        }
        return params

    # -- the envelope ---------------------------------------------------------------------------

    def check_status(self, response: requests.Response) -> None:
        envelope = self.body_scalars(response, ("status", "message"))
        status = envelope.get("status")
        if status != SUCCESS_STATUS:
            message = envelope.get("message") or "(no message)"
            raise EnvelopeError(
                f"{self.vendor}: {describe_request(response.request)} answered status {status!r}: {message}",
                status,
                str(message),
            )

    def data_of(self, response: requests.Response) -> DataMember:
        try:
            return data_member(response.body)  # type: ignore[attr-defined]
        except BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        self.check_status(response)
        data = self.data_of(response)
        if data.is_array:
            yield from self.iter_body_items(response)
        elif data.is_empty_report:
            self._empty_answers.append(
                (self.window_label().removeprefix(" on "), '""' if data.kind == TEXT else "null")
            )
        else:
            raise ReportShapeError(
                self.name,
                f"{self.report_name}{self.window_label()}: `data` is {data.describe()}, not the JSON array the tap "
                f"reads (it asks output=json)",
            )

    # -- one report's failure does not stop the others -------------------------------------------

    def guarded(self, records: t.Iterable[dict]) -> t.Iterator[dict]:
        """The stream's records; a `ReportShapeError` stops this report only (the tap fails the run at the end)."""
        try:
            yield from records
        except ReportShapeError as exc:
            problem = f"{exc}; {self.stop_note()}"
            self.logger.error("%s: %s; the other reports go on", self.vendor, problem)
            self._tap.report_failed(self.report_name, problem)  # type: ignore[attr-defined]
        finally:
            self.warn_empty_answers()

    def stop_note(self) -> str:
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

    # -- one request, for the probe ----------------------------------------------------------------

    def fetch(self, context: Context | None = None) -> requests.Response:
        """One request through the tap's client (rate limit, retries, scrubbing), the status checked."""
        prepared = self.prepare_request(context, next_page_token=None)
        response = self.request_decorator(self._request)(prepared, context)
        self.check_status(response)
        return response
