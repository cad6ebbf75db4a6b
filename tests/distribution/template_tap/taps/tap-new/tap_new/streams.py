"""The one stream: each configured list's items."""

from __future__ import annotations

import typing as t
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema

from tapkit import VendorStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")


class ItemsStream(VendorStream):
    name = "items"
    primary_keys = ("list", "id")
    schema = StreamSchema(SCHEMAS)

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        for list_name in self.config["lists"]:
            for item in self.api.items(list_name).document()["data"]:
                yield {"list": list_name, **item}
