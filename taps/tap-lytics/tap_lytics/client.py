"""Lytics API: the vendor's quirks, in one place.

- auth is the raw token in `Authorization` (no `Bearer` prefix);
- every answer is an envelope {data, status, message, request_id}; `status` is sometimes the
  string "200" (go-lytics notes it), so both forms count as success, and any other status is an
  error showing the vendor's message, even when the HTTP status is 200; an envelope status of 429
  or 5xx (the vendor's "server error, retry with backoff") is retried like the HTTP status would be;
- path segments (tables, identity values such as emails, request ids) are percent-encoded whole;
- an HTTP 404 with a Lytics error body on a lookup means "no such entity", which streams that look
  things up report as a record rather than a failure.

From newer public evidence (vendor-evidence.md; each checked by `tap-lytics --probe`, see probe.py):
- account records may carry the API keys `apikey` and `dataapikey` (lytics-js): `AccountsStream` drops them;
- profiles carry `_uids`, an array, not a scalar `_uid`, and scan rows only their populated fields: members
  are keyed by `identity.MemberKey` (profile_key, else the schema's identity fields), unkeyed rows counted;
- numbers and booleans may arrive as text ("100", "t"): `scalars.ScalarTyping` types them by the schema;
- a scan page holds at most 100 rows whatever `limit` asks, and `_next` can stay the same from page to page:
  `limit` is at most 100, and `scan_pages` ends a scan once a page brings no unseen member.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus
from urllib.parse import quote

import requests
from singer_sdk.exceptions import RetriableAPIError

from tapkit import VendorResponseError
from tapkit import body as bodies
from tapkit.http import describe_request
from tapkit.legacy import LegacyVendorStream as VendorStream  # until this tap asks through its api.py

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SUCCESS_STATUS = "200"


def is_success(status: t.Any) -> bool:
    return status is not None and str(status).strip() == SUCCESS_STATUS


def is_transient(status: t.Any) -> bool:
    """An envelope status worth another try: 429 (rate limited) or any 5xx."""
    code = str(status).strip()
    return code.isdigit() and (int(code) == HTTPStatus.TOO_MANY_REQUESTS or 500 <= int(code) <= 599)


class LyticsStream(VendorStream):
    """One Lytics resource; `path` may name `{table}` and the keys of the request context."""

    records_prefix = "data.item"
    #: tolerate HTTP 404 (an unknown entity): `parse_response` then yields `not_found_row()`.
    lookup: t.ClassVar[bool] = False

    @property
    def http_headers(self) -> dict:
        return {**super().http_headers, "Authorization": self.config["api_key"]}

    def get_url(self, context: Context | None) -> str:
        values = {"table": self.config["table"], **(context or {})}
        encoded = {name: quote(str(value), safe="") for name, value in values.items()}
        return self.url_base + str(self.path).format_map(encoded)

    def validate_response(self, response: requests.Response) -> None:
        if self.lookup and self.is_unknown_entity(response):
            return
        super().validate_response(response)
        # Inside the retried request: a transient error envelope behind HTTP 200 is tried again.
        envelope = self.body_scalars(response, ("status", "message"))
        if is_transient(envelope.get("status")):
            message = envelope.get("message") or "(no message)"
            raise RetriableAPIError(f"envelope status {envelope.get('status')!r}: {message}", response)

    def is_unknown_entity(self, response: requests.Response) -> bool:
        """A 404 with the Lytics error envelope (not, say, an HTML 404 from a wrong api_url)."""
        if response.status_code != HTTPStatus.NOT_FOUND:
            return False
        try:
            document = bodies.decode_document(response.body)  # type: ignore[attr-defined]
        except bodies.BodyDecodeError:
            return False
        return isinstance(document, dict) and str(document.get("status")) == "404"

    # -- envelope ----------------------------------------------------------------------------------

    def check_envelope(self, status: t.Any, message: t.Any, response: requests.Response) -> None:
        if not is_success(status):
            raise VendorResponseError(
                f"{self.vendor}: {describe_request(response.request)} answered status {status!r}: "
                f"{message or '(no message)'}"
            )

    def envelope_document(self, response: requests.Response) -> dict:
        """The whole envelope of a small (single-object) answer, checked."""
        try:
            document = bodies.decode_document(response.body)  # type: ignore[attr-defined]
        except bodies.BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None
        if not isinstance(document, dict):
            raise VendorResponseError(self.bad_response_message(response, "a body that is not an envelope"))
        self.check_envelope(document.get("status"), document.get("message"), response)
        return document

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        if self.lookup and self.is_unknown_entity(response):
            yield self.not_found_row()
            return
        envelope = self.body_scalars(response, ("status", "message"))
        self.check_envelope(envelope.get("status"), envelope.get("message"), response)
        yield from self.iter_body_items(response)

    def not_found_row(self) -> dict:
        return {"found": False}


class LyticsObjectStream(LyticsStream):
    """An endpoint whose `data` is one object: it yields that object as the only row."""

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        if self.lookup and self.is_unknown_entity(response):
            yield self.not_found_row()
            return
        data = self.envelope_document(response).get("data")
        if not isinstance(data, dict):
            raise VendorResponseError(self.bad_response_message(response, "no object in `data`"))
        yield {"found": True, **data} if self.lookup else data
