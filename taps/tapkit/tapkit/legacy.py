"""The RESTStream request path of the kit before `tapkit.http` (transitional: being removed tap by tap).

`LegacyVendorStream` is a `VendorStream` that still asks through singer-sdk's RESTStream machinery.
"""

from __future__ import annotations

import functools
import time
import typing as t
from http import HTTPStatus

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams import RESTStream

from tapkit import body as bodies
from tapkit import retry
from tapkit.credentials import mask_in_text
from tapkit.errors import AuthenticationError, RetriesExhaustedError, VendorResponseError
from tapkit.http import RETRY_STATUSES, describe_network_error, describe_request
from tapkit.secrets import scrub
from tapkit.streams import VendorStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tapkit.tap import VendorTap


class LegacyVendorStream(VendorStream, RESTStream):
    _tap: VendorTap
    get_records = RESTStream.get_records

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
