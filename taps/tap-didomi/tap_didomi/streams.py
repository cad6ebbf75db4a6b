"""Didomi's configuration lists, its Consents API, and the exports in the customer's bucket.

REST streams ask the tap's `DidomiApi` (api.py); export streams read the tap's `ExportReader`
(buckets.py) one partition day at a time, one bookmark per export id."""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import cached_property
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_didomi.buckets import ExportReader, Partition, open_bucket
from tapkit import CompleteSnapshot, DayWindowStream, VendorStream, clock

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_didomi.api import DidomiApi
    from tap_didomi.settings import DidomiSettings

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")


class DidomiStream(VendorStream):
    api: DidomiApi  # the tap's `api_class`
    settings: DidomiSettings


class ConfigurationStream(CompleteSnapshot, DidomiStream):
    """One of the organization's configuration lists, whole every run (a deleted entry leaves the warehouse)."""

    primary_keys = ("id",)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        for row in self.api.list_rows(self.name):
            yield {"organization_id": self.api.organization_id, **row}


class VendorsStream(ConfigurationStream):
    """The organization's vendors, its Data Manager's list (GET /metadata/partners). A vendor's own
    `organization_id` names its owner (none for IAB, Google ATP and global vendors): `owner_organization_id`."""

    name = "vendors"
    schema = StreamSchema(SCHEMAS)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        for row in self.api.list_rows(self.name):
            owner = row.get("organization_id")
            fields = {name: value for name, value in row.items() if name != "organization_id"}
            yield {"organization_id": self.api.organization_id, "owner_organization_id": owner, **fields}


def _configuration(name: str, doc: str, keys: tuple[str, ...] = ("id",)) -> type[ConfigurationStream]:
    return type(
        "".join(part.title() for part in name.split("_")) + "Stream",
        (ConfigurationStream,),
        {
            "name": name,
            "primary_keys": keys,
            "schema": StreamSchema(SCHEMAS, key=name),
            "__doc__": doc,
            "__module__": __name__,
        },
    )


NoticesStream = _configuration("notices", "Consent notices (GET /widgets/notices).")
NoticeDeploymentsStream = _configuration(
    "notice_deployments",
    "Deployed notice configurations, the notices' published versions (GET /widgets/notices/deployments).",
)
PurposesStream = _configuration("purposes", "Purposes (GET /metadata/purposes).")
RegulationsStream = _configuration(
    "regulations", "Every regulation Didomi supports, with its release status (GET /compliance/v1/regulations)."
)
VendorNumericIdsStream = _configuration(
    "vendor_numeric_ids",
    "Vendors' numeric IDs, as the Didomi consent string holds them (GET /metadata/numeric-partners).",
    ("metadata_partner_id", "organization_id"),
)
PurposeNumericIdsStream = _configuration(
    "purpose_numeric_ids",
    "Purposes' numeric IDs, as the Didomi consent string holds them (GET /metadata/numeric-purposes).",
    ("metadata_purpose_id", "organization_id"),
)
CONFIGURATION_STREAMS = (
    NoticesStream,
    NoticeDeploymentsStream,
    PurposesStream,
    VendorsStream,
    RegulationsStream,
    VendorNumericIdsStream,
    PurposeNumericIdsStream,
)


class ConsentUsersStream(DidomiStream):
    """Users of the Consents API (a separately priced product; setting consents_api)."""

    name = "consent_users"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        if not self.settings.consents_api:
            return
        yield from self.api.consent_users()

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"user_id": record["id"]}


class ConsentEventsStream(DidomiStream):
    """Each Consents API user's consent events (GET /consents/events?user_id=)."""

    name = "consent_events"
    primary_keys = ("id",)
    parent_stream_type = ConsentUsersStream
    state_partitioning_keys = ()  # one user's events are read whole: no bookmark per user
    schema = StreamSchema(SCHEMAS)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None  # a child stream is synced with its parent's context
        yield from self.api.consent_events(str(context["user_id"]))


class ExportStream(DayWindowStream, DidomiStream):
    """One export type read from the bucket, partition day by partition day, one bookmark per export id.

    A day is fetched (its folder listed, which may run in a worker) and then emitted file by file,
    streamed; its bookmark moves once the whole day is emitted. A partition still being written (no
    `_SUCCESS`, day not over) is skipped, and no later day is committed past it, so the next run reads it."""

    export_type: t.ClassVar[str]
    primary_keys: t.ClassVar[tuple[str, ...]] = ("export_id", "partition_date", "id")
    replication_key = "partition_date"
    state_partitioning_keys = ("export_id",)
    settings: DidomiSettings  # as DidomiStream says (DayWindowStream names the kit's part)

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: set[str] = set()  # export ids with a day not yet complete in this run
        self._listed: dict[dt.date, list[str]] = {}  # the current export's keys by partition day

    @cached_property
    def reader(self) -> ExportReader | None:
        return open_bucket(self.settings, metric_stream=self.name)

    @property
    @override
    def partitions(self) -> list[dict] | None:
        reader = self.reader
        if reader is None:
            return []
        configured = self.settings.export_ids
        export_ids = list(configured) if configured else reader.export_ids()
        return [{"export_id": export_id} for export_id in export_ids]

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        if self.reader is None or context is None:
            return
        days = self.window_days(context)
        # One listing of the export's window (keys sort by date), not one per day.
        self._listed = self.reader.listing(str(context["export_id"]), days[0]) if days else {}
        yield from super().get_records(context)

    @override
    def fetch_day(self, day: dt.date, context: Context | None) -> Partition:
        assert self.reader is not None and context is not None
        return self.reader.partition(str(context["export_id"]), day, self.export_type, self._listed.get(day, []))

    @override
    def day_rows(self, day: dt.date, fetched: Partition, context: Context | None) -> t.Iterable[dict]:
        assert self.reader is not None
        if not fetched.readable(clock.today()):
            if fetched.files:
                self.logger.info(
                    "%s: export %s, date %s has no _SUCCESS yet: read on a later run",
                    self.name,
                    fetched.export_id,
                    day.isoformat(),
                )
            self._held.add(fetched.export_id)
            return
        columns = {"export_id": fetched.export_id, "partition_date": day.isoformat()}
        for key in fetched.files:
            for record in self.reader.records(key):
                yield {**columns, **record}

    @override
    def commit_day(self, day: dt.date, context: Context | None) -> None:
        if context is not None and context["export_id"] in self._held:
            return  # an earlier day is still being written: the bookmark waits for it
        super().commit_day(day, context)


class ExportUsersStream(ExportStream):
    """Users of the batch export (`users/`)."""

    name = "export_users"
    export_type = "users"
    schema = StreamSchema(SCHEMAS)


class ExportEventsStream(ExportStream):
    """Consent events of the batch export (`events/`)."""

    name = "export_events"
    export_type = "events"
    schema = StreamSchema(SCHEMAS)


class ExportProofsStream(ExportStream):
    """Consent proofs of the batch export (`proofs/`)."""

    name = "export_proofs"
    export_type = "proofs"
    schema = StreamSchema(SCHEMAS)


class CmpHourlyMetricsStream(ExportStream):
    """The analytics export's CMP hourly metrics (`cmp_hourly_metrics/`)."""

    name = "cmp_hourly_metrics"
    export_type = "cmp_hourly_metrics"
    primary_keys = ("export_id", "partition_date", "hour", "notice_id", "domain", "country", "device_type")
    schema = StreamSchema(SCHEMAS)


EXPORT_STREAMS = (ExportUsersStream, ExportEventsStream, ExportProofsStream, CmpHourlyMetricsStream)
STREAM_TYPES: tuple[type[DidomiStream], ...] = (
    *CONFIGURATION_STREAMS,
    ConsentUsersStream,
    ConsentEventsStream,
    *EXPORT_STREAMS,
)
