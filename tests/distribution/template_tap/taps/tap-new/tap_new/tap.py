"""tap-new: a throwaway vendor's list items."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_new.api import NewApi
from tap_new.streams import ItemsStream
from tapkit import VendorTap, request_settings


class TapNew(VendorTap):
    """A throwaway vendor: the items of its lists."""

    name = "tap-new"
    vendor_name = "New"
    auth_settings = ("api_key",)
    api_class = NewApi

    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True, title="API key", description="The key."),
        th.Property("lists", th.ArrayType(th.StringType), required=True, title="Lists", description="Lists to read."),
        *request_settings("https://api.new.example"),
    ).to_dict()

    def discover_streams(self) -> list:
        return [ItemsStream(tap=self)]


main = TapNew.run_singer
airbyte_main = TapNew.run_airbyte
