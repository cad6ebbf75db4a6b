"""Lytics API: one method per endpoint the tap calls, and the vendor's quirks, in one place.

- auth is the raw token in `Authorization` (no `Bearer` prefix);
- every answer is an envelope {data, status, message, request_id}; `status` is sometimes the
  string "200" (go-lytics notes it), so both forms count as success, and any other status is an
  error showing the vendor's message, even when the HTTP status is 200; an envelope status of 429
  or 5xx (the vendor's "server error, retry with backoff") is retried like the HTTP status would be;
- path segments (tables, identity values such as emails, request ids) are percent-encoded whole;
- an HTTP 404 with a Lytics error body on a lookup means "no such entity", which the lookup methods
  answer with None (the streams record it) rather than a failure.

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

import typing as t
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote

from tapkit import VendorApi, VendorResponse, VendorResponseError
from tapkit.http import RetriableResponseError

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SUCCESS_STATUS = "200"
MAX_SCAN_PAGE = 100  # lytics/agent-skills: a scan page holds at most 100 rows whatever `limit` asks
SIZES_PER_REQUEST = 50  # keeps `ids=` well under URL length limits (accounts have up to 500 audiences)


def is_success(status: t.Any) -> bool:
    return status is not None and str(status).strip() == SUCCESS_STATUS


def is_transient(status: t.Any) -> bool:
    """An envelope status worth another try: 429 (rate limited) or any 5xx."""
    code = str(status).strip()
    return code.isdigit() and (int(code) == HTTPStatus.TOO_MANY_REQUESTS or 500 <= int(code) <= 599)


def segment(value: t.Any) -> str:
    """One path segment, percent-encoded whole (an email's `@`, a `/` in a value)."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class TableSchema:
    """`GET /api/schema/<table>`: the table's identity fields and its columns, as Lytics sent them."""

    by_fields: tuple[str, ...]
    columns: tuple[dict, ...]


@dataclass
class ScanAnswer:
    """One page of a segment scan: its rows (read from the spooled body as they are taken) and `_next`."""

    rows: Iterator[dict]
    following: str | None  # `_next` (None: empty or missing)


class LyticsApi(VendorApi):
    """The Lytics endpoints tap-lytics reads (all GET)."""

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": str(self.config["api_key"])}

    def check(self, answer: VendorResponse) -> None:
        # Inside the retried attempt: a transient error envelope behind HTTP 200 is tried again,
        # any other non-success envelope stops with the vendor's message.
        envelope = answer.scalars(("status", "message"))
        status, message = envelope.get("status"), envelope.get("message") or "(no message)"
        if is_transient(status):
            raise RetriableResponseError(f"envelope status {status!r}: {message}", answer)
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
        """`GET /api/schema/<table>`: identity fields (`by_fields`) and columns."""
        answer = self.get(f"/api/schema/{segment(table)}", endpoint="/api/schema/{table}")
        data = self._object(answer, "no schema object in `data`")
        return TableSchema(
            by_fields=tuple(field for field in data.get("by_fields") or [] if isinstance(field, str)),
            columns=tuple(column for column in data.get("columns") or [] if isinstance(column, dict)),
        )

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

    def entity(self, table: str, field: str, value: str) -> dict | None:
        """`GET /api/entity/<table>/<field>/<value>?segments=true`: one profile with its audiences;
        None when Lytics has no such profile."""
        return self._lookup(
            f"/api/entity/{segment(table)}/{segment(field)}/{segment(value)}",
            {"segments": "true"},
            endpoint="/api/entity/{table}/{lookup_field}/{lookup_value}",
            context={"lookup_field": field, "lookup_value": value},
        )

    def deletion_status(self, request_id: str) -> dict | None:
        """`GET /api/entity/deletestatus/<request_id>`: a GDPR deletion's state; None for an unknown id."""
        return self._lookup(
            f"/api/entity/deletestatus/{segment(request_id)}",
            None,
            endpoint="/api/entity/deletestatus/{request_id}",
            context={"request_id": request_id},
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
        self, path: str, params: Mapping[str, t.Any] | None, *, endpoint: str, context: Mapping[str, t.Any]
    ) -> dict | None:
        answer = self.get(path, params, endpoint=endpoint, context=context, tolerate=(HTTPStatus.NOT_FOUND,))
        try:
            if answer.status == HTTPStatus.NOT_FOUND:
                if self.is_unknown_entity(answer):
                    return None
                raise answer.error(f"an error (HTTP {answer.status})")
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
