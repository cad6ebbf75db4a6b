"""`tap-didomi --probe`: each assumption of api.py and buckets.py, checked with a few read-only requests.

At most: one session, one page of notices, one row of vendors, the regulations, one row of vendors' numeric IDs
(twice when the first answer is 404: at the host root), one page of Consents API users (when consents_api is
on), and a listing of the export bucket. Every API request goes through the tap's own client.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from tap_didomi.api import (
    CONSENT_USERS_PATH,
    CONSENTS_MISSING,
    LIST_PATHS,
    NUMERIC_ID_PATHS,
    REGULATIONS_PATH,
    SESSIONS_PATH,
    token_expiry,
)
from tap_didomi.buckets import SUCCESS_MARKER, open_bucket
from tapkit import TapkitError, probe, ratelimit

if t.TYPE_CHECKING:
    from tap_didomi.api import DidomiApi
    from tap_didomi.settings import DidomiSettings
    from tapkit.tap import VendorTap

SESSION = f"POST {SESSIONS_PATH} answers a JWT access_token whose exp the tap reads (renewed before it expires)"
ENVELOPE = 'list routes answer the paged envelope {"total", "limit", "skip", "data"} ($limit/$skip)'
RATE_HEADERS = "answers carry the draft-7 RateLimit and RateLimit-Policy headers (the budget is read, not assumed)"
VENDORS = (
    "GET /metadata/partners answers the organization's vendors with their purposes (default_purposes_id ...), "
    "the Data Manager's list"
)
REGULATIONS = (
    f'GET {REGULATIONS_PATH} (host root) answers {{"data": [...]}} without a releaseStatus filter, each regulation '
    "with its releaseStatus (the tap reads every status)"
)
NUMERIC_IDS = (
    "the numeric-ID routes answer under api_url like every list (else the tap asks them at the host root, "
    "as the docs' curl does)"
)
CONSENTS = "the organization has the Consents API (consents_api is on)"
SUCCESS = "the export bucket marks complete partitions with a _SUCCESS file"


def run(tap: VendorTap[DidomiSettings]) -> t.Iterator[probe.ProbeResult]:
    api = t.cast("DidomiApi", tap.api).for_stream("probe")
    asked = f"POST {SESSIONS_PATH}"
    try:
        token = api.session.token()
    except TapkitError as exc:
        for assumption in (SESSION, ENVELOPE, RATE_HEADERS, VENDORS, REGULATIONS, NUMERIC_IDS):
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
    yield vendors_row(api)
    yield regulations_row(api)
    yield numeric_ids_row(api)
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


def first_rows(document: t.Any) -> list | None:
    """The rows of a list answer: its `data`, or the bare array; None for anything else."""
    rows = document.get("data") if isinstance(document, dict) else document
    return rows if isinstance(rows, list) else None


def vendors_row(api: DidomiApi) -> probe.ProbeResult:
    path = LIST_PATHS["vendors"]
    asked = f"GET {path}?organization_id&$limit=1"
    try:
        answer = api.get(path, {"organization_id": api.organization_id, "$limit": 1}, endpoint=path)
        try:
            rows = first_rows(answer.document())
        finally:
            answer.close()
    except TapkitError as exc:
        return probe.could_not_tell(VENDORS, asked, exc)
    if not rows or not isinstance(rows[0], dict):
        return probe.result(VENDORS, asked, "no vendor", None)
    return probe.result(VENDORS, asked, sorted(rows[0]), "default_purposes_id" in rows[0])


def regulations_row(api: DidomiApi) -> probe.ProbeResult:
    asked = f"GET <host root>{REGULATIONS_PATH}"
    try:
        answer = api.get(
            api.host_root + REGULATIONS_PATH,
            endpoint=REGULATIONS_PATH,
            tolerate={HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY},
        )
        try:
            document = None if not answer.ok else answer.document()
        finally:
            answer.close()
    except TapkitError as exc:
        return probe.could_not_tell(REGULATIONS, asked, exc)
    if document is None:  # the unfiltered request is refused: the tap reads the stable ones only
        return probe.result(REGULATIONS, asked, f"HTTP {answer.status} without $search[releaseStatus]", False)
    rows = first_rows(document) if isinstance(document, dict) else None
    if not rows:
        shape = sorted(document) if isinstance(document, dict) else type(document).__name__
        return probe.result(REGULATIONS, asked, shape, None if rows == [] else False)
    statuses = sorted({str(row.get("releaseStatus")) for row in rows if isinstance(row, dict)})
    holds = all(isinstance(row, dict) and "releaseStatus" in row for row in rows)
    return probe.result(REGULATIONS, asked, f"{len(rows)} regulations, releaseStatus {statuses}", holds)


def numeric_ids_row(api: DidomiApi) -> probe.ProbeResult:
    path = NUMERIC_ID_PATHS["vendor_numeric_ids"]
    query = {"organization_id": api.organization_id, "$limit": 1}
    asked = f"GET {path}?organization_id&$limit=1"
    try:
        answer = api.get(path, query, endpoint=path, tolerate={HTTPStatus.NOT_FOUND})
        answer.close()
        if answer.status != HTTPStatus.NOT_FOUND:
            return probe.result(NUMERIC_IDS, asked, f"HTTP {answer.status} under api_url", True)
        asked += ", then at the host root"
        at_root = api.get(api.host_root + path, query, endpoint=path, tolerate={HTTPStatus.NOT_FOUND})
        at_root.close()
    except TapkitError as exc:
        return probe.could_not_tell(NUMERIC_IDS, asked, exc)
    return probe.result(NUMERIC_IDS, asked, f"HTTP 404 under api_url, {at_root.status} at the host root", False)


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
