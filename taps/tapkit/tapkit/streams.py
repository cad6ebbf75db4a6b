"""The base REST stream every tap builds on.

What it adds to singer-sdk's `RESTStream`:
- `request_timeout` and a retry policy that honours `Retry-After` (see `tapkit.retry`);
- client-side pacing (`max_requests_per_second`), shared by all streams of a tap;
- the whole body read inside the retried request into a spooled buffer, then parsed
  incrementally when large (see `tapkit.body`);
- errors a person can act on: 401/403 name the setting to check; a bad body names the endpoint,
  the HTTP status and the first bytes; every message is scrubbed of secrets;
- schema-driven shaping into typed snake_case records with `_extra` for drift (`tapkit.shaping`).
"""

from __future__ import annotations

import functools
import time
import typing as t
from functools import cached_property
from http import HTTPStatus

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams import RESTStream

from tapkit import body as bodies
from tapkit import retry
from tapkit.credentials import CredentialFilter, mask_in_text
from tapkit.errors import AuthenticationError, RetriesExhaustedError, VendorResponseError
from tapkit.http import describe_network_error, describe_request
from tapkit.seam import SeamStream
from tapkit.secrets import scrub
from tapkit.shaping import RecordShaper

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tapkit.tap import VendorTap

RETRY_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.REQUEST_TIMEOUT})


class VendorStream(SeamStream, RESTStream):
    """A stream of one vendor resource: it asks the tap's API client (`self.api`) and shapes rows.

    What a stream needs of its tap is handed over when it is built (`api`, `prefetch`, `vendor`);
    it never reaches back into the tap or another stream."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # the shaper types every value itself

    #: ijson prefix of the records array in a response ("item" = the body is the array).
    records_prefix: str = "item"
    #: vendor field -> column, where snake_case of the vendor name is not the column.
    field_renames: t.ClassVar[dict[str, str]] = {}
    #: accept "3" for an integer column (vendors that send every number as text).
    lenient_numbers: bool = False
    #: vendor fields to drop as credentials besides those the kit's rule finds (see tapkit.credentials).
    credential_fields: t.ClassVar[frozenset[str]] = frozenset()
    #: vendor fields the rule would drop that are not credentials in this stream (kept).
    credential_allowed_fields: t.ClassVar[frozenset[str]] = frozenset()

    def __init__(self, tap: VendorTap, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(tap, *args, **kwargs)
        #: the tap's API client under this stream's name (its requests count in this stream's metrics)
        self.api = tap.api.for_stream(self.name)
        #: ordered prefetch of partitions with `max_concurrency` workers, closed by the tap at the end
        self.prefetch = tap.prefetch
        self.vendor_name = tap.vendor_name
        self.auth_settings = tap.auth_settings

    _tap: VendorTap  # the transitional RESTStream request path below; streams use `self.api`

    # -- settings -------------------------------------------------------------------------

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def timeout(self) -> float:  # type: ignore[override]
        return float(self.config.get("request_timeout") or 60)

    @property
    def vendor(self) -> str:
        return self.vendor_name

    @property
    def max_attempts(self) -> int:
        return int(self.config.get("retry_max_attempts") or retry.DEFAULT_MAX_ATTEMPTS)

    @property
    def backoff_base(self) -> float:
        value = self.config.get("retry_backoff_seconds")
        return retry.DEFAULT_BACKOFF_BASE if value is None else float(value)

    @property
    def requests_session(self) -> requests.Session:
        return self._tap.http_session

    # -- requests ----------------------------------------------------------------------------

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Retry transient faults; wait exactly `Retry-After` when the vendor says how long."""

        @functools.wraps(func)
        def with_retries(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            attempt = 1
            while True:
                try:
                    return func(prepared_request, context)
                except RetriableAPIError as exc:
                    response = exc.response
                    # A failed HTTP status speaks for itself; behind a 2xx, the vendor's error is in the message.
                    failed = response is not None and not response.ok
                    cause = f"HTTP {response.status_code} {response.reason}" if failed else str(exc)
                    wait = (
                        retry.parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
                    )
                except retry.RETRIABLE_NETWORK_ERRORS as exc:
                    cause = describe_network_error(exc)
                    wait = None
                if attempt >= self.max_attempts:
                    raise RetriesExhaustedError(
                        f"{self.vendor}: {describe_request(prepared_request)} failed after {attempt} attempts: {cause}"
                    )
                if wait is None:
                    wait = retry.backoff_seconds(attempt, self.backoff_base)
                else:
                    self._tap.rate_limiter.pause(wait)
                self.logger.warning(
                    "%s: %s: %s; attempt %d of %d, retrying in %.1f s",
                    self.vendor,
                    describe_request(prepared_request),
                    cause,
                    attempt,
                    self.max_attempts,
                    wait,
                )
                time.sleep(wait)
                attempt += 1

        return with_retries

    def _request(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        self._tap.rate_limiter.acquire()
        authenticated = self.authenticator(prepared_request)
        response = self.requests_session.send(
            authenticated,
            timeout=self.timeout,
            allow_redirects=self.allow_redirects,
            stream=True,
            proxies=self._tap.proxies_for(authenticated),
        )
        self.response_started(response)
        try:
            response.body = bodies.SpooledBody.read_from(response.iter_content(bodies._CHUNK))  # type: ignore[attr-defined]
        finally:
            response.close()
        try:
            self.validate_response(response)
        except BaseException:  # a refused answer is not read again: its spool goes now, not at garbage collection
            response.body.close()  # type: ignore[attr-defined]
            raise
        return response

    def response_started(self, response: requests.Response) -> None:
        """Called when the vendor's answer begins (status and headers in, body not yet read). Extend in a tap."""

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            raise AuthenticationError(
                f"authentication failed: check {' and '.join(self.auth_settings)} "
                f"({self.vendor} answered HTTP {status} to {describe_request(response.request)})"
            )
        if status in RETRY_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(f"HTTP {status}", response)
        if status >= HTTPStatus.BAD_REQUEST:
            raise VendorResponseError(self.bad_response_message(response, f"an error (HTTP {status})"))

    def bad_response_message(self, response: requests.Response, what: str) -> str:
        body = getattr(response, "body", None)
        head = body.head(160) if body is not None else b""
        shown = scrub(mask_in_text(head.decode("utf-8", "replace"))) if head else "(empty)"
        return (
            f"{self.vendor}: {describe_request(response.request)} returned HTTP {response.status_code} with {what}; "
            f"the body starts with: {shown!r}"
        )

    # -- parsing -------------------------------------------------------------------------------

    def iter_body_items(self, response: requests.Response, prefix: str | None = None) -> t.Iterator[t.Any]:
        """Elements of the records array, parsed incrementally; a bad body is a clear error."""
        try:
            yield from bodies.iter_items(response.body, prefix or self.records_prefix)  # type: ignore[attr-defined]
        except bodies.BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None

    def body_scalars(self, response: requests.Response, keys: t.Collection[str]) -> dict[str, t.Any]:
        try:
            return bodies.top_level_scalars(response.body, keys)  # type: ignore[attr-defined]
        except bodies.BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        yield from self.iter_body_items(response)

    # -- records -------------------------------------------------------------------------------

    @cached_property
    def shaper(self) -> RecordShaper:
        return RecordShaper(
            self.name,
            self.schema,
            renames=self.field_renames,
            lenient_numbers=self.lenient_numbers,
            logger=self.logger,
            credentials=CredentialFilter(self.credential_fields, self.credential_allowed_fields),
        )

    def prepare_row(self, row: dict, context: Context | None) -> dict | None:
        """Vendor-specific reshaping of one raw row before typing (override in a tap)."""
        return row

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        prepared = self.prepare_row(row, context)
        if prepared is None:
            return None
        return self.shaper.shape(prepared)

    # -- messages ------------------------------------------------------------------------------

    @cached_property
    def _emits_records_as_shaped(self) -> bool:
        """True when the SDK's per-record work would change nothing: every property selected, the one
        stream map the identity, no flattening, no type conformance (the shaper typed the record)."""
        maps = self.stream_maps
        return (
            self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
        )

    @property
    def emits_records_as_shaped(self) -> bool:
        # tests/tapkit/test_fast_path.py proves both paths emit the same.
        return self._emits_records_as_shaped
