"""consentmanager.net Data API: the vendor's quirks, in one place.

- one endpoint, `GET /api/data.php?key=..&type=N&from=..&to=..&output=json`; the key travels in
  the query string (the kit masks it in every message);
- the envelope is {status, message, data}; any status other than "created" is an error that
  shows the vendor's message;
- `data` is documented as `"…" //data payload as csv or json`, while every JSON example is an array:
  an array is read row by row; `""` (or null) is an empty report: zero rows, and one warning per report
  naming it and its days; any other string (CSV text) or shape is a `ReportShapeError`: that report
  stops at its last complete day, the other reports sync, and the run ends non-zero naming it
  (decided in `ConsentmanagerApi.read_report`);
- numbers arrive as strings, so columns declared numeric accept numeric text; custom purpose and
  vendor ids are text ("c52", "s2789", "1"), see `ids.py`;
- `all=1` (type 9 only) lists every custom vendor created, not only those used in a CMP.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from typing_extensions import override

from tap_consentmanager.envelope import TEXT, DataMember, data_of
from tapkit import VendorApi, VendorResponseError

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Mapping

    from tap_consentmanager.settings import ConsentmanagerSettings
    from tapkit.http import VendorResponse

DATA_PATH = "/api/data.php"
SUCCESS_STATUS = "created"
ROWS_PREFIX = "data.item"


class ReportShapeError(VendorResponseError):
    """A report's `data` is not a JSON array (CSV text, an object ...): that report cannot be read."""

    def __init__(self, stream: str, message: str) -> None:
        super().__init__(message)
        self.stream = stream


def on_day(day: dt.date | None) -> str:
    """How messages name the day a date-ranged report asked for (" on 2026-11-30"); empty for a list."""
    return f" on {day.isoformat()}" if day is not None else ""


@dataclass(frozen=True)
class Report:
    """What one answer's `data` holds: its rows, or, for an empty report, how it was empty."""

    rows: Iterator[t.Any]
    #: '""' or "null" for an empty report (no rows); None for an array
    empty: str | None = None


class EnvelopeError(VendorResponseError):
    """The envelope's `status` is not "created"; `vendor_message` is the vendor's `message`."""

    def __init__(self, message: str, status: t.Any, vendor_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.vendor_message = vendor_message


class ConsentmanagerApi(VendorApi):
    """The Data API: one report type over a range of days per request."""

    settings: ConsentmanagerSettings

    @override
    def auth_params(self) -> dict[str, t.Any]:
        return {"key": self.settings.api_key}

    def report(
        self,
        data_type: int,
        first: dt.date,
        last: dt.date,
        *,
        all_entries: bool = False,
        context: Mapping[str, t.Any] | None = None,
    ) -> VendorResponse:
        """Report `data_type` for the days `first` to `last` (the envelope checked; `data` not yet read).
        Reference lists ignore the days, but the vendor expects them. `all_entries`: `all=1`."""
        params: dict[str, t.Any] = {
            "type": data_type,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "output": "json",
        }
        if all_entries:
            params["all"] = 1
        return self.get(DATA_PATH, params, endpoint=DATA_PATH, context=context)

    @override
    def check(self, answer: VendorResponse) -> None:
        envelope = answer.scalars(("status", "message"))
        status = envelope.get("status")
        if status != SUCCESS_STATUS:
            message = envelope.get("message") or "(no message)"
            raise EnvelopeError(
                f"{self.vendor}: {answer.described} answered status {status!r}: {message}", status, str(message)
            )

    # -- reading an answer -----------------------------------------------------------------------

    def read_report(self, answer: VendorResponse, report: str, day: dt.date | None) -> Report:
        """The rows of one answer of `report` (of `day`, for a date-ranged one), as the module doc says:
        an array's elements; no rows for an empty report; a `ReportShapeError` for anything else."""
        data = self.data_of(answer)
        if data.is_array:
            return Report(self.rows(answer))
        if data.is_empty_report:
            return Report(iter(()), empty='""' if data.kind == TEXT else "null")
        raise ReportShapeError(
            self.metric_stream,
            f"{report}{on_day(day)}: `data` is {data.describe()}, not the JSON array the tap reads "
            "(it asks output=json)",
        )

    @staticmethod
    def data_of(answer: VendorResponse) -> DataMember:
        """What the envelope's `data` is (array, text, null ...), found without building it."""
        return data_of(answer)

    @staticmethod
    def rows(answer: VendorResponse) -> Iterator[t.Any]:
        """The elements of `data` (an array), parsed incrementally."""
        return answer.items(ROWS_PREFIX)
