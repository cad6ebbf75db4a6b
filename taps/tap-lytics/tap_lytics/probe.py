"""`tap-lytics --probe`: each assumption the tap makes about Lytics, checked against a live account.

Eight read-only GETs through the tap's own client (rate limit, retries, scrubbing): the account list,
the table schema, the audience list, audience sizes, one scan page with `limit=101` of the largest
audience (configured audiences, else all), two scan pages with `limit=2`, and one entity lookup of a
profile nobody has (asked again, at most `LOOKUP_TRIES` times in all, while it answers "Timed out").
Each assumption is the documented reading; `does not hold` means the account shows the reading of
newer evidence (vendor-evidence.md), which the tap also handles (README, "Assumptions"). Identity
values, profile values and credentials are never shown: rows name fields and counts only.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from tap_lytics.api import SIZES_PER_REQUEST, is_not_found_placeholder, is_timed_out, table_schema
from tap_lytics.identity import MemberKey, identity_fields
from tap_lytics.profile_schema import KEPT_IN_EXTRA, json_type
from tap_lytics.streams import AccountsStream
from tapkit import Request, TapkitError, probe
from tapkit import secrets as kit_secrets
from tapkit.errors import AuthenticationError
from tapkit.http import describe_request

if t.TYPE_CHECKING:
    from tap_lytics.api import LyticsApi
    from tap_lytics.settings import LyticsSettings
    from tapkit.probe import ProbeResult

AUTH = "the token is accepted raw in the Authorization header (no Bearer prefix)"
NO_CREDENTIALS = "account records carry no credential fields (apikey, dataapikey)"
SCALAR_IDENTITY = "identity fields hold one value each (no array such as _uids)"
KEYED_ROWS = "every scan row carries a usable member key (profile_key, else an identity field)"
TYPED_VALUES = "numbers and booleans arrive typed as the schema says, not as text"
PAGE_LIMIT = "a scan page holds as many rows as `limit` asks, above 100 too"
CURSOR_ADVANCES = "`_next` changes from page to page (empty after the last)"
SCHEMA_SHAPE = "/api/schema lists `columns` and `by_fields`"
FIELD_TYPES = "schema field types are the documented ones (string, int, number, float, bool, date, time, lists, maps)"
ENVELOPE_STATUS = 'every envelope carries `status` 200 (a number or the text "200")'
NOT_FOUND_404 = "a lookup of an unknown profile answers HTTP 404"
LOOKUP_ANSWERS = 'an entity lookup answers at once (no "Timed out")'
ASSUMPTIONS = (
    AUTH,
    NO_CREDENTIALS,
    SCALAR_IDENTITY,
    KEYED_ROWS,
    TYPED_VALUES,
    PAGE_LIMIT,
    CURSOR_ADVANCES,
    SCHEMA_SHAPE,
    FIELD_TYPES,
    ENVELOPE_STATUS,
    NOT_FOUND_404,
    LOOKUP_ANSWERS,
)

PROBE_LIMIT = 101  # one above the evidence's cap: a full page of 101 shows `limit` is honoured
CURSOR_LIMIT = 2  # small pages, so even a small audience has a second page
TYPED_KINDS = frozenset({"int", "number", "float", "bool"})
DOCUMENTED_KINDS = frozenset({"string", "int", "number", "float", "bool", "date", "time"})
NO_SUCH_PROFILE = "tap-lytics-probe-no-such-profile"  # a value no profile holds
LOOKUP_TRIES = 3  # the lookup is asked again while it answers "Timed out", this many times in all
NO_STATUS = "(none)"


class ProbeRequests:
    """The probe's GETs, through the tap's `LyticsApi` (its envelope check included); whole envelopes back."""

    def __init__(self, api: LyticsApi) -> None:
        self.api = api
        self.statuses: dict[str, list[str]] = {}  # envelope status as shown -> the endpoints that sent it

    def get(self, path: str, params: dict | None = None, *, endpoint: str | None = None) -> tuple[str, dict]:
        """(the request as shown, the checked envelope); notes the envelope's `status` under `endpoint`."""
        request = Request(path, params or {})
        asked = describe_request(self.api.http.prepare(request))  # named even when the request fails
        try:
            answer = self.api.send(request)
            try:
                document = answer.document()
            finally:
                answer.close()
        except TapkitError as exc:
            raise ProbeRequestError(asked, exc) from None
        shown = repr(document["status"]) if "status" in document else NO_STATUS
        where = self.statuses.setdefault(shown, [])
        if (endpoint or path) not in where:
            where.append(endpoint or path)
        return asked, document  # an object: the api's envelope check refuses any other body

    def lookup(self, path: str, params: dict) -> tuple[str, int, dict | None]:
        """(the request as shown, HTTP status, the body) of a lookup, as Lytics answered it: no envelope
        check and a 404 tolerated, so that the probe sees the answer the tap would interpret."""
        request = Request(path, params)
        asked = describe_request(self.api.http.prepare(request))
        try:
            answer = self.api.send(request, tolerate=(HTTPStatus.NOT_FOUND,), checked=False)
            try:
                document = answer.document()
            except TapkitError:
                document = None
            finally:
                answer.close()
        except TapkitError as exc:
            raise ProbeRequestError(asked, exc) from None
        return asked, answer.status, document if isinstance(document, dict) else None


class ProbeRequestError(Exception):
    def __init__(self, asked: str, error: TapkitError) -> None:
        super().__init__(str(error))
        self.asked, self.error = asked, error


def untested(assumptions: t.Iterable[str], failed: ProbeRequestError) -> t.Iterator[ProbeResult]:
    for assumption in assumptions:
        yield probe.could_not_tell(assumption, failed.asked, failed.error)


def probe_lytics(api: LyticsApi, settings: LyticsSettings) -> t.Iterator[ProbeResult]:
    client = ProbeRequests(api)
    table = settings.table
    try:
        asked, accounts = client.get("/api/account")
    except ProbeRequestError as failed:
        if isinstance(failed.error, AuthenticationError):
            yield probe.result(AUTH, failed.asked, failed.error, False)
            yield from untested(ASSUMPTIONS[1:], failed)
            return
        yield from untested(ASSUMPTIONS, failed)
        return
    rows = [row for row in _as_list(accounts.get("data")) if isinstance(row, dict)]
    yield probe.result(AUTH, asked, f"envelope status {accounts.get('status')!r}, {len(rows)} account(s)", True)
    yield credentials_check(asked, rows)

    schema: dict | ProbeRequestError
    try:
        asked_schema, schema = client.get(f"/api/schema/{table}", endpoint="/api/schema/<table>")
    except ProbeRequestError as failed:
        asked_schema, schema = failed.asked, failed
    yield from scan_checks(client, settings, asked_schema, schema)
    yield from schema_checks(asked_schema, schema)
    yield envelope_status_check(client)
    yield from lookup_checks(client, settings, schema)


def scan_checks(
    client: ProbeRequests, settings: LyticsSettings, asked_schema: str, schema: dict | ProbeRequestError
) -> t.Iterator[ProbeResult]:
    """The assumptions about scan rows and paging (the schema types and keys the rows)."""
    table = settings.table
    try:
        if isinstance(schema, ProbeRequestError):
            raise schema
        data: dict = schema["data"] if isinstance(schema.get("data"), dict) else {}
        parsed = table_schema(data)
        columns = list(parsed.columns)
        identity = identity_fields(parsed.by_fields, columns)
        segment_id, size, asked_segments = largest_audience(client, settings)
        if segment_id is None:
            yield from untested(
                ASSUMPTIONS[2:7],
                ProbeRequestError(asked_segments, TapkitError(f"table {table!r} has no audience to scan")),
            )
            return
        asked_page, page = client.get(
            f"/api/segment/{segment_id}/scan", {"limit": PROBE_LIMIT}, endpoint="/api/segment/<id>/scan"
        )
    except ProbeRequestError as failed:
        yield from untested(ASSUMPTIONS[2:6], failed)
        yield from cursor_check(client, None)
        return
    scanned = [row for row in _as_list(page.get("data")) if isinstance(row, dict)]
    asked_rows = f"{asked_schema}; {asked_page}"
    key_fields = tuple(dict.fromkeys([*([settings.profile_key] if settings.profile_key else []), *identity]))
    yield scalar_identity_check(asked_rows, scanned, columns, key_fields)
    yield keyed_rows_check(asked_rows, scanned, MemberKey(settings.profile_key, identity))
    yield typed_values_check(asked_rows, scanned, columns)
    yield page_limit_check(asked_page, scanned, page.get("total"), size)
    yield from cursor_check(client, segment_id)


def schema_checks(asked: str, schema: dict | ProbeRequestError) -> t.Iterator[ProbeResult]:
    """The schema's shape (`columns` + `by_fields`, or the older `fields`) and its field types."""
    if isinstance(schema, ProbeRequestError):
        yield from untested([SCHEMA_SHAPE, FIELD_TYPES], schema)
        return
    data: dict = schema["data"] if isinstance(schema.get("data"), dict) else {}
    parsed = table_schema(data)
    if parsed.shape == "fields":
        yield probe.result(
            SCHEMA_SHAPE, asked, f"the older shape: `fields` ({len(parsed.columns)}), identity marked is_by", False
        )
    elif "columns" in data:
        shown = f"`columns` ({len(parsed.columns)}), `by_fields`: {', '.join(parsed.by_fields) or 'none'}"
        yield probe.result(SCHEMA_SHAPE, asked, shown, "by_fields" in data)
    else:
        yield probe.result(SCHEMA_SHAPE, asked, f"neither `columns` nor `fields` in data ({', '.join(data)})", None)
    kinds = sorted({str(column.get("type") or "") for column in parsed.columns})
    other = [kind for kind in kinds if _base_kind(kind) not in DOCUMENTED_KINDS]
    if not kinds:
        yield probe.result(FIELD_TYPES, asked, "no field listed", None)
    elif other:
        yield probe.result(FIELD_TYPES, asked, "other types: " + ", ".join(map(_type_handling, other)), False)
    else:
        yield probe.result(FIELD_TYPES, asked, f"types: {', '.join(kinds)}", True)


def envelope_status_check(client: ProbeRequests) -> ProbeResult:
    """The `status` of every envelope the probe read (the lookup's aside): 200 or "200", else which."""
    if not client.statuses:
        return probe.result(ENVELOPE_STATUS, "(the requests above)", "no envelope was read", None)
    shown = "; ".join(f"{status} on {', '.join(where)}" for status, where in client.statuses.items())
    documented = set(client.statuses) <= {"200", "'200'"}
    return probe.result(ENVELOPE_STATUS, "(the requests above)", shown, documented)


def lookup_checks(
    client: ProbeRequests, settings: LyticsSettings, schema: dict | ProbeRequestError
) -> t.Iterator[ProbeResult]:
    """One lookup of a profile nobody has, on the table's first identity field: 404 or the 200
    placeholder, and whether it answered "Timed out" first."""
    table = settings.table
    data = schema.get("data") if isinstance(schema, dict) else None
    parsed = table_schema(data if isinstance(data, dict) else {})
    field = (identity_fields(parsed.by_fields, parsed.columns) or ("_uid",))[0]
    path = f"/api/entity/{table}/{field}/{NO_SUCH_PROFILE}"
    timeouts = 0
    try:
        for _ in range(LOOKUP_TRIES):
            asked, status, document = client.lookup(path, {"segments": "true"})
            if status != HTTPStatus.OK or document is None or not is_timed_out(document.get("message")):
                break
            timeouts += 1
    except ProbeRequestError as failed:
        yield from untested([NOT_FOUND_404, LOOKUP_ANSWERS], failed)
        return
    if timeouts == LOOKUP_TRIES:
        said = f'"Timed out" on all {LOOKUP_TRIES} tries'
        yield probe.result(NOT_FOUND_404, asked, said, None)
    elif status == HTTPStatus.NOT_FOUND:
        yield probe.result(NOT_FOUND_404, asked, f"HTTP 404, envelope status {_status_of(document)}", True)
    elif document is not None and is_not_found_placeholder(document):
        said = f"HTTP 200, message {document.get('message')!r}, the placeholder (the tap records found=false)"
        yield probe.result(NOT_FOUND_404, asked, said, False)
    else:
        yield probe.result(NOT_FOUND_404, asked, f"HTTP {status}, neither a 404 nor the placeholder", None)
    if timeouts:
        said = f'"Timed out" on {timeouts} of {LOOKUP_TRIES} tries (the tap retries it; if it lasts, found=null)'
        yield probe.result(LOOKUP_ANSWERS, asked, said, False)
    else:
        yield probe.result(LOOKUP_ANSWERS, asked, f"answered HTTP {status} at the first try", True)


def credentials_check(asked: str, accounts: list[dict]) -> ProbeResult:
    found = sorted({name for row in accounts for name in row if name.lower() in AccountsStream.credential_fields})
    for row in accounts:  # mask them in anything printed from now on
        kit_secrets.install(str(row[name]) for name in row if name in found and isinstance(row[name], (str, int)))
    if not accounts:
        return probe.result(NO_CREDENTIALS, asked, "no account record", None)
    if found:
        return probe.result(
            NO_CREDENTIALS,
            asked,
            f"account records carry {', '.join(found)} (values not shown; the tap drops them)",
            False,
        )
    return probe.result(
        NO_CREDENTIALS, asked, f"fields: {', '.join(sorted({n for row in accounts for n in row}))}", True
    )


def largest_audience(client: ProbeRequests, settings: LyticsSettings) -> tuple[str | None, int | None, str]:
    """(id, size, requests) of the biggest audience among the configured ones, else among the table's."""
    asked_list, listing = client.get("/api/segment", {"table": settings.table}, endpoint="/api/segment")
    segments = [row for row in _as_list(listing.get("data")) if isinstance(row, dict) and row.get("id")]
    wanted = set(settings.segments)
    chosen = [row["id"] for row in segments if not wanted or {row.get("id"), row.get("slug_name")} & wanted]
    if not chosen:
        return None, None, asked_list
    ids = ",".join(chosen[:SIZES_PER_REQUEST])
    asked_sizes, sizes = client.get("/api/segment/sizes", {"ids": ids}, endpoint="/api/segment/sizes")
    rows = [row for row in _as_list(sizes.get("data")) if isinstance(row, dict)]
    sized = [(int(row["size"]), str(row["id"])) for row in rows if _is_count(row.get("size")) and row.get("id")]
    if not sized:
        return chosen[0], None, f"{asked_list}; {asked_sizes}"
    size, segment = max(sized)
    return segment, size, f"{asked_list}; {asked_sizes}"


def scalar_identity_check(asked: str, rows: list[dict], columns: list[dict], fields: t.Sequence[str]) -> ProbeResult:
    types = {str(column.get("as")): str(column.get("type") or "") for column in columns}
    arrays = sorted(
        {field for field in fields if "[]" in types.get(field, "")}
        | {field for row in rows for field in fields if isinstance(row.get(field), list)}
    )
    seen = sorted({field for row in rows for field in fields if row.get(field) not in (None, "")})
    if arrays:
        return probe.result(
            SCALAR_IDENTITY,
            asked,
            f"array-valued identity field(s): {', '.join(arrays)} (the tap keys on the smallest element)",
            False,
        )
    if not seen:
        return probe.result(
            SCALAR_IDENTITY,
            asked,
            f"no identity field ({', '.join(fields) or 'none listed'}) on {len(rows)} row(s)",
            None,
        )
    return probe.result(SCALAR_IDENTITY, asked, f"single values in {', '.join(seen)}", True)


def keyed_rows_check(asked: str, rows: list[dict], key: MemberKey) -> ProbeResult:
    if not rows:
        return probe.result(KEYED_ROWS, asked, "the scan page held no row", None)
    missing = sum(1 for row in rows if key(row) is None)
    answer = f"{missing} of {len(rows)} row(s) without a value in {', '.join(key.fields) or '(no identity field)'}"
    return probe.result(
        KEYED_ROWS, asked, answer + ("; the tap counts and reports them" if missing else ""), missing == 0
    )


def typed_values_check(asked: str, rows: list[dict], columns: list[dict]) -> ProbeResult:
    kinds = {str(column.get("as")): _base_kind(str(column.get("type") or "")) for column in columns}
    typed_fields = {field for field, kind in kinds.items() if kind in TYPED_KINDS}
    as_text: set[str] = set()
    native = 0
    for row in rows:
        for field in typed_fields & row.keys():
            values = _scalars_of(row[field])
            as_text.update(field for value in values if isinstance(value, str))
            native += sum(1 for value in values if not isinstance(value, str))
    if as_text:
        return probe.result(
            TYPED_VALUES,
            asked,
            f"text values in {', '.join(sorted(as_text))} (the tap types them by the schema)",
            False,
        )
    if not native:
        return probe.result(TYPED_VALUES, asked, "no number or boolean field on the rows read", None)
    return probe.result(TYPED_VALUES, asked, f"{native} typed value(s) in {', '.join(sorted(typed_fields))}", True)


def page_limit_check(asked: str, rows: list[dict], total: t.Any, size: int | None) -> ProbeResult:
    members = int(total) if _is_count(total) else size
    if len(rows) > PROBE_LIMIT:
        return probe.result(PAGE_LIMIT, asked, f"{len(rows)} rows for limit={PROBE_LIMIT}", False)
    if members is None or members <= PROBE_LIMIT - 1:
        return probe.result(
            PAGE_LIMIT,
            asked,
            f"{len(rows)} rows; the audience has {members} members, more than 100 are needed to tell",
            None,
        )
    expected = min(PROBE_LIMIT, members)
    answer = f"{len(rows)} rows for limit={PROBE_LIMIT} (audience of {members})"
    return probe.result(
        PAGE_LIMIT,
        asked,
        answer + ("" if len(rows) == expected else "; the tap asks at most 100 anyway"),
        len(rows) == expected,
    )


def cursor_check(client: ProbeRequests, segment_id: str | None) -> t.Iterator[ProbeResult]:
    if segment_id is None:
        yield probe.result(CURSOR_ADVANCES, "(no scan)", "no audience could be scanned", None)
        return
    path = f"/api/segment/{segment_id}/scan"
    try:
        asked_first, first = client.get(path, {"limit": CURSOR_LIMIT}, endpoint="/api/segment/<id>/scan")
        cursor = first.get("_next") or None
        if cursor is None:
            yield probe.result(CURSOR_ADVANCES, asked_first, "the first page of 2 was the last (empty `_next`)", None)
            return
        _, second = client.get(path, {"limit": CURSOR_LIMIT, "start": cursor}, endpoint="/api/segment/<id>/scan")
    except ProbeRequestError as failed:
        yield from untested([CURSOR_ADVANCES], failed)
        return
    following = second.get("_next") or None
    asked = f"{asked_first}; then start=<page 1's _next>"
    if following == cursor:
        yield probe.result(
            CURSOR_ADVANCES,
            asked,
            "page 2 gave the same `_next` as page 1 (the tap stops when a page brings no unseen row)",
            False,
        )
    else:
        yield probe.result(
            CURSOR_ADVANCES,
            asked,
            "page 2 gave " + ("an empty `_next`" if following is None else "a new `_next`"),
            True,
        )


def _status_of(document: dict | None) -> str:
    return repr(document["status"]) if document and "status" in document else NO_STATUS


def _type_handling(kind: str) -> str:
    """A Lytics type beyond the documented ones, with what the tap does with it."""
    if _base_kind(kind) in KEPT_IN_EXTRA:
        return f"{kind} (kept in _extra)"
    schema = json_type(kind)
    if schema is not None:
        return f"{kind} ({'date-time' if schema.get('format') == 'date-time' else schema['type'][0]} column)"
    return f"{kind} (unknown: kept in _extra)"


def _as_list(value: t.Any) -> list:
    return value if isinstance(value, list) else []


def _is_count(value: t.Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip().isdigit()
    )


def _base_kind(lytics_type: str) -> str:
    """`int` for int, []int, map[string]int ..."""
    kind = lytics_type.strip()
    return kind.split("]", 1)[1] if "]" in kind else kind


def _scalars_of(value: t.Any) -> list:
    if isinstance(value, dict):
        return [item for item in value.values() if item is not None]
    if isinstance(value, list):
        return [item for item in value if item is not None]
    return [] if value is None else [value]


__all__ = ["ASSUMPTIONS", "probe_lytics"]
