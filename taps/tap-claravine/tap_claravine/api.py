"""Claravine Data Standards Cloud API: every assumption about it, in one place.

Claravine publishes its paths but not its auth header names, response shapes or pagination. What
this module assumes (the README lists it under "Assumptions to verify with a Claravine account"):

- auth: the API key and the API secret travel in two headers, named by the settings `key_header`
  and `secret_header` (defaults `X-API-Key` and `X-API-Secret`);
- GET /v1/datasets answers {"datasets": [{"uuid", "name", "fields": [{"uuid", "name", "type"}]}]}.
  The vendor says List Datasets does not show read-only fields, and the row id field ("CVID", or
  "Claravine ID" of type `cv_id` in the data dictionary) is read-only: the id field is found by
  type or name (`id_field.py`), and where the list gives no fields or no id field the dataset's
  definition (GET /v1/datasets/{d}/definition, the same object for one dataset, or under a
  `dataset` member) is read instead; a definition that answers 404 leaves the list's fields;
- the host: the vendor's newer use-case pages call https://api.claravine.com/v1/..., the older support
  article https://<customer>.claravine.com/v1/... (vendor-evidence.md "Third round"); `api_url` takes
  either, and `--probe` says which answers;
- GET /v1/datasets/{d}/transactions?start-date=D&end-date=D answers {"transactions": [{"uuid",
  "name", "submittedAt", "rowCount"}]}: both dates inclusive, no pagination. Which day the dates filter
  on is open: the submission day [INF], or the rows' creation day (a Claravine use case: "Limit by row
  creation start and end dates"). Under the second, one transaction can be listed on several days, or
  on a day before its submission: the stream keeps each transaction once per run (`TransactionsStream`)
  and the keys make a re-run an upsert;
- GET /v1/datasets/{d}/transactions/{t}/status answers {"status": "Pending"|"Complete"|"Failed"};
- the data of a complete transaction is {"fields": [header, ...], "rows": [[value, ...], ...]}, the
  shape of the POST body. A member beside them that is a list with one object per row (per-row
  metadata such as the CVID and the row creation date, which a use case adds to its output) is kept
  with its row, under its own name (`DataRow.metadata`); any other member is ignored. The path: a
  Claravine use case calls the nested plural /v1/datasets/{d}/transactions/{t}/data [V], the support
  page spells it with a singular `transaction`, and an earlier reading of the use case had a top-level
  /v1/transactions/{t}/data: the tap tries them in `DATA_PATHS` order, goes on to the next on
  400/401/403/404 (a path the API does not serve may answer any of them), and keeps to the first that
  answers for the rest of the run. Only when every path answers 401/403 is it an authentication error.

`ClaravineApi` asks and answers: it knows nothing of streams, state or Singer messages.
"""

from __future__ import annotations

import contextlib
import typing as t
from dataclasses import dataclass, field
from http import HTTPStatus

from typing_extensions import override

from tapkit import AuthenticationError, VendorResponseError
from tapkit.http import VendorApi

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tap_claravine.settings import ClaravineSettings
    from tapkit.http import HttpClient, VendorResponse

DEFAULT_KEY_HEADER = "X-API-Key"
DEFAULT_SECRET_HEADER = "X-API-Secret"
STATUSES = ("Pending", "Complete", "Failed")
COMPLETE = "Complete"
PENDING = "Pending"
DATASETS_PATH = "/v1/datasets"
DEFINITION_PATH = "/v1/datasets/{dataset}/definition"
TRANSACTIONS_PATH = "/v1/datasets/{dataset}/transactions"
STATUS_PATH = "/v1/datasets/{dataset}/transactions/{transaction}/status"
DATA_PATHS = (
    "/v1/datasets/{dataset}/transactions/{transaction}/data",  # a Claravine use case (vendor-evidence.md, third round)
    "/v1/datasets/{dataset}/transaction/{transaction}/data",  # as the vendor's support page spells it
    "/v1/transactions/{transaction}/data",  # an earlier reading of that use case (vendor-evidence.md)
)
#: the members of a data answer that hold its table; another list member with one object per row is row metadata
DATA_MEMBERS = ("fields", "rows")
#: the documented hosts (`api_url`): the newer use-case pages', the older support article's
API_HOST = "https://api.claravine.com"
CUSTOMER_HOST = "https://<customer>.claravine.com"
#: what a data path the API does not serve may answer: try the next one
PATH_REFUSALS = frozenset({HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})
AUTH_REFUSALS = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})
NOT_FOUND = frozenset({HTTPStatus.NOT_FOUND})


@dataclass(frozen=True)
class DataRow:
    """One row of a transaction's data: header -> value, and the metadata the answer gives beside it
    (member name -> that member's object for this row; empty when the answer has none)."""

    values: dict[str, t.Any]
    metadata: dict[str, t.Any] = field(default_factory=dict)


class DataPath:
    """The transaction data path that answered first, kept for the rest of the run.

    One object per tap: every `for_stream` copy of the api (a shallow copy) shares it, so the
    table of a dataset and `transaction_rows` find the path once between them."""

    def __init__(self) -> None:
        self.template: str | None = None


class ClaravineApi(VendorApi):
    """One method per Claravine endpoint the tap reads (see the module doc for what each assumes)."""

    settings: ClaravineSettings

    def __init__(self, http: HttpClient, settings: ClaravineSettings) -> None:
        super().__init__(http, settings)
        self.data_path = DataPath()

    @override
    def auth_headers(self) -> dict[str, str]:
        return {self.settings.key_header: self.settings.api_key, self.settings.secret_header: self.settings.api_secret}

    # -- whole-document reads ------------------------------------------------------------------------

    @contextlib.contextmanager
    def document(
        self,
        path: str,
        params: Mapping[str, t.Any] | None = None,
        *,
        endpoint: str | None = None,
        context: Mapping[str, t.Any] | None = None,
        tolerate: frozenset[int] = frozenset(),
    ) -> Iterator[tuple[VendorResponse, t.Any]]:
        """The answer and its decoded body (None for a tolerated status); the spool goes at the block's end."""
        answer = self.get(path, params or {}, endpoint=endpoint, context=context, tolerate=tolerate)
        try:
            yield answer, (None if answer.status in tolerate else answer.document())
        finally:
            answer.close()

    def member(
        self,
        path: str,
        member: str,
        kind: type,
        params: Mapping[str, t.Any] | None = None,
        *,
        endpoint: str,
        context: Mapping[str, t.Any] | None = None,
    ) -> t.Any:
        """`member` of the JSON object at `path`; any other shape is a clear error, never an empty sync."""
        with self.document(path, params, endpoint=endpoint, context=context) as (answer, document):
            value = document.get(member) if isinstance(document, dict) else None
            if not isinstance(value, kind):
                raise answer.error(f"no {kind.__name__} '{member}' (the shape the tap assumes)")
            return value

    # -- the endpoints -----------------------------------------------------------------------------

    def datasets(self) -> list[t.Any]:
        """GET /v1/datasets: the datasets the API user can read, as listed (not yet checked)."""
        return t.cast("list[t.Any]", self.member(DATASETS_PATH, "datasets", list, endpoint=DATASETS_PATH))

    def dataset_definition(self, dataset_uuid: str) -> list[t.Any] | None:
        """Every field of the dataset (read-only ones included), or None where the endpoint answers 404."""
        path = DEFINITION_PATH.format(dataset=dataset_uuid)
        with self.document(path, endpoint=DEFINITION_PATH, tolerate=NOT_FOUND) as (answer, document):
            if answer.status == HTTPStatus.NOT_FOUND:
                return None
            definition = document.get("dataset", document) if isinstance(document, dict) else None
            fields = definition.get("fields") if isinstance(definition, dict) else None
            if not isinstance(fields, list):
                raise answer.error("no list 'fields' (the shape the tap assumes of a dataset definition)")
            return fields

    def transactions(self, dataset_uuid: str, day: str, context: Mapping[str, t.Any] | None = None) -> list[t.Any]:
        """The transactions submitted on `day`, in submission order (not yet checked)."""
        items = self.member(
            TRANSACTIONS_PATH.format(dataset=dataset_uuid),
            "transactions",
            list,
            {"start-date": day, "end-date": day},
            endpoint=TRANSACTIONS_PATH,
            context=context,
        )
        return sorted(items, key=lambda item: str(item.get("submittedAt") or "") if isinstance(item, dict) else "")

    def transaction_status(
        self, dataset_uuid: str, transaction_uuid: str, context: Mapping[str, t.Any] | None = None
    ) -> str:
        path = STATUS_PATH.format(dataset=dataset_uuid, transaction=transaction_uuid)
        status = self.member(path, "status", str, endpoint=STATUS_PATH, context=context)
        if status not in STATUSES:
            raise VendorResponseError(
                f"{self.vendor}: GET {path} returned the unknown status {status!r} (known: {', '.join(STATUSES)})"
            )
        return str(status)

    def transaction_data(
        self, dataset_uuid: str, transaction_uuid: str, context: Mapping[str, t.Any] | None = None
    ) -> Iterator[DataRow]:
        """Each data row of a complete transaction, parsed incrementally, with its metadata if any."""
        answer = self.data_answer(dataset_uuid, transaction_uuid, context)
        try:
            headers = [str(name) for name in answer.items("fields.item")]
            if not headers:  # an error object or another shape: never a transaction silently without rows
                raise answer.error("no list 'fields' (the shape the tap assumes)")
            metadata = row_metadata(answer)
            for number, values in enumerate(answer.items("rows.item"), start=1):
                if not isinstance(values, list) or len(values) != len(headers):
                    raise VendorResponseError(
                        f"{self.vendor}: row {number} of transaction {transaction_uuid} has "
                        f"{len(values) if isinstance(values, list) else 'no list of'} values for {len(headers)} fields"
                    )
                meta = {name: items[number - 1] for name, items in metadata.items() if number <= len(items)}
                yield DataRow(dict(zip(headers, values, strict=True)), meta)
        finally:
            answer.close()

    def data_answer(
        self, dataset_uuid: str, transaction_uuid: str, context: Mapping[str, t.Any] | None = None
    ) -> VendorResponse:
        """The data of one transaction, from the path found first (and then kept: see `DATA_PATHS`)."""
        remembered = self.data_path.template
        if remembered is None:
            return self.find_data_path(dataset_uuid, transaction_uuid, context)
        path = remembered.format(dataset=dataset_uuid, transaction=transaction_uuid)
        return self.get(path, endpoint=remembered, context=context)

    def find_data_path(
        self, dataset_uuid: str, transaction_uuid: str, context: Mapping[str, t.Any] | None
    ) -> VendorResponse:
        refusals: list[tuple[str, int]] = []  # (request, status)
        for template in DATA_PATHS:
            path = template.format(dataset=dataset_uuid, transaction=transaction_uuid)
            answer = self.get(path, endpoint=template, context=context, tolerate=PATH_REFUSALS)
            if answer.status in PATH_REFUSALS:
                refusals.append((answer.described, answer.status))
                answer.close()
                continue
            self.data_path.template = template
            if refusals:
                self.logger.info(
                    "%s: transaction data is read from %s for the rest of the run (%s)",
                    self.vendor,
                    template,
                    described(refusals),
                )
            return answer
        if all(status in AUTH_REFUSALS for _, status in refusals):
            raise AuthenticationError(
                f"authentication failed: check {' and '.join(self.http.auth_settings)} "
                f"({self.vendor} refused every transaction data path: {described(refusals)})"
            )
        raise VendorResponseError(
            f"{self.vendor}: no transaction data path serves complete transaction {transaction_uuid} of dataset "
            f"{dataset_uuid} ({described(refusals)}); the tap assumes one of them does (README: assumption 'data path')"
        )


def row_metadata(answer: VendorResponse) -> dict[str, list[t.Any]]:
    """The list members of a data answer beside `fields` and `rows` whose elements are objects: the rows'
    metadata, by member name. Found by one pass over the answer's top-level member names before the rows
    are read (a few hundred bytes a row); anything else beside them (a scalar, a list of another kind) is
    not row metadata and is left alone."""
    try:
        members = answer.member_names()
    except VendorResponseError:
        return {}  # the rows' own read reports a broken body
    names = [str(name) for name in members if name not in DATA_MEMBERS]
    lists = {name: list(answer.items(f"{name}.item")) for name in names if answer.member_kind(name)[0] == "array"}
    return {name: items for name, items in lists.items() if items and all(isinstance(i, dict) for i in items)}


def described(refusals: list[tuple[str, int]]) -> str:
    return "; ".join(f"{asked} answered HTTP {status}" for asked, status in refusals)
