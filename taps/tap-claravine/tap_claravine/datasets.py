"""The datasets a run reads, listed once: discovery builds the per-dataset streams from them, the
`datasets` stream emits them, and `transaction_rows` finds each dataset's row id field in them.

The tap builds one `DatasetDefinitions` and hands it to the streams that need it."""

from __future__ import annotations

import typing as t

from tap_claravine.api import DATASETS_PATH, DEFINITION_PATH
from tap_claravine.id_field import id_field_name
from tapkit import ConfigError, VendorResponseError

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Sequence

    from tap_claravine.api import ClaravineApi


class DatasetDefinitions:
    """The readable datasets (those the `datasets` setting names, if set), each with its whole field list."""

    def __init__(self, api: ClaravineApi, *, wanted: Sequence[str], logger: logging.Logger) -> None:
        self.api = api
        self.wanted = list(wanted)
        self.logger = logger
        self._definitions: list[dict] | None = None
        self._id_fields: dict[str, str | None] = {}

    def definitions(self) -> list[dict]:
        """Fetched on first use, then kept for the run."""
        if self._definitions is None:
            listed = self.api.datasets()
            for item in listed:
                if not (isinstance(item, dict) and isinstance(item.get("uuid"), str)):
                    raise VendorResponseError(
                        f"{self.api.vendor}: GET {DATASETS_PATH} listed a dataset without a uuid: {item!r:.120}"
                    )
            unknown = sorted(set(self.wanted) - {item["uuid"] for item in listed})
            if unknown:
                raise ConfigError(
                    f"setting datasets names datasets these credentials cannot read: {', '.join(unknown)} "
                    "(check the UUIDs and the API user's template permissions)"
                )
            wanted = set(self.wanted)
            definitions = [self.complete_fields(item) for item in listed if not wanted or item["uuid"] in wanted]
            self._id_fields = {item["uuid"]: id_field_name(item.get("fields") or []) for item in definitions}
            self._definitions = definitions
        return self._definitions

    def id_field(self, dataset_uuid: str) -> str | None:
        """The name of the dataset's row id field (None: its rows carry none, or it is not read)."""
        self.definitions()
        return self._id_fields.get(dataset_uuid)

    def complete_fields(self, item: dict) -> dict:
        """The listed dataset, with the definition's fields where the list gives none or no row id field."""
        listed = item.get("fields")
        listed = [field for field in listed if isinstance(field, dict)] if isinstance(listed, list) else []
        if listed and id_field_name(listed) is not None:
            return item
        fields = self.api.dataset_definition(item["uuid"])
        if fields is None:
            self.logger.warning(
                "datasets: GET %s answered 404, so dataset %s has only the %d fields List Datasets gives "
                "(a read-only row id field would be missed: its rows are then keyed by transaction and position)",
                DEFINITION_PATH.format(dataset=item["uuid"]),
                item["uuid"],
                len(listed),
            )
            return item
        return {**item, "fields": fields}
