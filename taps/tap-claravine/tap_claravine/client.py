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
- GET /v1/datasets/{d}/transactions?start-date=D&end-date=D answers {"transactions": [{"uuid",
  "name", "submittedAt", "rowCount"}]}: both dates inclusive, on the submitted day, no pagination;
- GET /v1/datasets/{d}/transactions/{t}/status answers {"status": "Pending"|"Complete"|"Failed"};
- the data of a complete transaction is {"fields": [header, ...], "rows": [[value, ...], ...]}, the
  shape of the POST body; the vendor's page spells its path with a singular `transaction`, other
  pages with the plural, and a use case calls the top-level /v1/transactions/{t}/data: the tap tries
  them in `DATA_PATHS` order, goes on to the next on 400/401/403/404 (a path the API does not serve
  may answer any of them), and keeps to the first that answers for the rest of the run. Only when
  every path answers 401/403 is it an authentication error.
"""

from __future__ import annotations

import contextlib
import typing as t
from http import HTTPStatus

import requests

from tapkit import AuthenticationError, VendorResponseError
from tapkit.body import BodyDecodeError, decode_document
from tapkit.http import describe_request
from tapkit.legacy import LegacyVendorStream as VendorStream  # until this tap asks through its api.py

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

DEFAULT_KEY_HEADER = "X-API-Key"
DEFAULT_SECRET_HEADER = "X-API-Secret"
STATUSES = ("Pending", "Complete", "Failed")
COMPLETE = "Complete"
PENDING = "Pending"
DATA_PATHS = (
    "/v1/datasets/{dataset}/transaction/{transaction}/data",  # as the vendor's support page spells it
    "/v1/datasets/{dataset}/transactions/{transaction}/data",  # the plural of the other pages
    "/v1/transactions/{transaction}/data",  # a Claravine use case on api.claravine.com (vendor-evidence.md)
)
#: what a data path the API does not serve may answer: try the next one
PATH_REFUSALS = frozenset({HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})
AUTH_REFUSALS = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})
DEFINITION_PATH = "/v1/datasets/{dataset}/definition"


class NotFoundError(VendorResponseError):
    """HTTP 404: the path (or the dataset, or the transaction) does not exist."""


class RefusedError(VendorResponseError):
    """A status the caller asked to handle itself (`ClaravineStream.tolerating`)."""

    def __init__(self, message: str, status: int, asked: str) -> None:
        super().__init__(message)
        self.status = status
        self.asked = asked


class ClaravineStream(VendorStream):
    """A stream of the Claravine API: the two auth headers, whole-document reads, 404 told apart."""

    @property
    def http_headers(self) -> dict:
        return {
            **super().http_headers,
            self.config.get("key_header") or DEFAULT_KEY_HEADER: self.config["api_key"],
            self.config.get("secret_header") or DEFAULT_SECRET_HEADER: self.config["api_secret"],
        }

    _tolerated: frozenset[int] = frozenset()

    @contextlib.contextmanager
    def tolerating(self, statuses: frozenset[int]) -> t.Iterator[None]:
        """Within the block, these statuses raise `RefusedError` (with the status) instead of the usual error."""
        self._tolerated = statuses
        try:
            yield
        finally:
            self._tolerated = frozenset()

    def validate_response(self, response: requests.Response) -> None:
        if response.status_code in self._tolerated:
            raise RefusedError(
                self.bad_response_message(response, f"HTTP {response.status_code}"),
                response.status_code,
                describe_request(response.request),
            )
        if response.status_code == HTTPStatus.NOT_FOUND:
            raise NotFoundError(self.bad_response_message(response, "an error (HTTP 404)"))
        super().validate_response(response)

    def get(self, path: str, context: Context | None, params: dict | None = None) -> requests.Response:
        """One GET through the kit's client (pacing, retries, auth errors), body read."""
        request = self.build_prepared_request(
            method="GET", url=self.url_base + path, params=params or {}, headers=self.http_headers
        )
        return self.request_decorator(self._request)(request, context)

    def get_document(
        self, path: str, context: Context | None, params: dict | None = None
    ) -> tuple[requests.Response, t.Any]:
        response = self.get(path, context, params)
        try:
            return response, decode_document(response.body)  # type: ignore[attr-defined]
        except BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None

    def get_member(
        self, path: str, context: Context | None, member: str, kind: type, params: dict | None = None
    ) -> t.Any:
        """`member` of the JSON object at `path`; any other shape is a clear error, never an empty sync."""
        response, document = self.get_document(path, context, params)
        value = document.get(member) if isinstance(document, dict) else None
        if not isinstance(value, kind):
            raise VendorResponseError(
                self.bad_response_message(response, f"no {kind.__name__} '{member}' (the shape the tap assumes)")
            )
        return value

    # -- the endpoints -----------------------------------------------------------------------------

    def list_datasets(self) -> list[dict]:
        return self.get_member("/v1/datasets", None, "datasets", list)

    def dataset_definition(self, dataset_uuid: str) -> list[dict] | None:
        """Every field of the dataset (read-only ones included), or None where the endpoint answers 404."""
        path = DEFINITION_PATH.format(dataset=dataset_uuid)
        try:
            response, document = self.get_document(path, None)
        except NotFoundError:
            return None
        definition = document.get("dataset", document) if isinstance(document, dict) else None
        fields = definition.get("fields") if isinstance(definition, dict) else None
        if not isinstance(fields, list):
            raise VendorResponseError(
                self.bad_response_message(
                    response, "no list 'fields' (the shape the tap assumes of a dataset definition)"
                )
            )
        return fields

    def list_transactions(self, dataset_uuid: str, day: str, context: Context | None) -> list[dict]:
        """The transactions submitted on `day`, in submission order."""
        items = self.get_member(
            f"/v1/datasets/{dataset_uuid}/transactions",
            context,
            "transactions",
            list,
            {"start-date": day, "end-date": day},
        )
        return sorted(items, key=lambda item: str(item.get("submittedAt") or ""))

    def transaction_status(self, dataset_uuid: str, transaction_uuid: str, context: Context | None) -> str:
        path = f"/v1/datasets/{dataset_uuid}/transactions/{transaction_uuid}/status"
        status = self.get_member(path, context, "status", str)
        if status not in STATUSES:
            raise VendorResponseError(
                f"{self.vendor}: GET {path} returned the unknown status {status!r} (known: {', '.join(STATUSES)})"
            )
        return status

    def transaction_data(self, dataset_uuid: str, transaction_uuid: str, context: Context | None) -> t.Iterator[dict]:
        """Each data row of a complete transaction as {header: value}, parsed incrementally."""
        response = self._data_response(dataset_uuid, transaction_uuid, context)
        headers = [str(name) for name in self.iter_body_items(response, "fields.item")]
        if not headers:  # an error object or another shape: never a transaction silently without rows
            raise VendorResponseError(
                self.bad_response_message(response, "no list 'fields' (the shape the tap assumes)")
            )
        for number, values in enumerate(self.iter_body_items(response, "rows.item"), start=1):
            if not isinstance(values, list) or len(values) != len(headers):
                raise VendorResponseError(
                    f"{self.vendor}: row {number} of transaction {transaction_uuid} has "
                    f"{len(values) if isinstance(values, list) else 'no list of'} values for {len(headers)} fields"
                )
            yield dict(zip(headers, values))

    def _data_response(self, dataset_uuid: str, transaction_uuid: str, context: Context | None) -> requests.Response:
        remembered = self._tap.data_path  # type: ignore[attr-defined]
        if remembered:
            return self.get(remembered.format(dataset=dataset_uuid, transaction=transaction_uuid), context)
        refusals: list[RefusedError] = []
        for template in DATA_PATHS:
            try:
                with self.tolerating(PATH_REFUSALS):
                    response = self.get(template.format(dataset=dataset_uuid, transaction=transaction_uuid), context)
            except RefusedError as exc:
                refusals.append(exc)
                continue
            self._tap.data_path = template  # type: ignore[attr-defined]
            if refusals:
                self.logger.info(
                    "%s: transaction data is read from %s for the rest of the run (%s)",
                    self.vendor,
                    template,
                    "; ".join(f"{r.asked} answered HTTP {r.status}" for r in refusals),
                )
            return response
        tried = "; ".join(f"{r.asked} answered HTTP {r.status}" for r in refusals)
        if all(r.status in AUTH_REFUSALS for r in refusals):
            raise AuthenticationError(
                f"authentication failed: check {' and '.join(self._tap.auth_settings)} "  # type: ignore[attr-defined]
                f"({self.vendor} refused every transaction data path: {tried})"
            )
        raise VendorResponseError(
            f"{self.vendor}: no transaction data path serves complete transaction {transaction_uuid} of dataset "
            f"{dataset_uuid} ({tried}); the tap assumes one of them does (README: assumption 'data path')"
        )
