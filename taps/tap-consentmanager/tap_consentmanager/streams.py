"""One stream per live report type of the Data API (types 2 and 4 are retired by the vendor)."""

from __future__ import annotations

import datetime as dt
import typing as t
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_consentmanager.duplicates import DuplicateKeys
from tap_consentmanager.ids import ids_as_text
from tap_consentmanager.stream_base import ConsentmanagerStream
from tapkit import CompleteSnapshot, DayWindowStream
from tapkit.windows import utc_today

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_consentmanager.settings import ConsentmanagerSettings
    from tapkit import VendorResponse

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")
CONSENT_LOG_DAYS = 7  # the vendor archives the consent log after seven days


class ReferenceStream(CompleteSnapshot, ConsentmanagerStream):
    """A small list, read whole every run (a deleted design or CMP leaves the warehouse: ACTIVATE_VERSION)."""

    schema = StreamSchema(SCHEMAS)

    def request_window(self) -> tuple[dt.date, dt.date]:
        """from/to of the request; reference lists ignore them, but the vendor expects them."""
        return self.settings.start_date, self.settings.end_date or utc_today()

    def lists_all_entries(self) -> bool:
        """Whether the request asks `all=1` (custom_vendors only)."""
        return False

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        return self.guarded(self.list_rows(context), context)

    def list_rows(self, context: Context | None) -> t.Iterator[dict]:
        first, last = self.request_window()
        answer = self.api.report(self.data_type, first, last, all_entries=self.lists_all_entries(), context=context)
        yield from self.rows_of(answer, None)


class TextIdsMixin:
    """Vendor fields that carry custom purpose or vendor ids: kept as text (see ids.py)."""

    text_id_fields: t.ClassVar[tuple[str, ...]] = ()

    def prepare_row(self, row: dict, context: Context | None) -> dict | None:
        return super().prepare_row(ids_as_text(row, self.text_id_fields), context)  # type: ignore[misc]  # a mixin: the stream class below has it


class ReportStream(DayWindowStream, ConsentmanagerStream):
    """A date-ranged report, read one day per request (from=to=day).

    A day is asked in `fetch_day` (possibly in a worker, several days at once: see tapkit.windows) and
    its rows are read in `day_rows`, in day order, in the sync's thread."""

    settings: ConsentmanagerSettings  # as ConsentmanagerStream says (DayWindowStream names the kit's part)
    replication_key = "date"
    schema = StreamSchema(SCHEMAS)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        return self.guarded(super().get_records(context), context)

    @override
    def stop_note(self, context: Context | None) -> str:
        # The failing day was never committed: the bookmark is still the last day fully emitted.
        bookmark = self.bookmark(context)
        kept = f"its bookmark stays at {bookmark}" if bookmark else "it has no bookmark yet"
        return f"the report stopped there ({kept}: the next run reads that day again)"

    @override
    def fetch_day(self, day: dt.date, context: Context | None) -> VendorResponse:
        return self.api.report(self.data_type, day, day, context=context)

    @override
    def day_rows(self, day: dt.date, fetched: VendorResponse, context: Context | None) -> t.Iterator[dict]:
        return self.rows_of(fetched, day)


class CmpReportStream(ReportStream):
    """CMP statistics; rows of one day that share the key are all emitted, with one warning for the day."""

    name = "cmp_report"
    data_type = 1
    primary_keys = ("cmp_id", "design_id", "country", "date", "hour", "url_id", "os_id", "ua_id", "device_id")
    #: the vendor fields of `primary_keys`
    vendor_keys = ("cmpID", "designID", "country", "date", "hour", "urlID", "osID", "uaID", "deviceID")

    @override
    def day_rows(self, day: dt.date, fetched: VendorResponse, context: Context | None) -> t.Iterator[dict]:
        duplicates = DuplicateKeys(self.vendor_keys)
        try:
            for row in self.rows_of(fetched, day, close=False):
                duplicates.add(row)
                yield row
            if duplicates.has_candidates:  # read the day's answer again: exact, and whole rows of candidates only
                duplicates.confirm(self.api.rows(fetched))
        finally:
            fetched.close()
        if duplicates.repeats:
            self.logger.warning(
                "%s: %s on %s: %s. Every row is emitted (nothing merged); a loader that upserts on the key keeps one "
                "row per key: load this stream append-only, or add the new column to the key.",
                self.vendor,
                self.report_name,
                day.isoformat(),
                duplicates.summary(),
            )


class CrawlerReportStream(ReportStream):
    name = "crawler_report"
    data_type = 3
    primary_keys = ("cmp_id", "date", "hour")


class DeliveryDomainsStream(ReportStream):
    """CMP delivery domains used on each day; the vendor row has no date, so it gets the window day."""

    name = "delivery_domains"
    data_type = 16
    primary_keys = ("id",)

    @override
    def day_rows(self, day: dt.date, fetched: VendorResponse, context: Context | None) -> t.Iterator[dict]:
        for row in super().day_rows(day, fetched, context):
            if isinstance(row, dict):
                row.setdefault("date", day.isoformat())
            yield row


class ChangelogStream(TextIdsMixin, ReportStream):
    """Changes to the account; `itemID` is a custom vendor's or purpose's id ("c24") for those entries."""

    name = "changelog"
    text_id_fields = ("itemID",)
    data_type = 18
    primary_keys = ("id",)
    replication_key = "changedate"


class ConsentLogStream(TextIdsMixin, ReportStream):
    """The consent log: the vendor serves only the last seven days, so the window is clamped."""

    name = "consent_log"
    text_id_fields = ("customPurposes", "customVendors")
    data_type = 19
    primary_keys = ("id",)

    @override
    def window_days(self, context: Context | None) -> list[dt.date]:
        days = super().window_days(context)
        oldest_served = utc_today() - dt.timedelta(days=CONSENT_LOG_DAYS - 1)
        lost = [day for day in days if day < oldest_served]
        if lost:
            self.logger.warning(
                "consent_log: the days %s to %s can no longer be fetched: consentmanager archives the consent log "
                "after seven days. Run this tap at least daily to keep the log complete.",
                lost[0].isoformat(),
                lost[-1].isoformat(),
            )
        return [day for day in days if day >= oldest_served]


def _reference(name: str, data_type: int, keys: tuple[str, ...] = ("id",)) -> type[ReferenceStream]:
    return type(
        "".join(part.title() for part in name.split("_")) + "Stream",
        (ReferenceStream,),
        {"name": name, "data_type": data_type, "primary_keys": keys, "__module__": __name__},
    )


class CustomVendorsStream(TextIdsMixin, ReferenceStream):
    """Custom vendors; `custom_vendors_all` asks for every vendor created, not only those in use."""

    name = "custom_vendors"
    data_type = 9
    primary_keys = ("id", "cmp")
    text_id_fields = ("id",)

    @override
    def lists_all_entries(self) -> bool:
        return self.settings.custom_vendors_all


class CustomPurposesStream(TextIdsMixin, ReferenceStream):
    """Custom purposes; ids are text ("c52", or "1" as in the type 10 sample)."""

    name = "custom_purposes"
    data_type = 10
    primary_keys = ("id", "cmp")
    text_id_fields = ("id",)


class TextVersionsStream(ReferenceStream):
    """Text versions; the default texts (id 0) apply to every language and carry no `lang`."""

    name = "text_versions"
    data_type = 8
    primary_keys = ("id", "design", "lang")
    ALL_LANGUAGES = "*"

    @override
    def prepare_row(self, row: dict, context: Context | None) -> dict:
        # `lang` is part of the key, and warehouses refuse an empty or null key column.
        if not row.get("lang"):
            row["lang"] = self.ALL_LANGUAGES
        return row


REFERENCE_STREAMS: list[type[ReferenceStream]] = [
    _reference("cmps", 5),
    _reference("designs", 6),
    _reference("cookie_domains", 7),
    TextVersionsStream,
    CustomVendorsStream,
    CustomPurposesStream,
    _reference("operating_systems", 11),
    _reference("browsers", 12),
    _reference("devices", 13),
    _reference("consent_types", 14),
    _reference("crawls", 15),
    _reference("subaccounts", 17),
]
REPORT_STREAMS: list[type[ReportStream]] = [
    CmpReportStream,
    CrawlerReportStream,
    DeliveryDomainsStream,
    ChangelogStream,
    ConsentLogStream,
]
STREAM_TYPES: list[type[ConsentmanagerStream]] = sorted(
    [*REFERENCE_STREAMS, *REPORT_STREAMS], key=lambda stream: stream.data_type
)
