"""Datasets, their transactions, the transactions' rows, and one typed table per dataset.

The streams ask the tap's `ClaravineApi` (api.py) and shape what it answers; the datasets come from
the tap's one `DatasetDefinitions` (datasets.py), handed to the streams that need it."""

from __future__ import annotations

import typing as t
from functools import cached_property
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_claravine.api import COMPLETE, PENDING, DataRow
from tap_claravine.id_field import id_field_name, id_header
from tapkit import EXTRA_COLUMN, CompleteSnapshot, DayWindowStream, VendorResponseError, VendorStream, snake_case
from tapkit.credentials import CredentialFilter
from tapkit.shaping import RecordShaper

if t.TYPE_CHECKING:
    import datetime as dt

    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context

    from tap_claravine.api import ClaravineApi
    from tap_claravine.datasets import DatasetDefinitions
    from tap_claravine.settings import ClaravineSettings
    from tapkit.tap import VendorTap

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")
PENDING_STATE_KEY = "pending_transactions"
FIXED_STREAMS = ("datasets", "transactions", "transaction_rows")


def of_parent(context: Context | None) -> Context:
    """A child stream's context: the SDK always syncs a child with its parent record's context."""
    if context is None:
        raise TypeError("a child stream is synced with its parent's context")
    return context


class ClaravineStream(VendorStream):
    """A stream of the Claravine API."""

    api: ClaravineApi  # the tap's `api_class`
    settings: ClaravineSettings

    def wants(self, context: Context | None) -> bool:
        """As a child of `transactions`: whether this stream reads the rows of that transaction."""
        return True


class DatasetsStream(CompleteSnapshot, ClaravineStream):
    """The datasets (templates) the API key can read, or those the `datasets` setting names; a removed
    dataset leaves the warehouse (ACTIVATE_VERSION).

    `fields` is the dataset's whole definition where the list left out fields (read-only ones,
    the row id field among them) or all of them: see `DatasetDefinitions.complete_fields`.
    """

    name = "datasets"
    primary_keys = ("uuid",)
    schema = StreamSchema(SCHEMAS)

    def __init__(self, tap: VendorTap, *, datasets: DatasetDefinitions) -> None:
        super().__init__(tap)
        self.datasets = datasets

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        definitions = self.datasets.definitions()
        names = dataset_stream_names(definitions)
        for item in definitions:
            yield {**item, "stream_name": names[item["uuid"]]}

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"dataset_uuid": record["uuid"]}


class TransactionsStream(DayWindowStream, ClaravineStream):
    """Transactions (submissions) by submitted day, one bookmark per dataset.

    A Pending transaction is kept in the dataset's state and checked again on every later run,
    even once its day is behind the lookback, until it completes (then its rows are read) or fails.

    A day is read in two phases (`tapkit.windows`): `fetch_day` only asks the api (the day's list,
    then each listed transaction's status) and may run in a worker thread; `day_rows` emits the day
    and keeps the pending transactions in state, in day order, in the sync's thread.
    """

    settings: ClaravineSettings  # as ClaravineStream says (DayWindowStream names the kit's part)
    name = "transactions"
    parent_stream_type = DatasetsStream
    primary_keys = ("dataset_uuid", "uuid")
    replication_key = "submitted_at"
    state_partitioning_keys = ("dataset_uuid",)
    schema = StreamSchema(SCHEMAS)

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.emitted: dict[str, set[str]] = {}  # dataset uuid -> its transactions emitted in this run

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.recheck_pending(context)
        yield from super().get_records(context)

    def first_time(self, item: dict, context: Context | None) -> bool:
        """Whether the transaction is new to this run (for this dataset).

        Where the list's dates select rows by creation day, one transaction is listed on each day one of
        its rows was created: it is emitted, and its rows read, once per run. Across runs, its keys make a
        second emission an upsert."""
        emitted = self.emitted.setdefault(of_parent(context)["dataset_uuid"], set())
        if item["uuid"] in emitted:
            return False
        emitted.add(item["uuid"])
        return True

    @override
    def fetch_day(self, day: dt.date, context: Context | None) -> list[dict]:
        return self.transactions_of_day(day.isoformat(), context)

    @override
    def day_rows(self, day: dt.date, fetched: list[dict], context: Context | None) -> t.Iterable[dict]:
        for item in fetched:
            if not self.first_time(item, context):
                continue
            yield item
            # Runs once the SDK has written the record and synced its rows.
            self.note_status(item, day.isoformat(), context)

    def recheck_pending(self, context: Context | None) -> t.Iterable[dict]:
        """Pending transactions of days before this run's window (later ones are listed anyway)."""
        window = self.window_days(context)
        first_day = window[0].isoformat() if window else "9999-12-31"
        carried = [entry for entry in self.pending_entries(context) if entry["day"] < first_day]
        for day in sorted({entry["day"] for entry in carried}):
            wanted = {entry["uuid"] for entry in carried if entry["day"] == day}
            for item in self.transactions_of_day(day, context, only=frozenset(wanted)):
                wanted.discard(item["uuid"])
                if not self.first_time(item, context):
                    continue
                yield item
                self.note_status(item, day, context)
            for lost in sorted(wanted):
                self.logger.warning(
                    "transactions: pending transaction %s of dataset %s (submitted %s) is no longer listed by "
                    "Claravine; it is no longer tracked.",
                    lost,
                    context and context["dataset_uuid"],
                    day,
                )
                self.forget_pending(lost, context)

    def transactions_of_day(self, day: str, context: Context | None, only: frozenset[str] | None = None) -> list[dict]:
        """The day's transactions (those in `only`, if given), each with its status. Only asks the api:
        it may run in a worker thread, several days at once."""
        dataset_uuid = of_parent(context)["dataset_uuid"]
        listed: list[dict] = []
        for item in self.api.transactions(dataset_uuid, day, context):
            if not (isinstance(item, dict) and isinstance(item.get("uuid"), str)):
                raise VendorResponseError(
                    f"{self.vendor}: the transactions of dataset {dataset_uuid} on {day} include one without a uuid: "
                    f"{item!r:.120}"
                )
            if only is None or item["uuid"] in only:
                status = self.api.transaction_status(dataset_uuid, item["uuid"], context)
                listed.append({**item, "datasetUuid": dataset_uuid, "status": status})
        return listed

    # -- pending transactions in state ------------------------------------------------------------

    def pending_entries(self, context: Context | None) -> list[dict]:
        return self.get_context_state(context).setdefault(PENDING_STATE_KEY, [])

    def forget_pending(self, transaction_uuid: str, context: Context | None) -> None:
        entries = self.pending_entries(context)
        entries[:] = [entry for entry in entries if entry["uuid"] != transaction_uuid]

    def note_status(self, item: dict, day: str, context: Context | None) -> None:
        self.forget_pending(item["uuid"], context)
        if item["status"] == PENDING:
            self.pending_entries(context).append({"uuid": item["uuid"], "day": day})

    # -- children: rows of complete transactions, each dataset's table only its own ------------

    @override
    def generate_child_contexts(self, record: dict, context: Context | None) -> t.Iterable[dict]:
        if record.get("status") == COMPLETE:
            yield {"dataset_uuid": record["dataset_uuid"], "transaction_uuid": record["uuid"]}

    @override
    def syncs_child(self, child: Stream, child_context: Context) -> bool:
        # The SDK syncs every child with every context; a dataset's table wants only its own
        # dataset's transactions (else each one would cost a SCHEMA and a STATE message per table).
        return not isinstance(child, ClaravineStream) or child.wants(child_context)


class TransactionRowsStream(ClaravineStream):
    """Every data row of every complete transaction, as header -> value."""

    name = "transaction_rows"
    parent_stream_type = TransactionsStream
    primary_keys = ("dataset_uuid", "transaction_uuid", "row_number")
    # Incremental through its parent; nothing of its own to bookmark, so no state per transaction.
    state_partitioning_keys: t.ClassVar[tuple[str, ...]] = ()
    schema = StreamSchema(SCHEMAS)

    def __init__(self, tap: VendorTap, *, datasets: DatasetDefinitions) -> None:
        super().__init__(tap)
        self.datasets = datasets

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        parent = of_parent(context)
        dataset_uuid, transaction_uuid = parent["dataset_uuid"], parent["transaction_uuid"]
        id_name = self.datasets.id_field(dataset_uuid)
        for number, row in enumerate(self.api.transaction_data(dataset_uuid, transaction_uuid, context), start=1):
            header = id_header(row.values, id_name)
            cvid = row.values[header] if header is not None else None
            record = {
                "dataset_uuid": dataset_uuid,
                "transaction_uuid": transaction_uuid,
                "row_number": number,
                "cvid": cvid or None,
                "values": row.values,
            }
            yield with_metadata(record, row)


def with_metadata(record: dict[str, t.Any], row: DataRow) -> dict[str, t.Any]:
    """The record, with the row's metadata (the data answer's members beside fields and rows) in `_extra`
    under the vendor's member names: kept, and no schema change per reading."""
    if row.metadata:
        record[EXTRA_COLUMN] = dict(row.metadata)
    return record


# -- one typed stream per dataset -----------------------------------------------------------------

ROW_COLUMNS = {
    "transaction_uuid": {"type": ["string"], "description": "The transaction (submission) that carried this row."},
    "row_number": {"type": ["integer"], "description": "Position of the row in its transaction's data, from 1."},
}


def cvid_column(id_name: str) -> dict:
    return {
        "type": ["string"],
        "description": (
            f"Vendor field `{id_name}`. The row's Claravine ID: a later transaction that resubmits it overwrites it."
        ),
    }


FIELD_TYPES: dict[str, dict[str, t.Any]] = {
    "number": {"type": ["number", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
}


def dataset_stream_names(definitions: list[dict]) -> dict[str, str]:
    """dataset uuid -> `dataset_<slug of the name>`; a clash gets the uuid's first 8 characters."""
    names: dict[str, str] = {}
    for definition in definitions:
        name = "dataset_" + (snake_case(str(definition.get("name") or "")) or definition["uuid"][:8])
        if name in names.values() or name in FIXED_STREAMS:
            name = f"{name}_{snake_case(definition['uuid'][:8])}"
        names[definition["uuid"]] = name
    return names


def field_columns(fields: list[dict], id_name: str | None = None) -> dict[str, str]:
    """Vendor field name -> column, snake_case, never clashing with the row columns or each other.

    The row id field (`id_name`) is the `cvid` column, not one of these.
    """
    taken = {*ROW_COLUMNS, "cvid", EXTRA_COLUMN}
    columns: dict[str, str] = {}
    for field in fields:
        name = str(field.get("name") or "")
        if not name or name == id_name or name in columns:
            continue
        base = snake_case(name) or "field"
        column, n = base, 2
        while column in taken:
            column, n = f"{base}_{n}", n + 1
        taken.add(column)
        columns[name] = column
    return columns


class DatasetRowsStream(ClaravineStream):
    """The rows of one dataset's complete transactions, one column per field of the dataset.

    Where the dataset's rows carry a CVID (its definition has a row id field, found by type or
    name), the CVID is the key, so a row that a later transaction overwrites is upserted;
    otherwise a row is keyed by its transaction and position.
    """

    parent_stream_type = TransactionsStream
    lenient_numbers = True  # Claravine sends every value as text
    state_partitioning_keys: t.ClassVar[tuple[str, ...]] = ()

    def __init__(self, tap: VendorTap, *, definition: dict, name: str) -> None:
        fields = [field for field in definition.get("fields") or [] if isinstance(field, dict)]
        self.dataset_uuid: str = definition["uuid"]
        self.id_name = id_field_name(fields)
        self.has_cvid = self.id_name is not None
        #: vendor field -> column: this dataset's own renames (the class-wide `field_renames` cannot say them)
        self.columns = field_columns(fields, self.id_name)
        kinds = {str(field.get("name")): str(field.get("type") or "") for field in fields}
        self._typed_fields = {name for name in self.columns if kinds.get(name) in FIELD_TYPES}
        properties: dict[str, dict] = {"cvid": cvid_column(self.id_name)} if self.id_name else {}
        properties.update(ROW_COLUMNS)
        for field_name, column in self.columns.items():
            kind = kinds.get(field_name, "")
            prop = dict(FIELD_TYPES.get(kind, {"type": ["string", "null"]}))
            prop["description"] = f"Claravine field `{field_name}` (type {kind or 'unknown'})."
            properties[column] = prop
        properties[EXTRA_COLUMN] = {
            "type": ["object", "null"],
            "additionalProperties": True,
            "description": (
                "Headers of the data not among the dataset's fields, or values that did not fit their column's type."
            ),
        }
        schema = {
            "type": "object",
            "properties": properties,
            "required": ["cvid"] if self.has_cvid else list(ROW_COLUMNS),
            "additionalProperties": False,
        }
        super().__init__(tap=tap, name=name, schema=schema)
        self.primary_keys = ("cvid",) if self.has_cvid else tuple(ROW_COLUMNS)

    @cached_property
    @override
    def shaper(self) -> RecordShaper:
        # As `VendorStream.shaper`, with the renames of this stream's dataset.
        return RecordShaper(
            self.name,
            self.schema,
            renames=self.columns,
            lenient_numbers=self.lenient_numbers,
            logger=self.logger,
            credentials=CredentialFilter(self.credential_fields, self.credential_allowed_fields),
        )

    @override
    def wants(self, context: Context | None) -> bool:
        return context is not None and context.get("dataset_uuid") == self.dataset_uuid

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        transaction_uuid = of_parent(context)["transaction_uuid"]
        rows = self.api.transaction_data(self.dataset_uuid, transaction_uuid, context)
        for number, data_row in enumerate(rows, start=1):
            values = data_row.values
            row: dict[str, t.Any] = {"transaction_uuid": transaction_uuid, "row_number": number}
            cvid_header = id_header(values, self.id_name) if self.has_cvid else None
            for header, value in values.items():
                if header == cvid_header:
                    row["cvid"] = value or None
                else:
                    # An empty cell of a number or date field is no value, not a mistyped one.
                    row[header] = None if value == "" and header in self._typed_fields else value
            if self.has_cvid and not row.get("cvid"):
                raise VendorResponseError(
                    f"{self.vendor}: row {number} of transaction {transaction_uuid} in dataset {self.dataset_uuid} "
                    f"has no value under its row id field {self.id_name!r} (the table's key, cvid)"
                )
            yield with_metadata(row, data_row)
