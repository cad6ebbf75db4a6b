"""One element of the customer-data response, parsed: pure functions, no HTTP.

An element is {referer, message}; message is a JSON string holding a v3 microprofile
{i, r, v, e, k, c}; inside e, `gravitoData` is a JSON string again ({TCString, NonTCFVendors}),
which the vendor's own sample writes with a trailing comma (hence `lenient_json`).
A message that is not a JSON object with an id is kept, with `parse_error` saying why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import typing as t
from dataclasses import dataclass, field

from tap_gravito import fingerprints, lenient_json

MESSAGE_FIELDS = ("i", "r", "v", "e", "k", "c")
GRAVITO_DATA = "gravitoData"


@dataclass
class Microprofile:
    referer: t.Any
    profile_id: str
    message: dict = field(default_factory=dict)  # the parsed message (empty when it did not parse)
    parse_error: str | None = None
    raw_message: str | None = None  # kept only when the message did not parse
    updated_at: int | None = None  # epoch seconds: max t over keyring and consents
    gravito_data: dict | None = None
    gravito_data_error: str | None = None
    source: str | None = None  # the message text as served (what the content fingerprint covers)

    def fingerprint(self) -> int:
        """The profile's content fingerprint (see `fingerprints`): equal texts, equal fingerprints."""
        if self.source is None:
            self.source = self.raw_message or json.dumps(self.message, sort_keys=True, default=str)
        return fingerprints.fingerprint(self.source)

    @property
    def keyring(self) -> list[dict]:
        return [entry for entry in _as_list(self.message.get("k")) if isinstance(entry, dict)]

    @property
    def consents(self) -> list[dict]:
        return [entry for entry in _as_list(self.message.get("c")) if isinstance(entry, dict)]

    @property
    def events(self) -> t.Any:
        """The events object; gravitoData leaves it when it parsed (it becomes `gravito_data`)."""
        events = self.message.get("e")
        if isinstance(events, dict) and self.gravito_data is not None:
            return {name: value for name, value in events.items() if name != GRAVITO_DATA}
        return events


def _as_list(value: t.Any) -> list:
    return value if isinstance(value, list) else []


#: a `t` at or above this is epoch milliseconds: as seconds it would be after the year 5000
MILLISECONDS_FROM = 100_000_000_000


def epoch_seconds(value: t.Any) -> int | None:
    """A vendor `t` (epoch seconds, as the vendor's sample; milliseconds, as JavaScript's clock, tolerated);
    None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value // 1000) if value >= MILLISECONDS_FROM else int(value)
    return None


def iso_datetime(seconds: int | None) -> str | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()


def unparsed_id(text: str) -> str:
    """A stable key for a message that did not parse: a digest, never its content."""
    return "unparsed-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _unparsed(referer: t.Any, raw: t.Any, error: str) -> Microprofile:
    text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, default=str)
    return Microprofile(referer=referer, profile_id=unparsed_id(text), parse_error=error, raw_message=text)


def parse_element(element: t.Any, *, with_gravito_data: bool = True) -> Microprofile:
    """The element's microprofile; `with_gravito_data=False` leaves gravitoData unread (for a pass that only
    needs ids and timestamps)."""
    if not isinstance(element, dict):
        return _unparsed(None, element, "the response element is not an object")
    referer = element.get("referer")
    raw = element.get("message")
    if isinstance(raw, dict):  # already an object: accept it as is
        message: t.Any = raw
    elif isinstance(raw, str):
        try:
            message = lenient_json.strict_loads(raw)  # msgspec; strict: a message is never repaired
        except ValueError as exc:
            return _unparsed(
                referer, raw, f"message is not valid JSON ({exc.__class__.__name__} at char {getattr(exc, 'pos', '?')})"
            )
    else:
        return _unparsed(referer, element, "the element has no message string")
    if not isinstance(message, dict):
        return _unparsed(referer, raw, "message is not a JSON object")
    profile_id = message.get("i")
    if not isinstance(profile_id, str) or not profile_id:
        return _unparsed(referer, raw, "message has no microprofile id (i)")
    profile = Microprofile(
        referer=referer, profile_id=profile_id, message=message, source=raw if isinstance(raw, str) else None
    )
    stamps = [epoch_seconds(entry.get("t")) for entry in profile.keyring + profile.consents]
    known = [stamp for stamp in stamps if stamp is not None]
    profile.updated_at = max(known) if known else None
    if with_gravito_data:
        _parse_gravito_data(profile)
    return profile


def _parse_gravito_data(profile: Microprofile) -> None:
    events = profile.message.get("e")
    raw = events.get(GRAVITO_DATA) if isinstance(events, dict) else None
    if raw is None:
        return
    if isinstance(raw, dict):
        profile.gravito_data = raw
        return
    if not isinstance(raw, str):
        profile.gravito_data_error = "gravitoData is not a JSON string"
        return
    try:
        parsed = lenient_json.loads(raw)
    except ValueError as exc:
        profile.gravito_data_error = f"gravitoData is not valid JSON ({exc.__class__.__name__})"
        return
    if isinstance(parsed, dict):
        profile.gravito_data = parsed
    else:
        profile.gravito_data_error = "gravitoData is not a JSON object"
