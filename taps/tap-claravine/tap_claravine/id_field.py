"""Which field of a dataset is its row id (the Claravine ID, "CVID").

Claravine publishes no schema. The seed's create-from-UUIDs page calls the row id "Claravine Id
(CVID)"; the data dictionary names it "Claravine ID" with type `cv_id` (vendor-evidence.md). So a
field is the row id when its type, or else its name, normalised (lower case, letters and digits
only), reads `cvid` or `claravineid`: "CVID", "Claravine ID", "claravine_id", "CLARAVINE ID",
"cvid" and type `cv_id`, "cvid", "CV-ID" all match.
"""

from __future__ import annotations

import re
import typing as t

ID_NAMES = frozenset({"cvid", "claravineid"})
ID_TYPES = frozenset({"cvid"})


def normalised(text: t.Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


def is_id_name(name: t.Any) -> bool:
    return normalised(name) in ID_NAMES


def is_id_type(kind: t.Any) -> bool:
    return normalised(kind) in ID_TYPES


def id_field_name(fields: t.Iterable[dict]) -> str | None:
    """The name of the row id field among `fields` ({name, type, ...}): by type first, then by name."""
    named = [field for field in fields if isinstance(field, dict) and str(field.get("name") or "")]
    for field in named:
        if is_id_type(field.get("type")):
            return str(field["name"])
    for field in named:
        if is_id_name(field["name"]):
            return str(field["name"])
    return None


def id_header(headers: t.Iterable[str], id_name: str | None) -> str | None:
    """The data header that carries the row id: the id field's own name, else any id-like name."""
    headers = list(headers)
    if id_name is not None and id_name in headers:
        return id_name
    return next((header for header in headers if is_id_name(header)), None)
