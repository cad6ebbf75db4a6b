"""Claravine Data Standards Cloud API simulator (vendor-api.md section 4).

Claravine publishes paths but not its headers, shapes or pagination; this simulator follows the
same assumptions as tap-claravine's client.py (listed in that tap's README):

- auth: headers `X-API-Key` and `X-API-Secret`, both non-empty, else 401;
- GET /v1/datasets -> {"datasets": [{"uuid", "name", "fields": [{"uuid", "name", "type"}]}]}; a
  dataset whose rows carry a Claravine ID lists a read-only field named "CVID" (type "cvid");
- GET /v1/datasets/{d}/definition -> the same object for one dataset, every field listed;
- GET /v1/datasets/{d}/transactions?start-date=&end-date= -> {"transactions": [{"uuid", "name",
  "submittedAt", "rowCount"}]}, inclusive dates on the submitted day (UTC), no pagination;
- GET /v1/datasets/{d}/transactions/{t}/status -> {"uuid", "status"}, status Pending/Complete/Failed;
- GET /v1/datasets/{d}/transactions/{t}/data (the nested plural a Claravine use case calls,
  vendor-evidence.md "Third round") -> {"fields": [header...], "rows": [[value...]...]} mirroring the
  POST body; 409 before the transaction is complete. The support page's singular
  /v1/datasets/{d}/transaction/{t}/data only under the singular-data-path variant, the top-level
  /v1/transactions/{t}/data (an earlier reading of the use case) only under a top-level-data-path variant.
Trailing slashes are accepted everywhere.

Data is generated deterministically from (seed, size, dataset, day). About one submission in five
is slow: it stays Pending until the sandbox clock (`Sandbox.today()`) is SETTLE_DAYS past its day,
then completes; about one in ten fails. CVID datasets get update submissions that overwrite rows
of an earlier submission (same CVIDs, new values).

Switches (`Sandbox.settings`): "claravine.drift" = "add" (a new member on transactions and
datasets, a new column in data), "remove" (transactions lose rowCount), "retype" (rowCount becomes
a word);
"claravine.removed" = [dataset uuid or name, ...]: datasets deleted at the vendor (gone from every answer).

Variants (`VARIANTS`, `Sandbox.set_variants("claravine", ...)`): the other readings of the docs
and of the newer evidence (vendor-evidence.md). They combine: a name variant with an unlisted one.
GET /v1/datasets/{d}/definition (the "Get Dataset Definition" endpoint) always answers the whole
dataset, its read-only id field included.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import typing as t
import uuid
from dataclasses import dataclass

from typing_extensions import override

from sandbox.core import Request, Response, VendorApp
from sandbox.profiles import (
    Benchmark,
    BenchStream,
    DayWindows,
    FailingPart,
    Partitions,
    Probe,
    VendorProfile,
    days_ago,
    partition_state,
)

HISTORY_DAYS = 60  # submissions exist this many days back from "today"
SETTLE_DAYS = 3  # a slow submission is Pending until the clock is this many days past its day
KEY_HEADER = "X-API-Key"
SECRET_HEADER = "X-API-Secret"
CVID = "CVID"
CLARAVINE_ID = "Claravine ID"  # the data dictionary's name (vendor-evidence.md)
OTHER_CASING_ID = "claravine_id"

# name, whether rows carry a CVID, fields (name, type)
DATASET_SPECS: list[tuple[str, bool, list[tuple[str, str]]]] = [
    (
        "Paid Media Campaigns",
        True,
        [
            ("Campaign Name", "text"),
            ("Site ID", "number"),
            ("Country", "list"),
            ("Launch Date", "date"),
            ("Budget", "number"),
        ],
    ),
    (
        "Email Tracking Codes",
        True,
        [("Email Name", "text"), ("Send Date", "date"), ("Audience", "list"), ("Tracking Code", "pattern")],
    ),
    ("Social Posts", False, [("Post Title", "text"), ("Channel", "list"), ("Boosted", "list")]),
    ("Affiliate Links", False, [("Partner", "text"), ("Landing URL", "text"), ("Commission %", "number")]),
]
LIST_VALUES = {
    "Country": ["US", "Canada", "Mexico", "Germany"],
    "Audience": ["Prospecting", "Retargeting", "Loyalty"],
    "Channel": ["Instagram", "TikTok", "LinkedIn", "X"],
    "Boosted": ["yes", "no"],
}
_ROUTE = re.compile(
    r"^/v1/datasets(?:/(?P<dataset>[^/]+)(?:/(?P<definition>definition)|/(?P<kind>transactions|transaction)"
    r"(?:/(?P<tx>[^/]+)/(?P<leaf>status|data))?)?)?$"
)
#: the top-level data path variants and the status the nested plural path answers under each
TOP_LEVEL_VARIANTS = {"top-level-data-path": 404, "top-level-data-path-400": 400, "top-level-data-path-403": 403}
_TOP_LEVEL_DATA = re.compile(r"^/v1/transactions/(?P<tx>[^/]+)/data$")  # an earlier reading of a use case


@dataclass(frozen=True)
class Dataset:
    uuid: str
    name: str
    has_cvid: bool
    fields: tuple[tuple[str, str, str], ...]  # (uuid, name, type)

    def as_json(self, id_name: str = CVID, id_type: str = "cvid") -> dict:
        """The whole definition: every field, the read-only id field (named `id_name`) first."""
        fields: list[dict[str, object]] = [
            {"uuid": f_uuid, "name": name, "type": kind} for f_uuid, name, kind in self.fields
        ]
        if self.has_cvid:
            fields.insert(
                0, {"uuid": _uuid(self.uuid, "cvid-field"), "name": id_name, "type": id_type, "readOnly": True}
            )
        return {"uuid": self.uuid, "name": self.name, "fields": fields}


@dataclass(frozen=True)
class Transaction:
    dataset: Dataset
    uuid: str
    name: str
    day: dt.date
    submitted_at: str
    row_count: int
    outcome: str  # Complete or Failed, once settled
    slow: bool
    overwrites: str | None  # uuid of the submission whose rows (CVIDs) this one updates


def _uuid(*parts: t.Any) -> str:
    return str(uuid.UUID(int=random.Random(":".join(map(str, parts))).getrandbits(128), version=4))


class ClaravineApp(VendorApp):
    name = "claravine"
    VARIANTS: t.ClassVar[dict[str, str]] = {
        "id-field-claravine-id": 'the row id field is "Claravine ID" of type `cv_id` (the data dictionary), not "CVID"',
        "id-field-other-casing": 'the row id field is "claravine_id" of type "string": only its name tells',
        "id-field-unlisted": "List Datasets omits the read-only id field; only the definition endpoint lists it",
        "fields-unlisted": "List Datasets lists no fields at all (no `fields` "
        "member); the definition endpoint has them",
        "singular-data-path": "the data path is the support page's singular /v1/datasets/{d}/transaction/{t}/data; "
        "the nested plural answers 404",
        "top-level-data-path": "the data path is the top-level /v1/transactions/{t}/data; "
        "the dataset-scoped ones answer 404",
        "top-level-data-path-400": "as top-level-data-path, but the nested plural path answers 400",
        "top-level-data-path-403": "as top-level-data-path, but the nested plural path answers 403",
        "list-by-row-creation": "the transactions list's dates select transactions by their rows' creation day: a "
        "submission's rows are created over its day and the next (the first half, then the rest), an update's rows "
        "keep the creation day of the rows they overwrite; a "
        "transaction is listed on each day one of its rows was created",
        "data-row-metadata": 'the data answer carries per-row metadata beside fields and rows: "rowMetadata": '
        '[{"cvid", "createdAt"}, ...], one per row',
    }

    # -- the API --------------------------------------------------------------------------------

    @override
    def handle(self, request: Request) -> Response:
        if not (request.headers.get(KEY_HEADER) and request.headers.get(SECRET_HEADER)):
            return Response.json({"message": "Unauthorized"}, status=401)
        path = request.path.rstrip("/")
        top_level = _TOP_LEVEL_DATA.match(path)
        if request.method == "GET" and top_level is not None:
            return self._top_level_data(top_level["tx"])
        match = _ROUTE.match(path)
        if request.method != "GET" or match is None:
            return _not_found("Not found")
        if match["dataset"] is None:
            return Response.json({"datasets": [self._listed_json(d) for d in self.datasets()]})
        dataset = self.dataset(match["dataset"])
        if dataset is None:
            return _not_found("Dataset not found")
        if match["definition"]:
            return Response.json(self._dataset_json(dataset))
        if match["tx"] is None:
            if match["kind"] != "transactions":
                return _not_found("Not found")
            return self._transactions(dataset, request)
        transaction = self.transaction(dataset, match["tx"])
        if transaction is None:
            return _not_found("Transaction not found")
        if match["leaf"] == "status":
            if match["kind"] != "transactions":
                return _not_found("Not found")
            return Response.json({"uuid": transaction.uuid, "status": self.status(transaction)})
        refusal = self._top_level_variant_refusal(match["kind"])
        if refusal is not None:
            return refusal
        singular = self.variant("singular-data-path")
        if (match["kind"] == "transaction") != singular:  # one dataset-scoped data path is served
            return _not_found("Not found")
        return self._data_response(transaction)

    def _top_level_variant_refusal(self, kind: str) -> Response | None:
        """Under a top-level-data-path variant, the dataset-scoped data paths refuse (the nested plural as the
        variant says)."""
        on = [status for name, status in TOP_LEVEL_VARIANTS.items() if self.variant(name)]
        if not on:
            return None
        status = on[0] if kind == "transactions" else 404
        return Response.json(
            {"message": {400: "Bad request", 403: "Forbidden", 404: "Not found"}[status]}, status=status
        )

    def _top_level_data(self, tx_uuid: str) -> Response:
        if not any(self.variant(name) for name in TOP_LEVEL_VARIANTS):
            return _not_found("Not found")
        transaction = next((tx for d in self.datasets() if (tx := self.transaction(d, tx_uuid)) is not None), None)
        if transaction is None:
            return _not_found("Transaction not found")
        return self._data_response(transaction)

    def _data_response(self, transaction: Transaction) -> Response:
        if self.status(transaction) != "Complete":
            return Response.json({"message": "Transaction data is not available before it is complete"}, status=409)
        fields, rows = self.data(transaction)
        body: dict[str, t.Any] = {"fields": fields, "rows": rows}
        if self.variant("data-row-metadata"):
            body["rowMetadata"] = self.row_metadata(transaction)
        return Response.json(body)

    def row_metadata(self, tx: Transaction) -> list[dict]:
        """Per row: its CVID (null where the dataset's rows carry none) and its creation time."""
        fields, rows = self.data(tx)
        id_name = self.id_field()[0]
        return [
            {
                "cvid": dict(zip(fields, values, strict=True)).get(id_name) if tx.dataset.has_cvid else None,
                "createdAt": f"{day.isoformat()}T{tx.submitted_at[11:]}",
            }
            for values, day in zip(rows, self.row_days(tx), strict=True)
        ]

    def row_days(self, tx: Transaction) -> list[dt.date]:
        """The day each row of a submission was created: the first half on its day, the rest the next day;
        an update's rows keep the creation day of the rows (CVIDs) they overwrite."""
        if tx.overwrites is not None:
            base = self._plan(tx.dataset, tx.day - dt.timedelta(days=1))[-1]  # see `transactions`
            return self.row_days(base)[: tx.row_count]
        first_half = (tx.row_count + 1) // 2
        return [tx.day if n <= first_half else tx.day + dt.timedelta(days=1) for n in range(1, tx.row_count + 1)]

    def listed(self, dataset: Dataset, first: dt.date, last: dt.date) -> list[Transaction]:
        """What the transactions list answers for start-date=first, end-date=last, in submission order: by
        submission day, or under list-by-row-creation each transaction with a row created in those days."""
        if not self.variant("list-by-row-creation"):
            return [tx for day in _days(first, last) for tx in self.transactions(dataset, day)]
        one_day = dt.timedelta(days=1)
        candidates = [tx for day in _days(first - one_day, last + one_day) for tx in self.transactions(dataset, day)]
        return [tx for tx in candidates if any(first <= day <= last for day in self.row_days(tx))]

    def _transactions(self, dataset: Dataset, request: Request) -> Response:
        try:
            first = dt.date.fromisoformat(request.arg("start-date") or "1970-01-01")
            last = dt.date.fromisoformat(request.arg("end-date") or self.today().isoformat())
        except ValueError:
            return Response.json({"message": "start-date and end-date must be YYYY-MM-DD"}, status=400)
        listed = [self._transaction_json(tx) for tx in self.listed(dataset, first, last)]
        return Response.json({"transactions": listed})

    def id_field(self) -> tuple[str, str]:
        """(name, type) of the read-only row id field, as the variants switch it."""
        if self.variant("id-field-claravine-id"):
            return CLARAVINE_ID, "cv_id"
        if self.variant("id-field-other-casing"):
            return OTHER_CASING_ID, "string"
        return CVID, "cvid"

    def _dataset_json(self, dataset: Dataset) -> dict:
        """The definition endpoint's answer: every field (what the tap's `datasets` stream yields)."""
        row = dataset.as_json(*self.id_field())
        if self._drift() == "add":
            row["archived"] = False
        return row

    def _listed_json(self, dataset: Dataset) -> dict:
        """List Datasets' entry: read-only fields (the id field) or every field left out, as the variants say."""
        row = self._dataset_json(dataset)
        if self.variant("fields-unlisted"):
            del row["fields"]
        elif self.variant("id-field-unlisted"):
            row["fields"] = [field for field in row["fields"] if not field.get("readOnly")]
        return row

    def _transaction_json(self, tx: Transaction) -> dict:
        row: dict[str, t.Any] = {
            "uuid": tx.uuid,
            "name": tx.name,
            "submittedAt": tx.submitted_at,
            "rowCount": tx.row_count,
        }
        drift = self._drift()
        if drift == "add":
            row["submittedBy"] = "api-user@example.com"
        elif drift == "remove":
            del row["rowCount"]
        elif drift == "retype":
            row["rowCount"] = "unknown"
        return row

    # -- ground truth ---------------------------------------------------------------------------

    @override
    def ground_truth(
        self,
        start: str | dt.date,
        end: str | dt.date | None = None,
        datasets: t.Iterable[str] | None = None,
        **_: t.Any,
    ) -> dict[str, list[dict]]:
        """What a first sync of days start..end sees, by the sandbox clock now (each transaction once,
        however many of those days list it).

        "datasets": each dataset's definition (every field, the read-only id field included,
        whatever List Datasets leaves out); "transactions": list rows plus "datasetUuid" and
        "status"; "transaction_rows": one dict per data row of each Complete submission, in order
        ("datasetUuid", "transactionUuid", "rowNumber" from 1, "values": header -> value, "cvid": the
        value of the row id field, and "rowMetadata" under the data-row-metadata variant);
        "id_fields": [{"datasetUuid", "name"}], the name of each dataset's row id field (None where its
        rows carry none).
        """
        first = dt.date.fromisoformat(str(start)[:10])
        last = dt.date.fromisoformat(str(end)[:10]) if end else self.today()
        wanted = set(datasets) if datasets else None
        chosen = [d for d in self.datasets() if wanted is None or d.uuid in wanted]
        truth: dict[str, list[dict]] = {
            "datasets": [self._dataset_json(d) for d in chosen],
            "transactions": [],
            "transaction_rows": [],
            "id_fields": [{"datasetUuid": d.uuid, "name": self.id_field()[0] if d.has_cvid else None} for d in chosen],
        }
        for dataset in chosen:
            for tx in self.listed(dataset, first, last):
                status = self.status(tx)
                truth["transactions"].append(
                    {**self._transaction_json(tx), "datasetUuid": dataset.uuid, "status": status}
                )
                if status == "Complete":
                    truth["transaction_rows"].extend(self.rows_of(tx))
        return truth

    def rows_of(self, tx: Transaction) -> list[dict]:
        fields, rows = self.data(tx)
        metadata = self.row_metadata(tx) if self.variant("data-row-metadata") else [None] * len(rows)
        out = []
        for number, (values, meta) in enumerate(zip(rows, metadata, strict=True), start=1):
            by_header = dict(zip(fields, values, strict=True))
            row = {
                "datasetUuid": tx.dataset.uuid,
                "transactionUuid": tx.uuid,
                "rowNumber": number,
                "values": by_header,
                "cvid": by_header.get(self.id_field()[0]) if tx.dataset.has_cvid else None,
            }
            if meta is not None:
                row["rowMetadata"] = meta
            out.append(row)
        return out

    def pending(self, start: str | dt.date, end: str | dt.date | None = None) -> list[Transaction]:
        """The submissions of days start..end that are Pending by the sandbox clock now."""
        first = dt.date.fromisoformat(str(start)[:10])
        last = dt.date.fromisoformat(str(end)[:10]) if end else self.today()
        return [
            tx
            for dataset in self.datasets()
            for day in _days(first, last)
            for tx in self.transactions(dataset, day)
            if self.status(tx) == "Pending"
        ]

    # -- data -----------------------------------------------------------------------------------

    def _rng(self, *parts: t.Any) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _drift(self) -> str | None:
        return self.sandbox.settings.get("claravine.drift")

    def datasets(self) -> list[Dataset]:
        removed = set(self.sandbox.settings.get("claravine.removed") or ())
        return [d for d in self._all_datasets() if d.uuid not in removed and d.name not in removed]

    def _all_datasets(self) -> list[Dataset]:
        return [
            Dataset(
                uuid=_uuid(self.seed, "dataset", name),
                name=name,
                has_cvid=has_cvid,
                fields=tuple((_uuid(self.seed, name, field), field, kind) for field, kind in fields),
            )
            for name, has_cvid, fields in DATASET_SPECS
        ]

    def dataset(self, dataset_uuid: str) -> Dataset | None:
        return next((d for d in self.datasets() if d.uuid == dataset_uuid), None)

    def transactions(self, dataset: Dataset, day: dt.date) -> list[Transaction]:
        """The submissions of one dataset on one day, in submission order."""
        today = self.today()
        if not today - dt.timedelta(days=HISTORY_DAYS) <= day <= today:
            return []
        plan = self._plan(dataset, day)
        # In a CVID dataset, the first submission of a day may update the rows of the last
        # submission of the day before (never itself an update, so its CVIDs are its own).
        earlier = self._plan(dataset, day - dt.timedelta(days=1)) if dataset.has_cvid else []
        base = earlier[-1] if len(earlier) > 1 and earlier[-1].outcome == "Complete" else None
        if base is not None and self._rng("update", dataset.uuid, day).random() < 0.4:
            first = plan[0]
            plan[0] = Transaction(
                dataset=dataset,
                uuid=first.uuid,
                name=first.name.replace(" upload ", " update "),
                day=day,
                submitted_at=first.submitted_at,
                row_count=min(base.row_count, 2),
                outcome=first.outcome,
                slow=first.slow,
                overwrites=base.uuid,
            )
        return plan

    def _plan(self, dataset: Dataset, day: dt.date) -> list[Transaction]:
        rng = self._rng("tx", dataset.uuid, day)
        count = rng.randint(1, 1 + self.size)
        seconds = sorted(rng.sample(range(6 * 3600, 20 * 3600), count))
        out = []
        for n, second in enumerate(seconds, start=1):
            roll = rng.random()
            stamp = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=second)
            out.append(
                Transaction(
                    dataset=dataset,
                    uuid=_uuid(self.seed, "tx", dataset.uuid, day, n),
                    name=f"{dataset.name} upload {day.isoformat()} #{n}",
                    day=day,
                    submitted_at=stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    row_count=rng.randint(1, 4) * self.size,
                    outcome="Failed" if roll < 0.1 else "Complete",
                    slow=0.1 <= roll < 0.3,
                    overwrites=None,
                )
            )
        return out

    def transaction(self, dataset: Dataset, tx_uuid: str) -> Transaction | None:
        # An index of the whole history, built once per (seed, size, clock, dataset): large sizes stay fast.
        key = (self.seed, self.size, self.today(), dataset.uuid)
        cache = getattr(self, "_tx_index", {})
        index = cache.get(key)
        if index is None:
            index = {
                tx.uuid: tx
                for day in _days(self.today() - dt.timedelta(days=HISTORY_DAYS), self.today())
                for tx in self.transactions(dataset, day)
            }
            self._tx_index = {key: index, **{k: v for k, v in cache.items() if k[:3] == key[:3]}}
        return index.get(tx_uuid)

    def status(self, tx: Transaction) -> str:
        if tx.slow and self.today() < tx.day + dt.timedelta(days=SETTLE_DAYS):
            return "Pending"
        return tx.outcome

    def data(self, tx: Transaction) -> tuple[list[str], list[list[str]]]:
        """The header and rows of a submission, as the data endpoint serves them."""
        dataset = tx.dataset
        fields = [name for _, name, _ in dataset.fields]
        rng = self._rng("rows", tx.uuid)
        rows = []
        for n in range(1, tx.row_count + 1):
            values = [self._value(rng, name, kind, tx.day) for _, name, kind in dataset.fields]
            if dataset.has_cvid:
                # An update resubmits rows of an earlier submission under their CVIDs.
                values.insert(0, _uuid(self.seed, "cvid", tx.overwrites or tx.uuid, n))
            if self._drift() == "add":
                values.append(f"note {n}")
            rows.append(values)
        header = (
            ([self.id_field()[0]] if dataset.has_cvid else [])
            + fields
            + (["Internal Note"] if self._drift() == "add" else [])
        )
        return header, rows

    def _value(self, rng: random.Random, name: str, kind: str, day: dt.date) -> str:
        if kind == "number":
            return "" if rng.random() < 0.1 else str(rng.randint(1, 99999))
        if kind == "date":
            return (day + dt.timedelta(days=rng.randint(0, 30))).isoformat()
        if kind == "list":
            return rng.choice(LIST_VALUES[name])
        if kind == "pattern":
            return f"em_{rng.randint(100000, 999999)}"
        return f"{name} {rng.randint(1, 500)}"


def _not_found(message: str) -> Response:
    return Response.json({"message": message}, status=404)


def _days(first: dt.date, last: dt.date) -> t.Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


# -- what the tests know about this vendor (sandbox/sandbox/profiles.py) --------------------------------


FIXED_TABLES = ("datasets", "transactions", "transaction_rows")


def _slug(name: str) -> str:
    """snake_case, as the taps name columns: `Site ID` -> `site_id`, `pageView` -> `page_view`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def dataset_table_names(definitions: list[dict]) -> dict[str, str]:
    """dataset uuid -> its table, by the rule the tap's README documents (the sandbox imports no tap):
    `dataset_<slug of the name>`, and where two names clash, the uuid's first 8 characters appended."""
    names: dict[str, str] = {}
    for definition in definitions:
        name = "dataset_" + (_slug(str(definition.get("name") or "")) or definition["uuid"][:8])
        if name in names.values() or name in FIXED_TABLES:
            name = f"{name}_{_slug(definition['uuid'][:8])}"
        names[definition["uuid"]] = name
    return names


def expected_table_rows(sandbox: t.Any, config: dict) -> dict[str, int]:
    """Rows per table (distinct primary keys, upserted) after a first sync with `config`."""
    truth = sandbox.app("claravine").ground_truth(
        start=config["start_date"], end=config.get("end_date"), datasets=config.get("datasets")
    )
    counts = {
        "datasets": len({dataset["uuid"] for dataset in truth["datasets"]}),
        "transactions": len({(tx["datasetUuid"], tx["uuid"]) for tx in truth["transactions"]}),
        "transaction_rows": len(
            {(row["datasetUuid"], row["transactionUuid"], row["rowNumber"]) for row in truth["transaction_rows"]}
        ),
    }
    names = dataset_table_names(truth["datasets"])
    id_fields = {entry["datasetUuid"]: entry["name"] for entry in truth["id_fields"]}
    for dataset in truth["datasets"]:
        rows = [row for row in truth["transaction_rows"] if row["datasetUuid"] == dataset["uuid"]]
        keyed_by_cvid = id_fields[dataset["uuid"]] is not None
        keys = (
            {row["cvid"] for row in rows}
            if keyed_by_cvid
            else {(row["transactionUuid"], row["rowNumber"]) for row in rows}
        )
        counts[names[dataset["uuid"]]] = len(keys)
    return counts


def failing_dataset(sandbox: t.Any) -> str:
    """The reliability matrix's "one partition always fails": the second dataset."""
    return sandbox.app("claravine").datasets()[1].uuid


def rows_without_failing_dataset(sandbox: t.Any, config: dict) -> dict[str, int]:
    """Every dataset listed; transactions, rows and dataset tables of the other datasets only."""
    full = expected_table_rows(sandbox, config)
    listed = config.get("datasets") or [dataset.uuid for dataset in sandbox.app("claravine").datasets()]
    others = expected_table_rows(sandbox, {**config, "datasets": [d for d in listed if d != failing_dataset(sandbox)]})
    return {table: count if table == "datasets" else others.get(table, 0) for table, count in full.items()}


#: rows of `tap-claravine --probe` (its assumptions table)
PROBE_ROWS = 12

PROFILE = VendorProfile(
    vendor="claravine",
    label="Claravine",
    tap="tap-claravine",
    tap_class="tap_claravine.tap:TapClaravine",
    source="source-claravine",
    order=4,
    secrets=("api_key", "api_secret"),
    auth_check="api_key and api_secret",
    # a week of submissions, so that every stream, each dataset's table included, loads rows
    meltano_settings={"start_date": "${CONSENT_SANDBOX_START_DATE}", "lookback_days": 1},
    test_settings=lambda _scratch: {"start_date": days_ago(6), "end_date": days_ago(5)},
    # the Meltano week takes long to read; two days give every stream rows too
    airbyte_settings=lambda: {"start_date": days_ago(2), "lookback_days": 1},
    expected_rows=expected_table_rows,
    records_path="/data?",
    state_bookmark=("transactions", "replication_key_value"),
    no_lookback={"lookback_days": 0},
    bad_configs=(
        ("missing setting", {"start_date": None}, "start_date"),
        ("malformed date", {"start_date": "06/01/2026"}, "start_date"),
    ),
    partitions=Partitions(setting="datasets", stream="transactions", request_path="/transactions"),
    failing_part=FailingPart(
        path=lambda sandbox, _state: f"/datasets/{failing_dataset(sandbox)}/transactions",
        named=lambda sandbox: f"dataset_uuid {failing_dataset(sandbox)}",
        streams=("transactions",),
        saved_state=partition_state("transactions", lambda sandbox: {"dataset_uuid": failing_dataset(sandbox)}),
        healthy_rows=rows_without_failing_dataset,
    ),
    no_error_envelope='no error envelope documented: the fault is a 200 with {"error": ...} where data belongs',
    own_scenarios=frozenset({"state: tap's own fields"}),
    probe=Probe(rows=PROBE_ROWS, breaking_variant="top-level-data-path"),
    day_windows=DayWindows(
        ("transactions",),
        "per dataset and submitted day: the day's list, then each listed transaction's status (one fetch_day); "
        "the datasets are listed first, one after the other",
    ),
    benchmark=Benchmark(
        largest=BenchStream(
            "transaction_rows", "datasets", r"/data/?(\?|$)", settings=lambda: {"start_date": days_ago(7)}
        ),
        no_single_answer="a transaction's data is one upload (a few hundred rows): "
        "the API serves no single answer that big",
        many_pages_sandbox={"size": 60},
        many_pages_settings=dict,
        record_shape="fields-rows",
    ),
    #: dbt tests of the staging models beyond the key's (stream -> column -> tests): documented states, links
    staging_tests={
        "transactions": {
            "status": [{"accepted_values": {"arguments": {"values": ["Pending", "Complete", "Failed"]}}}],
            "dataset_uuid": [
                {
                    "relationships": {
                        "arguments": {"to": "ref('stg_claravine__datasets')", "field": "uuid"},
                        "config": {"severity": "warn"},
                    }
                }
            ],
        },
        "transaction_rows": {
            "transaction_uuid": [
                {"relationships": {"arguments": {"to": "ref('stg_claravine__transactions')", "field": "uuid"}}}
            ]
        },
    },
)
