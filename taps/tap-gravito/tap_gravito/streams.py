"""The five streams: thin views of one microprofile each (see feeds.py for the shared fetch)."""

from __future__ import annotations

import typing as t
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_gravito.microprofile import MESSAGE_FIELDS, Microprofile, epoch_seconds, iso_datetime
from tap_gravito.stream_base import GravitoStream
from tap_gravito.tcf import decode_tc_string

SCHEMAS = SchemaDirectory(resources.files(__package__) / "schemas")


class MicroprofilesStream(GravitoStream):
    """One row per microprofile; a message that did not parse is kept with `parse_error`."""

    name = "microprofiles"
    fingerprinted = True
    primary_keys = ("domain", "profile_id")
    replication_key = "updated_at"
    schema = StreamSchema(SCHEMAS)
    field_renames: t.ClassVar[dict[str, str]] = {"r": "origin", "v": "version", "e": "events"}

    @override
    def rows_for(self, profile: Microprofile, domain: str, after: float | None) -> t.Iterable[dict]:
        if not self.is_new(profile.updated_at, after):
            return
        message = profile.message
        events = profile.events
        # Unknown top-level message fields pass under their vendor names: the shaper keeps them in _extra.
        row = {name: value for name, value in message.items() if name not in MESSAGE_FIELDS}
        row.update(
            domain=domain,
            referer=profile.referer,
            profile_id=profile.profile_id,
            match_on_id=events.get("matchOnId") if isinstance(events, dict) else None,
            gravito_data=profile.gravito_data,
            gravito_data_error=profile.gravito_data_error,
            updated_at=iso_datetime(profile.updated_at),
            consent_count=len(profile.consents) if profile.parse_error is None else None,
            key_count=len(profile.keyring) if profile.parse_error is None else None,
            parse_error=profile.parse_error,
            raw_message=profile.raw_message,
        )
        for name in ("r", "v", "e"):
            if name in message:
                row[name] = events if name == "e" else message[name]
        yield row


class EntryStream(GravitoStream):
    """Rows from one list of the microprofile (consents `c`, keyring `k`), each entry a row."""

    replication_key = "recorded_at"
    schema = StreamSchema(SCHEMAS)

    def entries(self, profile: Microprofile) -> list[dict]:
        raise NotImplementedError

    @override
    def rows_for(self, profile: Microprofile, domain: str, after: float | None) -> t.Iterable[dict]:
        # The same id logged twice in one second is one primary key: the later entry wins.
        latest = {(repr(entry.get("i")), repr(entry.get("t"))): entry for entry in self.entries(profile)}
        for entry in latest.values():
            seconds = epoch_seconds(entry.get("t"))
            if not self.is_new(seconds, after):
                continue
            row = {"domain": domain, "profile_id": profile.profile_id, **entry}
            if seconds is not None:
                row["t"] = iso_datetime(seconds)
            yield row


class ConsentsStream(EntryStream):
    """Every entry of the consent history (an append log: the same consent id recurs over time)."""

    name = "consents"
    primary_keys = ("domain", "profile_id", "consent_id", "recorded_at")
    field_renames: t.ClassVar[dict[str, str]] = {
        "i": "consent_id",
        "c": "consent_name",
        "s": "granted",
        "t": "recorded_at",
    }

    @override
    def entries(self, profile: Microprofile) -> list[dict]:
        return profile.consents


class KeyringStream(EntryStream):
    name = "keyring"
    primary_keys = ("domain", "profile_id", "key_id", "recorded_at")
    field_renames: t.ClassVar[dict[str, str]] = {"i": "key_id", "k": "key_name", "v": "key_value", "t": "recorded_at"}

    @override
    def entries(self, profile: Microprofile) -> list[dict]:
        return profile.keyring


class GravitoDataStream(GravitoStream):
    """Rows from the profile's gravitoData; they change with the profile, so they share its time."""

    replication_key = "profile_updated_at"
    schema = StreamSchema(SCHEMAS)
    fingerprinted = True

    @override
    def rows_for(self, profile: Microprofile, domain: str, after: float | None) -> t.Iterable[dict]:
        if profile.gravito_data is None or not self.is_new(profile.updated_at, after):
            return
        base = {
            "domain": domain,
            "profile_id": profile.profile_id,
            "profile_updated_at": iso_datetime(profile.updated_at),
        }
        yield from self.data_rows(profile.gravito_data, base)

    def data_rows(self, gravito_data: dict, base: dict) -> t.Iterable[dict]:
        raise NotImplementedError


class TcfConsentsStream(GravitoDataStream):
    """The IAB TCF v2 TC string, decoded; one that does not decode keeps its raw value and `decode_error`."""

    name = "tcf_consents"
    primary_keys = ("domain", "profile_id")

    @override
    def data_rows(self, gravito_data: dict, base: dict) -> t.Iterable[dict]:
        if "TCString" not in gravito_data:
            return
        raw = gravito_data["TCString"]
        fields, error = decode_tc_string(raw)
        yield {**base, "tc_string": raw, **fields, "decode_error": error}


class NonTcfVendorConsentsStream(GravitoDataStream):
    name = "non_tcf_vendor_consents"
    primary_keys = ("domain", "profile_id", "vendor_id")
    field_renames: t.ClassVar[dict[str, str]] = {"id": "vendor_id", "name": "vendor_name"}

    @override
    def data_rows(self, gravito_data: dict, base: dict) -> t.Iterable[dict]:
        vendors = gravito_data.get("NonTCFVendors")
        for vendor in vendors if isinstance(vendors, list) else []:
            if isinstance(vendor, dict):
                yield {**base, **vendor}


STREAM_TYPES = [MicroprofilesStream, ConsentsStream, KeyringStream, TcfConsentsStream, NonTcfVendorConsentsStream]
