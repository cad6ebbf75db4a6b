"""One stream per Lytics resource (thin: name, path, keys, schema)."""

from __future__ import annotations

import typing as t
from functools import cached_property
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema
from tapkit import EXTRA_COLUMN, VendorResponseError

from tap_lytics import scan_state
from tap_lytics.client import LyticsObjectStream, LyticsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")
SIZES_PER_REQUEST = 50  # keeps `ids=` well under URL length limits (accounts have up to 500 audiences)

_EXTRA_SCHEMA = {
    "type": ["object", "null"],
    "additionalProperties": True,
    "description": "Vendor fields not in this schema, or values that did not fit their column's type (vendor field name -> raw value).",
}
_SEGMENT_SLUGS = {
    "type": ["array", "null"],
    "items": {"type": ["string"]},
    "description": "Vendor field `segments`: slugs of the audiences the profile belongs to.",
}
#: columns the tap itself defines on profile rows; a schema field of the same name goes to `_extra`.
PROFILE_RESERVED = frozenset({"segment_id", "profile_id", "segments", "lookup_field", "lookup_value", "found", EXTRA_COLUMN})


def _object_schema(properties: dict[str, dict], required: list[str]) -> dict:
    return {"type": "object", "properties": {**properties, EXTRA_COLUMN: _EXTRA_SCHEMA}, "required": required}


def audience_members_schema(profile_columns: dict[str, dict]) -> dict:
    keys = {
        "segment_id": {"type": ["string"], "description": "Id of the scanned audience (resolved from setting `segments`)."},
        "profile_id": {"type": ["string"], "description": "Value of the profile field named by setting `profile_key`."},
    }
    return _object_schema({**keys, "segments": _SEGMENT_SLUGS, **profile_columns}, list(keys))


def profiles_schema(profile_columns: dict[str, dict]) -> dict:
    keys = {
        "lookup_field": {"type": ["string"], "description": "`field` of the profile_lookups entry."},
        "lookup_value": {"type": ["string"], "description": "`value` of the profile_lookups entry."},
    }
    found = {"found": {"type": ["boolean", "null"], "description": "False when Lytics has no such profile (HTTP 404)."}}
    return _object_schema({**keys, **found, "segments": _SEGMENT_SLUGS, **profile_columns}, list(keys))


class AccountsStream(LyticsStream):
    name = "accounts"
    path = "/api/account"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)


class FetchedOnceStream(LyticsStream):
    """A small list read in one request that other parts of the run need too: fetched once per run,
    then shared (the rows as the vendor sent them) by those parts and by this stream's own sync."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._fetched: list[dict] | None = None

    def fetch_rows(self) -> list[dict]:
        if self._fetched is None:
            self._fetched = list(super().request_records(None))
        return self._fetched

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.fetch_rows()


class SegmentsStream(FetchedOnceStream):
    """The audiences of the table; at most 500 per account, so read whole every run (once: the
    audience streams resolve their segments from the same answer)."""

    name = "segments"
    path = "/api/segment"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"table": self.config["table"]}


class SchemaFieldsStream(FetchedOnceStream):
    """The table's columns (once: discovery types the profile streams from the same answer)."""

    name = "schema_fields"
    path = "/api/schema/{table}"
    records_prefix = "data.columns.item"
    primary_keys = ("table", "field")
    schema = StreamSchema(SCHEMAS)
    field_renames: t.ClassVar[dict[str, str]] = {
        "as": "field",
        "is_by": "is_identity",
        "op": "merge_op",
        "shortdesc": "short_description",
        "longdesc": "long_description",
        "froms": "source_fields",
    }

    def prepare_row(self, row: dict, context: Context | None) -> dict:
        return {"table": self.config["table"], **row}


class SegmentSizesStream(LyticsStream):
    """One size snapshot per audience and run (for trend tables): the configured audiences, else all."""

    name = "segment_sizes"
    path = "/api/segment/sizes"
    primary_keys = ("segment_id", "measured_at")
    schema = StreamSchema(SCHEMAS)
    field_renames: t.ClassVar[dict[str, str]] = {"id": "segment_id"}

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        ids = self._tap.sized_segment_ids()
        for first in range(0, len(ids), SIZES_PER_REQUEST):
            yield from self.request_records({"ids": ",".join(ids[first : first + SIZES_PER_REQUEST])})

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"ids": (context or {})["ids"]}

    def prepare_row(self, row: dict, context: Context | None) -> dict:
        return {**row, "measured_at": self._tap.run_started_at}


class AudienceMembersStream(LyticsStream):
    """The profiles of each configured audience, by segment scan; one state partition per audience.

    State per partition: {"next": cursor of the next page or None, "saved_at"}, written after each
    page is fully emitted (see `scan_state`).
    """

    name = "audience_members"
    path = "/api/segment/{segment_id}/scan"
    primary_keys = ("segment_id", "profile_id")
    state_partitioning_keys: t.ClassVar[list[str]] = ["segment_id"]

    @property
    def partitions(self) -> list[dict]:
        return [{"segment_id": segment_id} for segment_id in self._tap.audience_ids()]

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"limit": self.config["scan_page_size"]}
        if next_page_token:
            params["start"] = next_page_token
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        if not context:
            return  # no audience configured
        state = self.get_context_state(context)
        cursor, why = scan_state.resume_cursor(state, scan_state.utc_now())
        if state.get("next"):
            log = self.logger.info if cursor else self.logger.warning  # a restart re-reads what was loaded
            log("audience_members: segment %s: %s", context["segment_id"], why)
        for response, requested, following in self.scans.take(context["segment_id"]):
            yield from self.parse_response(response)
            if following is not None and following == requested:
                raise VendorResponseError(f"{self.vendor}: the scan of segment {context['segment_id']} returned the same _next twice")
            scan_state.save(state, following, scan_state.utc_now())
            self.state_manager.is_flushed = False
            self._write_state_message()

    @cached_property
    def scans(self) -> t.Any:
        """Every audience's scan, fetched ahead by `max_concurrency` workers (emitted in order)."""
        now = scan_state.utc_now()
        starts = {
            partition["segment_id"]: scan_state.resume_cursor(self.saved_partition_state(partition), now)[0]
            for partition in self.partitions
        }
        return self._tap.prefetch(starts, lambda segment_id: self.scan_pages(segment_id, starts[segment_id]))

    def saved_partition_state(self, context: dict) -> dict:
        """A partition's state as the run started, read without creating state entries."""
        for partition in self.stream_state.get("partitions", []):
            if partition.get("context") == context:
                return partition
        return {}

    def scan_pages(self, segment_id: str, cursor: str | None) -> t.Iterator[tuple[t.Any, str | None, str | None]]:
        """(response, the cursor it was asked with, the `_next` it gave) per page (runs in a worker)."""
        context = {"segment_id": segment_id}
        send = self.request_decorator(self._request)
        resumed = cursor is not None
        while True:
            try:
                response = send(self.prepare_request(context, next_page_token=cursor), context)
            except VendorResponseError as exc:
                if not resumed:
                    raise
                self.logger.warning("audience_members: segment %s: the saved cursor was refused (%s); scanning again", segment_id, exc)
                cursor, resumed = None, False
                continue
            resumed = False
            following = self.body_scalars(response, ("_next",)).get("_next") or None
            yield response, cursor, following
            if following is None or following == cursor:
                return
            cursor = following

    def prepare_row(self, row: dict, context: Context | None) -> dict:
        key = self.config["profile_key"]
        value = row.get(key)
        if value is None or value == "" or isinstance(value, (list, dict)):
            raise VendorResponseError(
                f"{self.vendor}: a profile in segment {(context or {}).get('segment_id')} has no single value in field "
                f"{key!r}; set profile_key to an identity field every profile has (default _uid)"
            )
        return {**row, "segment_id": (context or {})["segment_id"], "profile_id": str(value)}


class ProfilesStream(LyticsObjectStream):
    """Subject-access lookups: one profile per profile_lookups entry, with its audiences."""

    name = "profiles"
    path = "/api/entity/{table}/{lookup_field}/{lookup_value}"
    primary_keys = ("lookup_field", "lookup_value")
    lookup = True

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"segments": "true"}

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        lookups = self.config.get("profile_lookups") or []
        missing = 0
        for lookup in lookups:
            identity = {"lookup_field": lookup["field"], "lookup_value": lookup["value"]}
            for row in self.request_records(identity):
                missing += row.get("found") is False
                yield {**row, **identity}
        if missing:
            self.logger.warning("profiles: %d of %d lookups matched no Lytics profile (recorded with found=false)", missing, len(lookups))


class DeletionRequestsStream(LyticsObjectStream):
    """The state of each GDPR deletion request (read only: the tap never calls a DELETE endpoint)."""

    name = "deletion_requests"
    path = "/api/entity/deletestatus/{request_id}"
    primary_keys = ("request_id",)
    schema = StreamSchema(SCHEMAS)
    lookup = True

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        for request_id in self.config.get("deletion_request_ids") or []:
            for row in self.request_records({"request_id": request_id}):
                yield {**row, "request_id": request_id}

    def prepare_row(self, row: dict, context: Context | None) -> dict:
        state = row.get("state")
        if isinstance(state, dict) and set(state) == {"current"}:
            row["state"] = state["current"]
        return {**row, "checked_at": self._tap.run_started_at}
