"""consentmanager.net Data API: the vendor's quirks, in one place.

- one endpoint, `GET /api/data.php?key=..&type=N&from=..&to=..&output=json`; the key travels in
  the query string (the kit masks it in every message);
- the envelope is {status, message, data}; any status other than "created" is an error that
  shows the vendor's message;
- numbers arrive as strings, so columns declared numeric accept numeric text.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import requests
from tapkit import VendorResponseError, VendorStream
from tapkit.windows import parse_day, utc_today

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SUCCESS_STATUS = "created"


class ConsentmanagerStream(VendorStream):
    """One report type of the Data API."""

    path = "/api/data.php"
    records_prefix = "data.item"
    lenient_numbers = True
    #: the Data API's `type` parameter
    data_type: t.ClassVar[int]

    def request_window(self, context: Context | None) -> tuple[dt.date, dt.date]:
        """from/to of the request; reference lists ignore them, but the vendor expects them."""
        end = self.config.get("end_date")
        return parse_day(self.config["start_date"]), parse_day(end) if end else utc_today()

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

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        envelope = self.body_scalars(response, ("status", "message"))
        status = envelope.get("status")
        if status != SUCCESS_STATUS:
            message = envelope.get("message") or "(no message)"
            raise VendorResponseError(
                f"{self.vendor}: {self._endpoint(response)} answered status {status!r}: {message}"
            )
        yield from self.iter_body_items(response)

    def _endpoint(self, response: requests.Response) -> str:
        from tapkit.streams import describe_request

        return describe_request(response.request)
