"""`tap-didomi --probe`: each assumption of api.py and buckets.py, checked with a few read-only requests.

At most: one session, one page of notices, one page of Consents API users (when consents_api is on),
and a listing of the export bucket. Every API request goes through the tap's own client.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from tap_didomi.api import CONSENT_USERS_PATH, CONSENTS_MISSING, LIST_PATHS, SESSIONS_PATH, token_expiry
from tap_didomi.buckets import SUCCESS_MARKER, open_bucket
from tapkit import TapkitError, probe, ratelimit

if t.TYPE_CHECKING:
    from tap_didomi.api import DidomiApi
    from tap_didomi.settings import DidomiSettings
    from tapkit.tap import VendorTap

SESSION = f"POST {SESSIONS_PATH} answers a JWT access_token whose exp the tap reads (renewed before it expires)"
ENVELOPE = 'list routes answer the paged envelope {"total", "limit", "skip", "data"} ($limit/$skip)'
RATE_HEADERS = "answers carry the draft-7 RateLimit and RateLimit-Policy headers (the budget is read, not assumed)"
CONSENTS = "the organization has the Consents API (consents_api is on)"
SUCCESS = "the export bucket marks complete partitions with a _SUCCESS file"


def run(tap: VendorTap[DidomiSettings]) -> t.Iterator[probe.ProbeResult]:
    api = t.cast("DidomiApi", tap.api).for_stream("probe")
    asked = f"POST {SESSIONS_PATH}"
    try:
        token = api.session.token()
    except TapkitError as exc:
        for assumption in (SESSION, ENVELOPE, RATE_HEADERS):
            yield probe.could_not_tell(assumption, asked, exc)
        yield from bucket_rows(tap)
        return
    yield probe.result(
        SESSION,
        asked,
        "a JWT with exp" if token_expiry(token) else "a token with no readable exp",
        token_expiry(token) is not None,
    )
    path = LIST_PATHS["notices"]
    asked = f"GET {path}?organization_id&$limit=1&$skip=0"
    try:
        answer = api.get(path, {"organization_id": api.organization_id, "$limit": 1, "$skip": 0}, endpoint=path)
        try:
            document = answer.document()
            headers = ratelimit.parse(answer.headers)
            names = sorted(name for name in answer.headers if name.lower().startswith("ratelimit"))
        finally:
            answer.close()
    except TapkitError as exc:
        yield probe.could_not_tell(ENVELOPE, asked, exc)
        yield probe.could_not_tell(RATE_HEADERS, asked, exc)
    else:
        shape = sorted(document) if isinstance(document, dict) else type(document).__name__
        holds = isinstance(document, dict) and {"total", "limit", "skip", "data"} <= set(document)
        yield probe.result(ENVELOPE, asked, shape, holds)
        yield probe.result(RATE_HEADERS, asked, names or "no RateLimit headers", headers is not None and bool(names))
    if tap.settings.consents_api:
        asked = f"GET {CONSENT_USERS_PATH}?organization_id&$limit=1"
        try:
            answer = api.get(
                CONSENT_USERS_PATH, {"organization_id": api.organization_id, "$limit": 1}, tolerate=CONSENTS_MISSING
            )
            answer.close()
            yield probe.result(CONSENTS, asked, f"HTTP {answer.status}", answer.status == HTTPStatus.OK)
        except TapkitError as exc:
            yield probe.could_not_tell(CONSENTS, asked, exc)
    yield from bucket_rows(tap)


def bucket_rows(tap: VendorTap[DidomiSettings]) -> t.Iterator[probe.ProbeResult]:
    try:
        reader = open_bucket(tap.settings, metric_stream="probe")
    except TapkitError as exc:
        yield probe.could_not_tell(SUCCESS, "list export_bucket_url", exc)
        return
    if reader is None:
        return
    asked = f"list {reader.label}/{reader.prefix}"
    try:
        keys = list(reader.bucket.keys(reader.prefix))
    except Exception as exc:  # the storage client's errors, shown as one line
        yield probe.could_not_tell(SUCCESS, asked, " ".join(str(exc).split()))
        return
    partitions = {key.rsplit("/", 2)[0] for key in keys if "/date=" in key and key.endswith(".json.gz")}
    marked = {key.rsplit("/", 1)[0] for key in keys if key.endswith("/" + SUCCESS_MARKER)}
    if not partitions:
        yield probe.result(SUCCESS, asked, "no partition in the bucket", None)
        return
    yield probe.result(SUCCESS, asked, f"{len(marked)} of {len(partitions)} partitions marked", bool(marked))
