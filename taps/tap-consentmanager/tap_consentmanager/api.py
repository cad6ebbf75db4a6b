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
  vendor ids are text ("c52", "s2789", "1"), see `ids.py`;
- `all=1` (type 9 only) lists every custom vendor created, not only those used in a CMP.
"""

from __future__ import annotations

import typing as t

from tap_consentmanager.envelope import DataMember, data_of
from tapkit import VendorApi, VendorResponseError

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Mapping

    from tap_consentmanager.settings import ConsentmanagerSettings
    from tapkit.http import VendorResponse

DATA_PATH = "/api/data.php"
SUCCESS_STATUS = "created"
ROWS_PREFIX = "data.item"


class EnvelopeError(VendorResponseError):
    """The envelope's `status` is not "created"; `vendor_message` is the vendor's `message`."""

    def __init__(self, message: str, status: t.Any, vendor_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.vendor_message = vendor_message


class ConsentmanagerApi(VendorApi):
    """The Data API: one report type over a range of days per request."""

    settings: ConsentmanagerSettings

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

    def check(self, answer: VendorResponse) -> None:
        envelope = answer.scalars(("status", "message"))
        status = envelope.get("status")
        if status != SUCCESS_STATUS:
            message = envelope.get("message") or "(no message)"
            raise EnvelopeError(
                f"{self.vendor}: {answer.described} answered status {status!r}: {message}", status, str(message)
            )

    # -- reading an answer -----------------------------------------------------------------------

    @staticmethod
    def data_of(answer: VendorResponse) -> DataMember:
        """What the envelope's `data` is (array, text, null ...), found without building it."""
        return data_of(answer)

    @staticmethod
    def rows(answer: VendorResponse) -> Iterator[t.Any]:
        """The elements of `data` (an array), parsed incrementally."""
        return answer.items(ROWS_PREFIX)
