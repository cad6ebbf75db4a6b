"""Claravine Data Standards Cloud API: every assumption about it, in one place.

Claravine publishes its paths but not its auth header names, response shapes or pagination. What
this module assumes (the README lists it under "Assumptions to verify with a Claravine account"):

- auth: the API key and the API secret travel in two headers, named by the settings `key_header`
  and `secret_header` (defaults `X-API-Key` and `X-API-Secret`);
- GET /v1/datasets answers {"datasets": [{"uuid", "name", "fields": [{"uuid", "name", "type"}]}]};
  a dataset whose rows carry a Claravine ID lists a field named `CVID`;
- GET /v1/datasets/{d}/transactions?start-date=D&end-date=D answers {"transactions": [{"uuid",
  "name", "submittedAt", "rowCount"}]}: both dates inclusive, on the submitted day, no pagination;
- GET /v1/datasets/{d}/transactions/{t}/status answers {"status": "Pending"|"Complete"|"Failed"};
- the data of a complete transaction is {"fields": [header, ...], "rows": [[value, ...], ...]}, the
  shape of the POST body; the vendor's page spells its path with a singular `transaction`, other
  pages with the plural: the tap tries the singular first, falls back to the plural on 404, and
  keeps to whichever answered for the rest of the run.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

import requests
from tapkit import VendorResponseError, VendorStream
from tapkit.body import BodyDecodeError, decode_document

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

DEFAULT_KEY_HEADER = "X-API-Key"
DEFAULT_SECRET_HEADER = "X-API-Secret"
CVID_FIELD = "CVID"
STATUSES = ("Pending", "Complete", "Failed")
COMPLETE = "Complete"
PENDING = "Pending"
DATA_PATHS = (
    "/v1/datasets/{dataset}/transaction/{transaction}/data",  # as the vendor's page spells it
    "/v1/datasets/{dataset}/transactions/{transaction}/data",
)


class NotFoundError(VendorResponseError):
    """HTTP 404: the path (or the dataset, or the transaction) does not exist."""


def is_cvid_field(name: str) -> bool:
    return name.strip().upper() == CVID_FIELD


class ClaravineStream(VendorStream):
    """A stream of the Claravine API: the two auth headers, whole-document reads, 404 told apart."""

    @property
    def http_headers(self) -> dict:
        return {
            **super().http_headers,
            self.config.get("key_header") or DEFAULT_KEY_HEADER: self.config["api_key"],
            self.config.get("secret_header") or DEFAULT_SECRET_HEADER: self.config["api_secret"],
        }

    def validate_response(self, response: requests.Response) -> None:
        if response.status_code == HTTPStatus.NOT_FOUND:
            raise NotFoundError(self.bad_response_message(response, "an error (HTTP 404)"))
        super().validate_response(response)

    def get(self, path: str, context: Context | None, params: dict | None = None) -> requests.Response:
        """One GET through the kit's client (pacing, retries, auth errors), body read."""
        request = self.build_prepared_request(
            method="GET", url=self.url_base + path, params=params or {}, headers=self.http_headers
        )
        return self.request_decorator(self._request)(request, context)

    def get_member(self, path: str, context: Context | None, member: str, kind: type, params: dict | None = None) -> t.Any:
        """`member` of the JSON object at `path`; any other shape is a clear error, never an empty sync."""
        response = self.get(path, context, params)
        try:
            document = decode_document(response.body)  # type: ignore[attr-defined]
        except BodyDecodeError as exc:
            raise VendorResponseError(self.bad_response_message(response, str(exc))) from None
        value = document.get(member) if isinstance(document, dict) else None
        if not isinstance(value, kind):
            raise VendorResponseError(
                self.bad_response_message(response, f"no {kind.__name__} '{member}' (the shape the tap assumes)")
            )
        return value

    # -- the endpoints -----------------------------------------------------------------------------

    def list_datasets(self) -> list[dict]:
        return self.get_member("/v1/datasets", None, "datasets", list)

    def list_transactions(self, dataset_uuid: str, day: str, context: Context | None) -> list[dict]:
        """The transactions submitted on `day`, in submission order."""
        items = self.get_member(
            f"/v1/datasets/{dataset_uuid}/transactions", context, "transactions", list, {"start-date": day, "end-date": day}
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
            raise VendorResponseError(self.bad_response_message(response, "no list 'fields' (the shape the tap assumes)"))
        for number, values in enumerate(self.iter_body_items(response, "rows.item"), start=1):
            if not isinstance(values, list) or len(values) != len(headers):
                raise VendorResponseError(
                    f"{self.vendor}: row {number} of transaction {transaction_uuid} has "
                    f"{len(values) if isinstance(values, list) else 'no list of'} values for {len(headers)} fields"
                )
            yield dict(zip(headers, values))

    def _data_response(self, dataset_uuid: str, transaction_uuid: str, context: Context | None) -> requests.Response:
        remembered = self._tap.data_path  # type: ignore[attr-defined]
        *first_tries, last_try = [remembered] if remembered else DATA_PATHS
        for template in first_tries:
            try:
                return self._remember(template, self.get(template.format(dataset=dataset_uuid, transaction=transaction_uuid), context))
            except NotFoundError:
                continue
        return self._remember(last_try, self.get(last_try.format(dataset=dataset_uuid, transaction=transaction_uuid), context))

    def _remember(self, template: str, response: requests.Response) -> requests.Response:
        self._tap.data_path = template  # type: ignore[attr-defined]
        return response
