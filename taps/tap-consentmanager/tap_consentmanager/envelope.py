"""What the envelope's `data` member is, found without building it.

The docs show the envelope as `"data": "…" //data payload as csv or json`, and every JSON example as an
array. So `data` may be an array (output=json), CSV text, or an empty string for an empty report. The tap
must know which before it reads a single row: a string would otherwise read as zero rows, silently.
Small bodies are decoded once (and shared with the record reader); large ones are scanned
(`tapkit.body.member_kind`) only up to the first event of `data`, which follows `status` and `message`.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tapkit.body import SpooledBody, member_kind

if t.TYPE_CHECKING:
    from tapkit.http import VendorResponse

ARRAY = "array"
TEXT = "string"
NULL = "null"
MISSING = "missing"

_PREVIEW = 40


@dataclass(frozen=True)
class DataMember:
    kind: str  # ARRAY, TEXT, NULL, MISSING, "object", "number" or "boolean"
    text: str | None = None  # the string, when kind is TEXT

    @property
    def is_array(self) -> bool:
        return self.kind == ARRAY

    @property
    def is_empty_report(self) -> bool:
        """`""` (or null): a report with no rows, in the string reading of the docs."""
        return self.kind == NULL or (self.kind == TEXT and self.text == "")

    def describe(self) -> str:
        """How an error names what came instead of an array ("CSV text (1,234 characters) starting 'cmpID,…'")."""
        if self.kind == MISSING:
            return "missing"
        if self.kind != TEXT or self.text is None:
            return f"a JSON {self.kind}"
        first_line = self.text.split("\n", 1)[0]
        what = "CSV text" if "," in first_line or ";" in first_line else "text"
        preview = " ".join(self.text[:_PREVIEW].split())
        more = "…" if len(self.text) > _PREVIEW else ""
        return f"{what} ({len(self.text):,} characters) starting {preview + more!r}"


def data_member(body: SpooledBody, key: str = "data") -> DataMember:
    """The kind of the envelope's top-level `key` member; a body that is not JSON raises BodyDecodeError."""
    kind, value = member_kind(body, key)
    return DataMember(kind, value if kind == TEXT else None)


def data_of(answer: VendorResponse, key: str = "data") -> DataMember:
    """The kind of an answer's `key` member; a body that is not JSON is a `VendorResponseError` naming the request."""
    kind, value = answer.member_kind(key)
    return DataMember(kind, value if kind == TEXT else None)
