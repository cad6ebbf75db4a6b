"""One stream per Lytics resource (thin: name, keys, schema, shaping); each asks `LyticsApi` (api.py)."""

from __future__ import annotations

import typing as t
from functools import cached_property
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_lytics import scan_state
from tap_lytics.api import MAX_SCAN_PAGE, Lookup, LyticsApi
from tap_lytics.identity import MemberKey
from tap_lytics.scalars import ScalarTyping
from tap_lytics.scan_pages import ScanPage, ScanProgress
from tapkit import EXTRA_COLUMN, CompleteSnapshot, ConfigError, VendorResponseError, VendorStream
from tapkit import secrets as kit_secrets
from tapkit.state import saved_partition_state

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_lytics.api import TableSchema
    from tap_lytics.audiences import AudienceCatalog
    from tap_lytics.settings import LyticsSettings
    from tapkit.concurrency import OrderedPrefetch

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")

_EXTRA_SCHEMA = {
    "type": ["object", "null"],
    "additionalProperties": True,
    "description": "Vendor fields not in this schema, or values that did not fit their column's type "
    "(vendor field name -> raw value).",
}
_SEGMENT_SLUGS = {
    "type": ["array", "null"],
    "items": {"type": ["string"]},
    "description": "Vendor field `segments`: slugs of the audiences the profile belongs to.",
}
#: columns the tap itself defines on profile rows; a schema field of the same name goes to `_extra`.
PROFILE_RESERVED = frozenset(
    {"segment_id", "profile_id", "segments", "lookup_field", "lookup_value", "found", EXTRA_COLUMN}
)


def _object_schema(properties: dict[str, dict], required: list[str]) -> dict:
    return {"type": "object", "properties": {**properties, EXTRA_COLUMN: _EXTRA_SCHEMA}, "required": required}


def audience_members_schema(profile_columns: dict[str, dict]) -> dict:
    keys = {
        "segment_id": {
            "type": ["string"],
            "description": "Id of the scanned audience (resolved from setting `segments`).",
        },
        "profile_id": {
            "type": ["string"],
            "description": "The member's key: the value of the field named by setting `profile_key`; unset, "
            "`<field>:<value>` of the first identity field of /api/schema (by_fields, then is_by columns) the "
            "profile has (an array such as `_uids`: its smallest element).",
        },
    }
    return _object_schema({**keys, "segments": _SEGMENT_SLUGS, **profile_columns}, list(keys))


def profiles_schema(profile_columns: dict[str, dict]) -> dict:
    keys = {
        "lookup_field": {"type": ["string"], "description": "`field` of the profile_lookups entry."},
        "lookup_value": {"type": ["string"], "description": "`value` of the profile_lookups entry."},
    }
    found = {
        "found": {
            "type": ["boolean", "null"],
            "description": "True: Lytics has the profile (its fields follow). False: Lytics has no such profile "
            '(HTTP 404, or its 200 placeholder: message "Not Found" or segment `not_found`). Null: unknown, '
            "the lookup still timed out after the last retry (no profile field is set).",
        }
    }
    return _object_schema({**keys, **found, "segments": _SEGMENT_SLUGS, **profile_columns}, list(keys))


class LyticsStream(VendorStream):
    """One Lytics resource: it asks the tap's `LyticsApi` (under this stream's name) and shapes rows."""

    api: LyticsApi
    settings: LyticsSettings

    @property
    def table(self) -> str:
        return self.settings.table


class AccountsStream(CompleteSnapshot, LyticsStream):
    """The accounts of the token. lytics-js lists `apikey` and `dataapikey` among account fields: they
    are dropped before shaping, so they reach no record, `_extra`, log or state (one warning names the
    dropped fields, never their values), and their values are masked in anything printed afterwards."""

    name = "accounts"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)
    #: account fields holding credentials, never emitted (compared case-insensitively)
    credential_fields: t.ClassVar[frozenset[str]] = frozenset({"apikey", "dataapikey"})

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._dropped: set[str] = set()

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.api.accounts()

    @override
    def prepare_row(self, row: dict, context: Context | None) -> dict:
        found = [name for name in row if name.lower() in self.credential_fields]
        if not found:
            return row
        kit_secrets.install(str(row[name]) for name in found if isinstance(row[name], (str, int)))
        for name in found:
            del row[name]
        new = [name for name in found if name not in self._dropped]
        if new:
            self._dropped.update(new)
            self.logger.warning(
                "accounts: dropped credential field(s) %s from the account records (API keys are never emitted)",
                ", ".join(new),
            )
        return row


class SegmentsStream(CompleteSnapshot, LyticsStream):
    """The audiences of the table; at most 500 per account, so read whole every run, once: the
    audience streams resolve their segments from the same answer (the tap's `AudienceCatalog`)."""

    name = "segments"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)

    def __init__(self, *args: t.Any, audiences: AudienceCatalog, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.audiences = audiences

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.audiences.rows


class SchemaFieldsStream(CompleteSnapshot, LyticsStream):
    """The table's columns, from the schema answer discovery read (it types the profile streams too)."""

    name = "schema_fields"
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

    def __init__(self, *args: t.Any, table_schema: TableSchema, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.table_schema = table_schema

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.table_schema.columns

    @override
    def prepare_row(self, row: dict, context: Context | None) -> dict:
        return {"table": self.table, **row}


class SegmentSizesStream(LyticsStream):
    """One size snapshot per audience and run (for trend tables): the configured audiences, else all."""

    name = "segment_sizes"
    primary_keys = ("segment_id", "measured_at")
    schema = StreamSchema(SCHEMAS)
    field_renames: t.ClassVar[dict[str, str]] = {"id": "segment_id"}

    def __init__(self, *args: t.Any, audiences: AudienceCatalog, run_started_at: str, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.audiences = audiences
        self.run_started_at = run_started_at

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.api.segment_sizes(self.audiences.sized_ids())

    @override
    def prepare_row(self, row: dict, context: Context | None) -> dict:
        return {**row, "measured_at": self.run_started_at}


class AudienceMembersStream(CompleteSnapshot, LyticsStream):
    """The profiles of each configured audience, by segment scan; one state partition per audience.

    State per partition: {"next": cursor of the next page or None, "saved_at"}, written after each
    page is fully emitted (see `scan_state`). Pages are asked with `limit` at most 100; each member is
    keyed by `identity.MemberKey` and emitted once per scan (see `scan_pages`); rows with no usable
    identity are counted and reported in one warning after the last audience.

    A scan from the start of every audience is the whole membership: ex-members leave the warehouse
    (ACTIVATE_VERSION); a run that resumes a scan mid-way yields only the rest, so it removes nothing.
    """

    name = "audience_members"
    primary_keys = ("segment_id", "profile_id")
    state_partitioning_keys: t.ClassVar[list[str]] = ["segment_id"]

    def __init__(
        self, *args: t.Any, member_key: MemberKey, typing: ScalarTyping, audiences: AudienceCatalog, **kwargs: t.Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.member_key = member_key
        self.typing = typing
        self.audiences = audiences
        self.unidentified: dict[str, int] = {}  # segment id -> rows without a usable identity
        self.repeated: dict[str, int] = {}  # segment id -> rows the scan served again

    @property
    @override
    def partitions(self) -> list[dict]:
        return [{"segment_id": segment_id} for segment_id in self.audiences.configured_ids()]

    @cached_property
    def scan_limit(self) -> int:
        asked = self.settings.scan_page_size
        if asked > MAX_SCAN_PAGE:
            self.logger.warning(
                "setting scan_page_size is %d; Lytics serves at most %d rows per scan page, so pages of %d are asked",
                asked,
                MAX_SCAN_PAGE,
                MAX_SCAN_PAGE,
            )
        return min(asked, MAX_SCAN_PAGE)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        if not context:
            return  # no audience configured
        segment_id = context["segment_id"]
        state = self.get_context_state(context)
        cursor, why = scan_state.resume_cursor(state, scan_state.utc_now())
        if state.get("next"):
            log = self.logger.info if cursor else self.logger.warning  # a restart re-reads what was loaded
            log("audience_members: segment %s: %s", segment_id, why)
        for page in self.scans.take(segment_id):
            self.unidentified[segment_id] = self.unidentified.get(segment_id, 0) + page.unidentified
            self.repeated[segment_id] = self.repeated.get(segment_id, 0) + page.repeated
            for key, row in page.members:
                row["segment_id"] = segment_id
                row["profile_id"] = key
                yield row
            scan_state.save(state, None if page.done else page.following, scan_state.utc_now())
            self.write_state_now()
        if context == self.partitions[-1]:
            self.report_scan_counts()  # once per stream, after its last audience

    @override
    def snapshot_is_complete(self) -> bool:
        return all(cursor is None for cursor in self.scan_starts.values())

    @cached_property
    def scan_starts(self) -> dict[str, str | None]:
        """segment id -> the cursor its scan resumes from this run (None: from the start)."""
        now = scan_state.utc_now()
        return {
            partition["segment_id"]: scan_state.resume_cursor(
                saved_partition_state(self.tap_state, self.name, partition), now
            )[0]
            for partition in self.partitions
        }

    @cached_property
    def scans(self) -> OrderedPrefetch[str, ScanPage]:
        """Every audience's scan, fetched ahead by `max_concurrency` workers (emitted in order)."""
        if not self.member_key.fields:
            # A setting to act on, for every audience alike: it stops the run at once (not one audience's fault).
            raise ConfigError(
                f"{self.vendor}: /api/schema/{self.table} lists no identity field (by_fields, is_by), so no "
                "audience member can be keyed: set profile_key to the profile field that identifies a person"
            )
        self.scan_limit  # noqa: B018 - warn (once, here in the main thread) before the workers start
        starts = self.scan_starts
        return self.prefetch(starts, lambda segment_id: self.scan_pages(segment_id, starts[segment_id]))

    def scan_pages(self, segment_id: str, cursor: str | None) -> t.Iterator[ScanPage]:
        """The scan's pages, keyed and deduplicated (runs in a worker: asks the api, touches no state)."""
        resumed = cursor is not None
        progress = ScanProgress(self.member_key)
        while True:
            try:
                answer = self.api.segment_scan(segment_id, cursor, self.scan_limit)
            except VendorResponseError as exc:
                if not resumed:
                    raise
                self.logger.warning(
                    "audience_members: segment %s: the saved cursor was refused (%s); scanning again", segment_id, exc
                )
                cursor, resumed = None, False
                continue
            resumed = False
            page = progress.take(answer.rows, cursor, answer.following)
            yield page
            if page.done:
                return
            cursor = answer.following

    def report_scan_counts(self) -> None:
        """One warning per stream for rows without identity, one for rows served again (if any)."""
        missing = {segment: count for segment, count in self.unidentified.items() if count}
        if missing:
            self.logger.warning(
                "audience_members: %d profile(s) had no usable identity in %s and were not emitted (%s); "
                "set profile_key to a field every profile has to key them",
                sum(missing.values()),
                self.member_key.describe(),
                ", ".join(f"audience {segment}: {count}" for segment, count in missing.items()),
            )
        repeated = {segment: count for segment, count in self.repeated.items() if count}
        if repeated:
            self.logger.warning(
                "audience_members: %d row(s) repeated a member already read in the same scan and were skipped (%s)",
                sum(repeated.values()),
                ", ".join(f"audience {segment}: {count}" for segment, count in repeated.items()),
            )
        self.unidentified.clear()
        self.repeated.clear()

    @override
    def prepare_row(self, row: dict, context: Context | None) -> dict:
        return self.typing.apply(row)


def looked_up(data: dict | Lookup) -> dict:
    """A lookup's row: the entity with `found: true`; `found: false` when Lytics has no such entity;
    `found: null` (unknown) when the lookup timed out on every attempt. Never a placeholder segment."""
    if data is Lookup.NOT_FOUND:
        return {"found": False}
    if data is Lookup.TIMED_OUT:
        return {"found": None}
    return {"found": True, **data}


class ProfilesStream(LyticsStream):
    """Subject-access lookups: one profile per profile_lookups entry, with its audiences."""

    name = "profiles"
    primary_keys = ("lookup_field", "lookup_value")

    def __init__(self, *args: t.Any, typing: ScalarTyping, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.typing = typing

    @override
    def prepare_row(self, row: dict, context: Context | None) -> dict:
        return self.typing.apply(row)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        lookups = self.settings.profile_lookups
        missing = 0
        for number, lookup in enumerate(lookups, start=1):
            identity = {"lookup_field": lookup["field"], "lookup_value": lookup["value"]}
            answer = self.api.entity(self.table, lookup["field"], lookup["value"])
            if answer is Lookup.TIMED_OUT:  # named by its place and field: the value is personal data
                self.logger.warning(
                    'profiles: profile_lookups entry %d of %d (field %s) still answered "Timed out" '
                    "after the last attempt; recorded with found=null (unknown)",
                    number,
                    len(lookups),
                    lookup["field"],
                )
            row = looked_up(answer)
            missing += row["found"] is False
            yield {**row, **identity}
        if missing:
            self.logger.warning(
                "profiles: %d of %d lookups matched no Lytics profile (recorded with found=false)",
                missing,
                len(lookups),
            )


class DeletionRequestsStream(LyticsStream):
    """The state of each GDPR deletion request (read only: the tap never calls a DELETE endpoint)."""

    name = "deletion_requests"
    primary_keys = ("request_id",)
    schema = StreamSchema(SCHEMAS)

    def __init__(self, *args: t.Any, run_started_at: str, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_started_at = run_started_at

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        for request_id in self.settings.deletion_request_ids:
            answer = self.api.deletion_status(request_id)
            if answer is Lookup.TIMED_OUT:
                self.logger.warning(
                    'deletion_requests: request %s still answered "Timed out" after the last attempt; '
                    "recorded with found=null (unknown)",
                    request_id,
                )
            yield {**looked_up(answer), "request_id": request_id}

    @override
    def prepare_row(self, row: dict, context: Context | None) -> dict:
        state = row.get("state")
        if isinstance(state, dict) and set(state) == {"current"}:
            row["state"] = state["current"]
        return {**row, "checked_at": self.run_started_at}
