"""The kit's HTTP client: it asks and it answers, and knows nothing of streams or Singer messages.

One `HttpClient` per tap holds the session (pooled connections, proxies read once per host), the
shared rate limiter, the retries, the spooled bodies and the mapping of statuses to errors:

- 401/403 is an `AuthenticationError` naming the settings to check; 408, 429 and 5xx, connection
  errors, resets and timeouts are retried; any other 4xx is a `VendorResponseError` showing the first
  bytes of the body (scrubbed), unless the call tolerates that status;
- the retries are singer-sdk's own mechanism, python-backoff's `on_exception` over the exceptions the
  SDK retries, with the kit's wait generator (`tapkit.retry.waits`): exactly `Retry-After` when the
  vendor sends it (the whole client pauses that long), else full-jitter exponential backoff, for at
  most `retry_max_attempts` attempts;
- the vendor's rate-limit headers (IETF `RateLimit`/`RateLimit-Policy`, `X-RateLimit-*`) keep the
  client within its budget: once the answers say none is left, every thread waits for the reset;
- the whole body is read inside the retried attempt into a `SpooledBody`, so a body that breaks
  half-way is retried like any other transient fault, and large bodies never sit in memory;
- every request counts in singer-sdk's `http_request_count` and `http_request_duration` metrics,
  tagged with the stream that asked (the `metric_stream` of the call).

A tap's `api.py` builds on it: one method per vendor endpoint, the vendor's quirks written at its top.
"""

from __future__ import annotations

import copy
import dataclasses
import time
import typing as t
from functools import cached_property
from http import HTTPStatus
from urllib.parse import urlsplit

import backoff
import requests
from requests.adapters import HTTPAdapter
from requests.utils import resolve_proxies
from singer_sdk import metrics
from singer_sdk.exceptions import RetriableAPIError

from tapkit import body as bodies
from tapkit import ratelimit, retry
from tapkit.credentials import mask_in_text
from tapkit.errors import AuthenticationError, RetriesExhaustedError, VendorResponseError
from tapkit.secrets import scrub

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Collection, Iterator, Mapping

    from requests.auth import AuthBase

    from tapkit.settings import KitSettings

RETRY_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.REQUEST_TIMEOUT})
#: what the SDK's `request_decorator` retries, plus the kit's network errors
RETRIED: tuple[type[Exception], ...] = (RetriableAPIError, *retry.RETRIABLE_NETWORK_ERRORS)


def describe_request(request: requests.PreparedRequest | None) -> str:
    """`GET /path?query` with secrets masked: how errors name an endpoint."""
    if request is None or not request.url:
        return "request"
    parts = urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return scrub(f"{request.method} {target}")


def describe_path(method: str, url: str) -> str:
    """`GET /path`: how retry and give-up lines name a request (no query string: it can hold
    personal data or a key, and the path names the endpoint well enough)."""
    return scrub(f"{method} {urlsplit(url).path}")


def without_userinfo(url: str) -> str:
    """A URL as errors show it: no user name or password, even where no secret setting holds them."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def describe_network_error(exc: BaseException, api_url: str = "") -> str:
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "the response took longer than request_timeout"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connecting took longer than request_timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke while the body was being read"
    if isinstance(exc, (ConnectionResetError, requests.exceptions.ConnectionError)):
        text = str(exc).lower()
        if "timed out" in text:  # urllib3's read timeouts can arrive wrapped in a ConnectionError
            return "the response took longer than request_timeout"
        if "reset" in text or "aborted" in text:
            return "the connection was reset"
        request = getattr(exc, "request", None)
        host = urlsplit(getattr(request, "url", None) or api_url).netloc.rsplit("@", 1)[-1]
        return f"could not connect to {host or 'the vendor'} (api_url={without_userinfo(api_url) or 'unset'})"
    return type(exc).__name__


@dataclasses.dataclass(frozen=True)
class Request:
    """One request to make: `path` is joined to the client's base URL unless it is absolute."""

    path: str
    params: Mapping[str, t.Any] | str | None = None
    method: str = "GET"
    headers: Mapping[str, str] | None = None
    json: t.Any = None
    #: how the metrics name the endpoint (the path template, not the filled-in path)
    endpoint: str | None = None
    #: how logs and errors name the path when the real one holds personal data (an email in a lookup):
    #: e.g. "/api/entity/user/email/{lookup_value}"; joined to the base URL like `path`
    redacted_path: str | None = None


class VendorResponse:
    """A vendor's answer: status, headers and the whole body, spooled (see `tapkit.body`).

    The body's readers turn a body that is not the JSON it should be into a `VendorResponseError`
    that names the vendor, the request, the status and the body's first bytes."""

    def __init__(
        self, vendor: str, response: requests.Response, body: bodies.SpooledBody, described: str | None = None
    ) -> None:
        self.vendor = vendor
        if described is not None:  # the request's path holds personal data: name it by its redacted path
            self.__dict__["described"] = described
        self.status: int = response.status_code
        self.reason: str = response.reason or ""
        self.headers = response.headers
        self.url: str = response.url
        self.request = response.request
        self.body = body

    @property
    def ok(self) -> bool:
        return self.status < HTTPStatus.BAD_REQUEST

    @cached_property
    def described(self) -> str:
        return describe_request(self.request)

    # -- decode-or-raise --------------------------------------------------------------------------

    def items(self, prefix: str = "item") -> Iterator[t.Any]:
        """The elements of the array at `prefix` ("item": the body is the array), parsed incrementally."""
        try:
            yield from bodies.iter_items(self.body, prefix)
        except bodies.BodyDecodeError as exc:
            raise self.error(str(exc)) from None

    def scalars(self, keys: Collection[str]) -> dict[str, t.Any]:
        """The top-level scalar members `keys` of an object body, without building its arrays."""
        try:
            return bodies.top_level_scalars(self.body, keys)
        except bodies.BodyDecodeError as exc:
            raise self.error(str(exc)) from None

    def member_names(self) -> list[str]:
        """The member names of an object body, without building its arrays."""
        try:
            return bodies.top_level_members(self.body)
        except bodies.BodyDecodeError as exc:
            raise self.error(str(exc)) from None

    def member_kind(self, key: str) -> tuple[str, t.Any]:
        try:
            return bodies.member_kind(self.body, key)
        except bodies.BodyDecodeError as exc:
            raise self.error(str(exc)) from None

    def document(self) -> t.Any:
        """The whole body decoded (for small answers: a status, a definition, a job)."""
        try:
            return bodies.decode_document(self.body)
        except bodies.BodyDecodeError as exc:
            raise self.error(str(exc)) from None

    def error(self, what: str) -> VendorResponseError:
        return VendorResponseError(self.error_message(what))

    def error_message(self, what: str) -> str:
        head = self.body.head(160)
        shown = scrub(mask_in_text(head.decode("utf-8", "replace"))) if head else "(empty)"
        return (
            f"{self.vendor}: {self.described} returned HTTP {self.status} with {what}; the body starts with: {shown!r}"
        )

    def close(self) -> None:
        self.body.close()


class RetriableResponseError(RetriableAPIError):
    """A transient failure with the vendor's answer at hand (for its `Retry-After`)."""

    def __init__(self, message: str, answer: VendorResponse) -> None:
        super().__init__(message)
        self.answer = answer


#: a check of an answer inside the retried attempt (an envelope's status ...); raise to refuse it
Check = t.Callable[[VendorResponse], None]


class HttpClient:
    """Session, pacing, retries, spooled bodies and error mapping for one vendor (see the module doc)."""

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        user_agent: str,
        logger: logging.Logger,
        timeout: float = 60.0,
        max_attempts: int = retry.DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = retry.DEFAULT_BACKOFF_BASE,
        max_requests_per_second: float | None = None,
        pool_size: int = 4,
        auth: AuthBase | Callable[[requests.PreparedRequest], requests.PreparedRequest] | None = None,
        auth_settings: tuple[str, ...] = ("api_key",),
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.logger = logger
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.rate_limiter = retry.RateLimiter(max_requests_per_second)
        self.auth = auth
        self.auth_settings = auth_settings
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent
        self._proxies_by_host: dict[tuple[str, str], dict[str, str]] = {}

    # -- asking -----------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}{path}"

    def prepare(self, request: Request) -> requests.PreparedRequest:
        prepared = self.session.prepare_request(
            requests.Request(
                method=request.method,
                url=self.url(request.path),
                params=request.params,
                headers=dict(request.headers or {}),
                json=request.json,
            )
        )
        return self.auth(prepared) if self.auth is not None else prepared

    def send(
        self,
        request: Request,
        *,
        metric_stream: str,
        context: Mapping[str, t.Any] | None = None,
        check: Check | None = None,
        tolerate: Collection[int] = (),
        on_start: Callable[[requests.Response], None] | None = None,
    ) -> VendorResponse:
        """The vendor's answer to `request`, retried as the module doc says.

        `check` runs inside each attempt (a `RetriableAPIError` from it is retried too); `tolerate`
        lists statuses returned as answers instead of raised; `on_start` is called once the answer's
        status and headers are in, before its body is read."""
        prepared = self.prepare(request)
        endpoint = request.endpoint or urlsplit(request.path).path
        redacted = describe_path(request.method, self.url(request.redacted_path)) if request.redacted_path else None
        named = redacted or describe_path(request.method, prepared.url or request.path)

        def attempt() -> VendorResponse:
            return self._attempt(prepared, endpoint, metric_stream, context, check, tolerate, on_start, redacted)

        retried = backoff.on_exception(
            retry.waits,
            RETRIED,
            max_tries=self.max_attempts,
            jitter=None,  # the wait generator draws the jitter itself, and never jitters a Retry-After
            on_backoff=lambda details: self._log_retry(named, details),
            on_giveup=lambda details: self._give_up(named, details),
            logger=None,
            base=self.backoff_base,
            limiter=self.rate_limiter,
        )(attempt)
        return retried()

    def _attempt(
        self,
        prepared: requests.PreparedRequest,
        endpoint: str,
        metric_stream: str,
        context: Mapping[str, t.Any] | None,
        check: Check | None,
        tolerate: Collection[int],
        on_start: Callable[[requests.Response], None] | None,
        redacted: str | None = None,
    ) -> VendorResponse:
        self.rate_limiter.acquire()
        started = time.monotonic()
        status: int | None = None
        try:
            try:
                response = self.session.send(
                    prepared, timeout=self.timeout, stream=True, proxies=self.proxies_for(prepared)
                )
            except BaseException:
                self.rate_limiter.observe(None)
                raise
            self.rate_limiter.observe(ratelimit.parse(response.headers))
            status = response.status_code
            if on_start is not None:
                on_start(response)
            try:
                body = bodies.SpooledBody.read_from(response.iter_content(bodies.CHUNK_SIZE))
            finally:
                response.close()
        finally:
            self._count(metric_stream, endpoint, context, status, time.monotonic() - started)
        answer = VendorResponse(self.vendor, response, body, described=redacted)
        try:
            self.validate(answer, tolerate)
            if check is not None and (answer.ok or answer.status not in tolerate):
                check(answer)
        except BaseException:  # a refused answer is not read again: its spool goes now
            answer.close()
            raise
        return answer

    def validate(self, answer: VendorResponse, tolerate: Collection[int] = ()) -> None:
        status = answer.status
        if status in tolerate:
            return
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            raise AuthenticationError(
                f"authentication failed: check {' and '.join(self.auth_settings)} "
                f"({self.vendor} answered HTTP {status} to {answer.described})"
            )
        if status in RETRY_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableResponseError(f"HTTP {status} {answer.reason}", answer)
        if status >= HTTPStatus.BAD_REQUEST:
            raise answer.error(f"an error (HTTP {status})")

    # -- retries (python-backoff handlers) ----------------------------------------------------------

    def _cause(self, exc: BaseException) -> str:
        if isinstance(exc, RetriableResponseError) and not exc.answer.ok:
            return str(exc)  # a failed HTTP status speaks for itself
        if isinstance(exc, RetriableAPIError):
            return str(exc)  # behind a 2xx, the vendor's error is in the message
        return describe_network_error(exc, self.base_url)

    def _log_retry(self, named: str, details: t.Mapping[str, t.Any]) -> None:
        self.logger.warning(
            "%s: %s: %s; attempt %d of %d, retrying in %.1f s",
            self.vendor,
            named,
            self._cause(details["exception"]),
            details["tries"],
            self.max_attempts,
            details["wait"],
        )

    def _give_up(self, named: str, details: t.Mapping[str, t.Any]) -> t.NoReturn:
        raise RetriesExhaustedError(
            f"{self.vendor}: {named} failed after {details['tries']} attempts: {self._cause(details['exception'])}"
        )

    # -- metrics --------------------------------------------------------------------------------------

    @staticmethod
    def _count(
        stream: str, endpoint: str, context: Mapping[str, t.Any] | None, status: int | None, seconds: float
    ) -> None:
        """One request in singer-sdk's request count and request duration metrics."""
        tags: dict[str, t.Any] = {"context": dict(context)} if context else {}
        with metrics.http_request_counter(stream, endpoint, **tags) as counter:
            counter.increment()
        succeeded = status is not None and status < HTTPStatus.BAD_REQUEST
        point = metrics.Point(
            "timer",
            metric=metrics.Metric.HTTP_REQUEST_DURATION,
            value=round(seconds, 6),
            tags={
                metrics.Tag.STREAM: stream,
                metrics.Tag.ENDPOINT: endpoint,
                metrics.Tag.HTTP_STATUS_CODE: status,
                metrics.Tag.STATUS: metrics.Status.SUCCEEDED if succeeded else metrics.Status.FAILED,
                **tags,
            },
        )
        metrics.log(metrics.get_metrics_logger(), point)

    # -- proxies --------------------------------------------------------------------------------------

    def proxies_for(self, request: requests.PreparedRequest) -> dict[str, str]:
        """The proxies for the request's scheme and host (HTTP(S)_PROXY, NO_PROXY), read from the
        environment once per host: requests would read it again on every call, a few % of a sync."""
        key = urlsplit(request.url or "")[:2]
        proxies = self._proxies_by_host.get(key)
        if proxies is None:
            proxies = resolve_proxies(request, dict(self.session.proxies), self.session.trust_env)
            self._proxies_by_host[key] = proxies
        return proxies


def count_request(
    stream: str, endpoint: str, context: Mapping[str, t.Any] | None, status: int | None, seconds: float
) -> None:
    """A request made outside the client (a storage SDK's) in the SDK's request metrics, counted as its own are."""
    HttpClient._count(stream, endpoint, context, status, seconds)  # the client's own counter


class VendorApi:
    """Base of a tap's `api.py`: one method per vendor endpoint, on the tap's `HttpClient`.

    `for_stream(name)` gives the same client under a stream's name, so its requests count in that
    stream's metrics; the api never calls back into a stream or the tap."""

    metric_stream: str = "api"

    def __init__(self, http: HttpClient, settings: KitSettings) -> None:
        self.http = http
        #: the run's typed settings (a tap's api annotates its own `KitSettings` subclass here)
        self.settings = settings

    @property
    def vendor(self) -> str:
        return self.http.vendor

    @property
    def logger(self) -> logging.Logger:
        return self.http.logger

    def for_stream(self, name: str) -> t.Self:
        bound = copy.copy(self)
        bound.metric_stream = name
        return bound

    def check(self, answer: VendorResponse) -> None:
        """The vendor's own error signals inside a 2xx (an envelope's status ...). Override in a tap."""

    def auth_headers(self) -> dict[str, str]:
        """Headers every request carries (credentials, API version). Override in a tap."""
        return {}

    def auth_params(self) -> dict[str, t.Any]:
        """Query parameters every request carries (a key in the query string). Override in a tap."""
        return {}

    def get(
        self,
        path: str,
        params: Mapping[str, t.Any] | str | None = None,
        *,
        endpoint: str | None = None,
        context: Mapping[str, t.Any] | None = None,
        tolerate: Collection[int] = (),
        headers: Mapping[str, str] | None = None,
        on_start: Callable[[requests.Response], None] | None = None,
        checked: bool = True,
        redacted_path: str | None = None,
    ) -> VendorResponse:
        return self.send(
            Request(path, params, headers=headers, endpoint=endpoint, redacted_path=redacted_path),
            context=context,
            tolerate=tolerate,
            on_start=on_start,
            checked=checked,
        )

    def send(
        self,
        request: Request,
        *,
        context: Mapping[str, t.Any] | None = None,
        tolerate: Collection[int] = (),
        on_start: Callable[[requests.Response], None] | None = None,
        checked: bool = True,
    ) -> VendorResponse:
        extra_params, extra_headers = self.auth_params(), self.auth_headers()
        if extra_params and not isinstance(request.params, str):
            request = dataclasses.replace(request, params={**extra_params, **(request.params or {})})
        if extra_headers:
            request = dataclasses.replace(request, headers={**extra_headers, **(request.headers or {})})
        return self.http.send(
            request,
            metric_stream=self.metric_stream,
            context=context,
            check=self.check if checked else None,
            tolerate=tolerate,
            on_start=on_start,
        )
