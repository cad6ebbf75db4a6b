"""Didomi Platform API: one method per route the tap calls, and the vendor's quirks, in one place.

- auth is a session: `POST /sessions` with `{"type": "api-key", "key", "secret"}` answers a JWT
  `access_token` that lasts about an hour (developers.didomi.io "Authentication"); every other route
  takes it as `Authorization: Bearer`. The tap renews it `RENEW_MARGIN` before the `exp` its payload
  states, and, where the token carries no readable `exp` (or the clocks disagree), renews once on a
  401 and asks again: no request is lost to an expiry mid-run;
- the token is a credential: registered with the kit's scrubber the moment it arrives, never logged;
- lists are paged with `$limit`/`$skip` and answer `{"total", "limit", "skip", "data"}` (feathers);
  a page can hold fewer rows than `$limit` asked (a server cap), so the next `$skip` is the rows
  received so far. A bare JSON array (the deploy-a-widget page's example) is every row at once;
- the Platform API's base is `https://api.didomi.io/v1`; two documented routes live beside it on the same host
  (the "host root": `api_url` without its trailing `/v1`; an `api_url` with no `/v1` is its own root):
  regulations are the Compliance API's `GET /compliance/v1/regulations` (developers.didomi.io "Regulations"),
  documented as `{"data": [...]}` with no paging: asked without `$limit`, paged on only when an answer states a
  `total` beyond its rows; read whatever their `releaseStatus` (the docs ask `$search[releaseStatus]=stable`, the
  ones consents may be collected for: the table keeps every regulation with its status, so that an event's
  regulation that left "stable" still finds its row; a route that refuses the unfiltered request (400/422) is
  asked the documented way, stable ones only). The numeric IDs ("Purposes & Vendors Numerical IDs") are
  asked under `api_url` like every list, and, on 404 only, at the host root, where the docs' curl asks them;
- the organization's vendors (its Data Manager's IAB, Google ATP, global and custom vendors, with their purposes)
  are `GET /metadata/partners`; `/metadata/vendors` is Didomi's URL-matching vendor directory (no organization,
  no purposes) and is not read;
- rate limits: 100 requests per 15 s per organization at the time of writing, announced by the IETF
  draft-7 `RateLimit`/`RateLimit-Policy` headers ("subject to change"): the kit's client reads them
  (tapkit.ratelimit) and waits for the reset once none is left; nothing here hard-codes the numbers;
- `/consents/*` is the Consents API, a separately priced product: an organization without it is
  refused (403, or 404 as some gateways answer); `consents_unavailable` turns that into one line;
- every route is scoped by the `organization_id` query parameter.

The api knows nothing of streams, state or Singer: it asks and answers.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import typing as t
from http import HTTPStatus

from typing_extensions import override

from tapkit import Request, VendorApi, VendorResponse, VendorResponseError, secrets

if t.TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping

    import requests

    from tap_didomi.settings import DidomiSettings
    from tapkit.http import HttpClient

DEFAULT_API_URL = "https://api.didomi.io/v1"
SESSIONS_PATH = "/sessions"
#: renew this long before the token's `exp` (or a tenth of its lifetime, for short-lived tokens)
RENEW_MARGIN = 300.0
DEFAULT_PAGE_SIZE = 100
#: the Platform API's paged lists, under api_url
LIST_PATHS = {
    "notices": "/widgets/notices",
    "notice_deployments": "/widgets/notices/deployments",
    "purposes": "/metadata/purposes",
    "vendors": "/metadata/partners",
}
#: under api_url, else (404) at the host root
NUMERIC_ID_PATHS = {
    "vendor_numeric_ids": "/metadata/numeric-partners",
    "purpose_numeric_ids": "/metadata/numeric-purposes",
}
#: at the host root (the Compliance API is not under the Platform API's /v1)
REGULATIONS_PATH = "/compliance/v1/regulations"
#: the filter the docs' request carries: the regulations consents may be collected for
STABLE_ONLY = {"$search[releaseStatus]": "stable"}
#: a first answer's status -> (what to ask instead, query to add, the log line's reason): another reading of a route
Fallbacks = t.Mapping[int, tuple[str, t.Mapping[str, t.Any], str]]
API_VERSION_SUFFIX = "/v1"
CONSENT_USERS_PATH = "/consents/users"
CONSENT_EVENTS_PATH = "/consents/events"
#: how an organization without the Consents API is refused
CONSENTS_MISSING = frozenset({HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})


def host_root(api_url: str) -> str:
    """Where Didomi's routes beside the Platform API live: `api_url` without its trailing `/v1`."""
    base = api_url.rstrip("/")
    return base.removesuffix(API_VERSION_SUFFIX)


def token_expiry(token: str) -> float | None:
    """The `exp` (Unix time) a JWT's payload states, unverified; None for a token that is no JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return None


class Session:
    """The run's one access token, shared by every stream and thread; renewed before it expires."""

    def __init__(self, http: HttpClient, key: str, secret: str) -> None:
        self.http = http
        #: the body of POST /sessions, which trades the key and secret for the token
        self.credentials = {"type": "api-key", "key": key, "secret": secret}
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self.renewals = 0  # sessions opened after the first (logged)

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.time() >= self._renew_at:
                self._open()
            assert self._token is not None
            return self._token

    def renew(self, stale: str) -> None:
        """After a 401 to a request that carried `stale`: a new token, unless another thread already got one."""
        with self._lock:
            if self._token == stale:
                self._open()

    def _open(self) -> None:
        answer = self.http.send(
            Request(SESSIONS_PATH, method="POST", json=self.credentials, endpoint=SESSIONS_PATH),
            metric_stream="sessions",
        )
        try:
            token = answer.document().get("access_token") if answer.ok else None
        finally:
            answer.close()
        if not isinstance(token, str) or not token:
            raise VendorResponseError(f"{self.http.vendor}: POST {SESSIONS_PATH} answered no access_token")
        secrets.install([token])
        if self._token is not None:
            self.renewals += 1
            self.http.logger.info(
                "%s: access token renewed (session %d of the run)", self.http.vendor, self.renewals + 1
            )
        issued = time.time()
        expiry = token_expiry(token)
        self._token = token
        # No readable expiry: keep the token until a 401 says it expired.
        self._renew_at = float("inf")
        if expiry is not None:
            self._renew_at = expiry - min(RENEW_MARGIN, max(expiry - issued, 0) / 10)


class DidomiApi(VendorApi):
    """The Didomi Platform API for one organization."""

    settings: DidomiSettings

    def __init__(self, http: HttpClient, settings: DidomiSettings) -> None:
        super().__init__(http, settings)
        self.session = Session(http, settings.api_key, settings.api_secret)
        self._token_sent = threading.local()

    @property
    def organization_id(self) -> str:
        return self.settings.organization_id

    @property
    def page_size(self) -> int:
        return self.settings.page_size

    @override
    def auth_headers(self) -> dict[str, str]:
        token = self.session.token()
        self._token_sent.value = token
        return {"Authorization": f"Bearer {token}"}

    @override
    def send(
        self,
        request: Request,
        *,
        context: Mapping[str, t.Any] | None = None,
        tolerate: Collection[int] = (),
        on_start: t.Callable[[requests.Response], None] | None = None,
        checked: bool = True,
    ) -> VendorResponse:
        """The answer, asked again once with a new token when the one sent had expired (401)."""

        def ask(tolerated: Collection[int]) -> VendorResponse:
            return super(DidomiApi, self).send(
                request, context=context, tolerate=tolerated, on_start=on_start, checked=checked
            )

        answer = ask({*tolerate, HTTPStatus.UNAUTHORIZED})
        if answer.status != HTTPStatus.UNAUTHORIZED or HTTPStatus.UNAUTHORIZED in tolerate:
            return answer
        answer.close()
        self.logger.info(
            "%s: %s answered 401: renewing the access token and asking again", self.vendor, answer.described
        )
        self.session.renew(getattr(self._token_sent, "value", ""))
        return ask(tolerate)

    # -- lists -----------------------------------------------------------------------------------

    @property
    def host_root(self) -> str:
        return host_root(self.http.base_url)

    def pages(
        self,
        path: str,
        params: Mapping[str, t.Any] | None = None,
        *,
        refused: t.Callable[[], str] | None = None,
        scoped: bool = True,
        paged: bool = True,
        fallbacks: Fallbacks | None = None,
        endpoint: str | None = None,
    ) -> Iterator[dict]:
        """Every row of a list route, `$skip` advancing by the rows received. `refused`: the one line to fail with
        when the route is refused (403/404: a product the organization lacks). `scoped`: ask for the organization
        (organization_id). `paged` False: the first request asks no `$limit` (a route documented unpaged), and
        only an answer whose `total` exceeds its rows is paged on. `fallbacks`: what to ask instead when the
        first request answers one of their statuses (another reading of the route)."""
        skip, endpoint, params = 0, endpoint or path, dict(params or {})  # metrics name the route, wherever asked
        usual = CONSENTS_MISSING if refused else frozenset()
        fallbacks = dict(fallbacks or {})
        while True:
            query: dict[str, t.Any] = {"organization_id": self.organization_id} if scoped else {}
            query.update(params)
            if paged or skip:
                query.update({"$limit": self.page_size, "$skip": skip})
            answer = self.get(path, query, endpoint=endpoint, tolerate={*usual, *fallbacks})
            try:
                if answer.status in fallbacks:
                    path, extra, why = fallbacks[answer.status]
                    self.logger.info("%s: %s answered %d: %s", self.vendor, endpoint, answer.status, why)
                    params.update(extra)
                    fallbacks = {}
                    continue
                if refused is not None and answer.status in CONSENTS_MISSING:
                    raise VendorResponseError(f"{refused()} (HTTP {answer.status})")
                document = answer.document()
                rows = document.get("data") if isinstance(document, dict) else document
                if not isinstance(rows, list):
                    raise answer.error('no "data" list where a page of rows belongs')
            finally:
                answer.close()
            fallbacks = {}  # only the first answer tells which reading holds
            if isinstance(document, list):  # a bare array: every row at once
                yield from document
                return
            yield from rows
            skip += len(rows)
            total = document.get("total")
            if not rows or (isinstance(total, int) and skip >= total) or (not isinstance(total, int) and not paged):
                return

    def list_rows(self, stream: str) -> Iterator[dict]:
        if stream == "regulations":
            return self.regulations()
        if stream in NUMERIC_ID_PATHS:
            return self.numeric_ids(NUMERIC_ID_PATHS[stream])
        return self.pages(LIST_PATHS[stream])

    def numeric_ids(self, path: str) -> Iterator[dict]:
        """Under api_url; on 404, at the host root, where the docs' curl asks (none when api_url is its own root)."""
        at_root = self.host_root + path
        if at_root == self.http.url(path):
            return self.pages(path)
        return self.pages(path, fallbacks={HTTPStatus.NOT_FOUND: (at_root, {}, f"asking {path} at the host root")})

    def regulations(self) -> Iterator[dict]:
        """Every regulation Didomi supports, whatever its releaseStatus (the Compliance API: global, unscoped);
        the stable ones only, as the docs ask them, where the route refuses a request without that filter."""
        url = self.host_root + REGULATIONS_PATH
        stable_only = (url, STABLE_ONLY, "asking the stable regulations only (the documented $search[releaseStatus])")
        refusals: Fallbacks = {HTTPStatus.BAD_REQUEST: stable_only, HTTPStatus.UNPROCESSABLE_ENTITY: stable_only}
        return self.pages(url, scoped=False, paged=False, fallbacks=refusals, endpoint=REGULATIONS_PATH)

    # -- the Consents API ------------------------------------------------------------------------

    def consent_users(self) -> Iterator[dict]:
        return self._consents(CONSENT_USERS_PATH, {})

    def consent_events(self, user_id: str) -> Iterator[dict]:
        return self._consents(CONSENT_EVENTS_PATH, {"user_id": user_id})

    def _consents(self, path: str, params: Mapping[str, t.Any]) -> Iterator[dict]:
        return self.pages(path, params, refused=lambda: self.consents_unavailable(path))

    def consents_unavailable(self, path: str) -> str:
        return (
            f"the Consents API is not enabled for organization {self.organization_id}: GET {path} was refused; "
            "turn off consents_api, or ask Didomi for the Consents product"
        )
