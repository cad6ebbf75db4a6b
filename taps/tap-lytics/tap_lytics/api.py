"""Lytics API: one method per endpoint the tap calls, and the vendor's quirks, in one place.

- auth is the raw token in `Authorization` (no `Bearer` prefix);
- every answer is an envelope {data, status, message, request_id}; an error is HTTP >= 400 or an
  envelope `status` of 400 or more, as a number or numeric text (go-lytics: "the Status is returned
  as a string" at times), shown with the vendor's message even when the HTTP status is 200. Anything
  else is a success: 200, "200", "success" and a missing status all appear in Lytics' own v1
  examples, and lio-client fails only on a status >= 400. An envelope status of 429 or 5xx (the
  vendor's "server error, retry with backoff") is retried like the HTTP status would be, and so is
  an answer whose message is "Timed out" (lytics/agent-skills: a lookup that timed out answers 200);
- path segments (tables, identity values such as emails, request ids) are percent-encoded whole;
- an HTTP 404 with a Lytics error body on a lookup means "no such entity", which the lookup methods
  answer with `NOT_FOUND` (the streams record it) rather than a failure; so does the 200 placeholder
  lytics/agent-skills describes, `message: "Not Found"` or the segment `not_found` in
  `{"segments": ["not_found", "all"]}`, and an envelope status 404 inside an HTTP 200; a lookup still
  "Timed out" after the last attempt is `TIMED_OUT` (unknown, never a profile);
- `/api/schema/<table>` comes as `columns` + `by_fields` (go-lytics, lio-client) or, in the v1
  examples, as `fields` whose identity fields are marked `is_by`: both are read (`table_schema`).

From newer public evidence (vendor-evidence.md; each checked by `tap-lytics --probe`, see probe.py):
- account records may carry the API keys `apikey` and `dataapikey` (lytics-js): `AccountsStream` drops them;
- profiles carry `_uids`, an array, not a scalar `_uid`, and scan rows only their populated fields: members
  are keyed by `identity.MemberKey` (profile_key, else the schema's identity fields), unkeyed rows counted;
- numbers and booleans may arrive as text ("100", "t"): `scalars.ScalarTyping` types them by the schema;
- a scan page holds at most 100 rows whatever `limit` asks, and `_next` can stay the same from page to page:
  `limit` is at most 100 (`MAX_SCAN_PAGE`), and `scan_pages` ends a scan once a page brings no unseen member.

The api knows nothing of streams, state or Singer: it asks and answers.
"""

from __future__ import annotations

import copy
import typing as t
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from urllib.parse import quote

from typing_extensions import override

from tapkit import RetriesExhaustedError, VendorApi, VendorResponse, VendorResponseError
from tapkit.http import RetriableResponseError

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tap_lytics.settings import LyticsSettings

FIRST_ERROR_STATUS = 400
NOT_FOUND_MESSAGE = "not found"  # compared case-insensitively, like the two below
NOT_FOUND_SEGMENT = "not_found"
TIMED_OUT_MESSAGE = "timed out"
MAX_SCAN_PAGE = 100  # lytics/agent-skills: a scan page holds at most 100 rows whatever `limit` asks
SIZES_PER_REQUEST = 50  # keeps `ids=` well under URL length limits (accounts have up to 500 audiences)


def status_code(status: t.Any) -> int | None:
    """An envelope status as a number (200, "200", " 404 "); None for a word ("success", "ok") or none."""
    if isinstance(status, bool):
        return None
    if isinstance(status, int):
        return status
    text = str(status).strip() if isinstance(status, str) else ""
    return int(text) if text.isascii() and text.isdigit() else None


def is_success(status: t.Any) -> bool:
    """Any envelope status but a number (or numeric text) of 400 or more; a missing status included."""
    code = status_code(status)
    return code is None or code < FIRST_ERROR_STATUS


def is_transient(status: t.Any) -> bool:
    """An envelope status worth another try: 429 (rate limited) or any 5xx."""
    code = status_code(status)
    return code is not None and (code == HTTPStatus.TOO_MANY_REQUESTS or 500 <= code <= 599)


def is_timed_out(message: t.Any) -> bool:
    return isinstance(message, str) and message.strip().lower() == TIMED_OUT_MESSAGE


def is_not_found_placeholder(document: t.Mapping[str, t.Any]) -> bool:
    """A lookup's 200 answer that stands for "no such entity": message "Not Found", or the `not_found`
    segment in `data.segments` (lytics/agent-skills: `{"segments": ["not_found", "all"]}`)."""
    message = document.get("message")
    if isinstance(message, str) and message.strip().lower() == NOT_FOUND_MESSAGE:
        return True
    data = document.get("data")
    segments = data.get("segments") if isinstance(data, dict) else None
    return isinstance(segments, list) and any(
        isinstance(slug, str) and slug.strip().lower() == NOT_FOUND_SEGMENT for slug in segments
    )


def segment(value: t.Any) -> str:
    """One path segment, percent-encoded whole (an email's `@`, a `/` in a value)."""
    return quote(str(value), safe="")


class Lookup(Enum):
    """What an entity lookup answers instead of a profile."""

    NOT_FOUND = "not found"  # HTTP 404 with the Lytics body, or the 200 placeholder
    TIMED_OUT = "timed out"  # "Timed out" on every attempt: Lytics could not tell


class TimedOutAnswer(RetriableResponseError):
    """An answer whose message is "Timed out": retried; a lookup's last one gives `Lookup.TIMED_OUT`."""


@dataclass(frozen=True)
class TableSchema:
    """`GET /api/schema/<table>`: the table's identity fields and its columns, as Lytics sent them."""

    by_fields: tuple[str, ...]
    columns: tuple[dict, ...]
    shape: str = "columns"  # "columns" (with by_fields), or "fields" (the v1 examples' older shape)


def table_schema(data: t.Mapping[str, t.Any]) -> TableSchema:
    """The schema's `data`, in either shape: `columns` + `by_fields`, or `fields` (identity marked `is_by`)."""
    shape = "columns" if isinstance(data.get("columns"), list) or not isinstance(data.get("fields"), list) else "fields"
    by_fields = data.get("by_fields")
    return TableSchema(
        by_fields=tuple(field for field in by_fields if isinstance(field, str)) if isinstance(by_fields, list) else (),
        columns=tuple(column for column in data.get(shape) or [] if isinstance(column, dict)),
        shape=shape,
    )


@dataclass
class ScanAnswer:
    """One page of a segment scan: its rows (read from the spooled body as they are taken) and `_next`."""

    rows: Iterator[dict]
    following: str | None  # `_next` (None: empty or missing)


class LyticsApi(VendorApi):
    """The Lytics endpoints tap-lytics reads (all GET)."""

    settings: LyticsSettings

    @override
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": self.settings.api_key}

    @override
    def check(self, answer: VendorResponse) -> None:
        # Inside the retried attempt: a transient error envelope behind HTTP 200 is tried again,
        # any other non-success envelope stops with the vendor's message.
        envelope = answer.scalars(("status", "message"))
        status, message = envelope.get("status"), envelope.get("message") or "(no message)"
        if is_transient(status):
            raise RetriableResponseError(f"envelope status {status!r}: {message}", answer)
        if is_timed_out(message):
            raise TimedOutAnswer(f"envelope message {message!r}", answer)
        if not is_success(status):
            raise VendorResponseError(f"{self.vendor}: {answer.described} answered status {status!r}: {message}")

    # -- endpoints ----------------------------------------------------------------------------------

    def accounts(self) -> Iterator[dict]:
        """`GET /api/account`: the accounts of the token."""
        yield from self._rows(self.get("/api/account"))

    def segments(self, table: str) -> list[dict]:
        """`GET /api/segment?table=`: the table's audiences (at most 500 per account: one answer)."""
        return list(self._rows(self.get("/api/segment", {"table": table})))

    def schema(self, table: str) -> TableSchema:
        """`GET /api/schema/<table>`: identity fields and columns (either shape, see `table_schema`)."""
        answer = self.get(f"/api/schema/{segment(table)}", endpoint="/api/schema/{table}")
        try:
            return table_schema(self._object(answer, "no schema object in `data`"))
        finally:
            answer.close()

    def segment_sizes(self, ids: t.Sequence[str]) -> Iterator[dict]:
        """`GET /api/segment/sizes?ids=`: {id, size ...} per audience, `SIZES_PER_REQUEST` ids per request."""
        for first in range(0, len(ids), SIZES_PER_REQUEST):
            chunk = ",".join(ids[first : first + SIZES_PER_REQUEST])
            yield from self._rows(self.get("/api/segment/sizes", {"ids": chunk}, context={"ids": chunk}))

    def segment_scan(self, segment_id: str, cursor: str | None, limit: int) -> ScanAnswer:
        """`GET /api/segment/<id>/scan?limit=&start=`: one page of the audience's profiles.
        A refused cursor is a `VendorResponseError` like any other refusal (the caller decides)."""
        params: dict[str, t.Any] = {"limit": limit}
        if cursor:
            params["start"] = cursor
        answer = self.get(
            f"/api/segment/{segment(segment_id)}/scan",
            params,
            endpoint="/api/segment/{segment_id}/scan",
            context={"segment_id": segment_id},
        )
        following = answer.scalars(("_next",)).get("_next") or None
        return ScanAnswer(self._rows(answer), following)

    def entity(self, table: str, field: str, value: str) -> dict | Lookup:
        """`GET /api/entity/<table>/<field>/<value>?segments=true`: one profile with its audiences;
        `Lookup.NOT_FOUND` when Lytics has no such profile, `Lookup.TIMED_OUT` when it timed out on
        every attempt."""
        return self._lookup(
            f"/api/entity/{segment(table)}/{segment(field)}/{segment(value)}",
            {"segments": "true"},
            endpoint="/api/entity/{table}/{lookup_field}/{lookup_value}",
            # the value is personal data (an email, a phone number): never in logs, errors or metrics
            context={"lookup_field": field},
            redacted_path=f"/api/entity/{segment(table)}/{segment(field)}/{{lookup_value}}",
        )

    def deletion_status(self, request_id: str) -> dict | Lookup:
        """`GET /api/entity/deletestatus/<request_id>`: a GDPR deletion's state; `Lookup.NOT_FOUND` for
        an unknown id, `Lookup.TIMED_OUT` when it timed out on every attempt."""
        return self._lookup(
            f"/api/entity/deletestatus/{segment(request_id)}",
            None,
            endpoint="/api/entity/deletestatus/{request_id}",
            context={"request_id": request_id},
            redacted_path=None,
        )

    # -- bodies ---------------------------------------------------------------------------------------

    @staticmethod
    def _rows(answer: VendorResponse) -> Iterator[dict]:
        """The elements of the envelope's `data` array, parsed incrementally; the body goes after."""
        try:
            yield from answer.items("data.item")
        finally:
            answer.close()

    def _lookup(
        self,
        path: str,
        params: Mapping[str, t.Any] | None,
        *,
        endpoint: str,
        context: Mapping[str, t.Any],
        redacted_path: str | None,
    ) -> dict | Lookup:
        """One entity's answer: its `data`, or what stands for "no such entity" (HTTP 404 with the Lytics
        body; HTTP 200 with envelope status 404, message "Not Found" or the `not_found` segment), or
        `Lookup.TIMED_OUT` when the answer was still "Timed out" once the retries ran out."""
        timed_out = False

        def check(answer: VendorResponse) -> None:
            # The kit retries a "Timed out" answer like any transient error; noting that one came lets
            # retries running out end as "unknown" rather than as a failed sync (Lytics never gave a real
            # answer then: any other attempt failed on the network or with a 5xx).
            nonlocal timed_out
            if status_code(answer.scalars(("status",)).get("status")) == HTTPStatus.NOT_FOUND:
                return  # "no such entity" inside an HTTP 200: read below, not an error
            try:
                LyticsApi.check(self, answer)
            except TimedOutAnswer:
                timed_out = True
                raise

        asking = copy.copy(self)
        asking.check = check  # type: ignore[method-assign] # this lookup's requests only: an instance attribute
        try:
            answer = asking.get(
                path,
                params,
                endpoint=endpoint,
                context=context,
                tolerate=(HTTPStatus.NOT_FOUND,),
                redacted_path=redacted_path,
            )
        except RetriesExhaustedError:
            if timed_out:
                return Lookup.TIMED_OUT
            raise
        try:
            if answer.status == HTTPStatus.NOT_FOUND:
                if self.is_unknown_entity(answer):
                    return Lookup.NOT_FOUND
                raise answer.error(f"an error (HTTP {answer.status})")
            document = answer.document()
            if isinstance(document, dict) and (
                status_code(document.get("status")) == HTTPStatus.NOT_FOUND or is_not_found_placeholder(document)
            ):
                return Lookup.NOT_FOUND
            return self._object(answer, "no object in `data`")
        finally:
            answer.close()

    @staticmethod
    def is_unknown_entity(answer: VendorResponse) -> bool:
        """A 404 with the Lytics error envelope (not, say, an HTML 404 from a wrong api_url)."""
        try:
            document = answer.document()
        except VendorResponseError:
            return False
        return isinstance(document, dict) and str(document.get("status")) == "404"

    @staticmethod
    def _object(answer: VendorResponse, missing: str) -> dict:
        """The envelope's `data` object of a small answer (the envelope's status was checked already)."""
        document = answer.document()
        if not isinstance(document, dict):
            raise answer.error("a body that is not an envelope")
        data = document.get("data")
        if not isinstance(data, dict):
            raise answer.error(missing)
        return data
