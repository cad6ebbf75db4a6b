"""Decode the core segment of an IAB TCF v2 TC string (public spec: "Consent string and vendor
list formats v2", IAB Tech Lab), without a third-party library (iab-tcf 0.2.2 fails on the
vendor's own sample string).

The core segment is the part before the first `.`: base64url without padding, read as a bit
string. Later segments (disclosed vendors, publisher TC) are not decoded.
"""

from __future__ import annotations

import datetime as dt
import typing as t

TCF_VERSION = 2
_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SIXBITS = {char: value for value, char in enumerate(_BASE64URL)}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class TcStringError(ValueError):
    """The text is not a TCF v2 TC string this decoder can read."""


class _Bits:
    def __init__(self, value: int, length: int) -> None:
        self._value = value
        self.length = length
        self.position = 0

    def read(self, width: int, field: str) -> int:
        if self.position + width > self.length:
            raise TcStringError(f"the string ends inside field {field} (bit {self.position} of {self.length})")
        shift = self.length - self.position - width
        self.position += width
        return (self._value >> shift) & ((1 << width) - 1)

    def flag(self, field: str) -> bool:
        return bool(self.read(1, field))

    def id_set(self, width: int, field: str) -> list[int]:
        """A fixed-width bit field where bit n (1-based) set means id n is in the set."""
        bits = self.read(width, field)
        return [n for n in range(1, width + 1) if bits >> (width - n) & 1]

    def letters(self, field: str) -> str:
        return "".join(chr(ord("A") + self.read(6, field)) for _ in range(2))

    def deciseconds(self, field: str) -> str:
        return (_EPOCH + dt.timedelta(milliseconds=self.read(36, field) * 100)).isoformat()


def _core_bits(tc_string: str) -> _Bits:
    """Each base64url character is six bits; read them one by one, as TCF decoders do, since
    CMPs cut the string at any length (the vendor's sample is not valid padded base64)."""
    core = tc_string.strip().split(".", 1)[0]
    if not core:
        raise TcStringError("the string is empty")
    value = 0
    for char in core:
        sextet = _SIXBITS.get(char)
        if sextet is None:
            raise TcStringError(f"character {char!r} is not base64url")
        value = value << 6 | sextet
    return _Bits(value, 6 * len(core))


def _vendor_section(bits: _Bits, name: str) -> list[int]:
    max_vendor_id = bits.read(16, f"{name}.max_vendor_id")
    if not bits.flag(f"{name}.is_range_encoding"):
        return bits.id_set(max_vendor_id, f"{name}.bitfield")
    vendors: list[int] = []
    for _ in range(bits.read(12, f"{name}.num_entries")):
        is_range = bits.flag(f"{name}.is_a_range")
        start = bits.read(16, f"{name}.start_vendor_id")
        end = bits.read(16, f"{name}.end_vendor_id") if is_range else start
        if end < start or end > max_vendor_id:
            raise TcStringError(f"{name}: range {start}-{end} is outside 1-{max_vendor_id}")
        vendors.extend(range(start, end + 1))
    return sorted(set(vendors))


_CORE_FIELDS: list[tuple[str, t.Callable[[_Bits], t.Any]]] = [
    ("created", lambda bits: bits.deciseconds("created")),
    ("last_updated", lambda bits: bits.deciseconds("last_updated")),
    ("cmp_id", lambda bits: bits.read(12, "cmp_id")),
    ("cmp_version", lambda bits: bits.read(12, "cmp_version")),
    ("consent_screen", lambda bits: bits.read(6, "consent_screen")),
    ("consent_language", lambda bits: bits.letters("consent_language")),
    ("vendor_list_version", lambda bits: bits.read(12, "vendor_list_version")),
    ("policy_version", lambda bits: bits.read(6, "tcf_policy_version")),
    ("is_service_specific", lambda bits: bits.flag("is_service_specific")),
    ("use_non_standard_texts", lambda bits: bits.flag("use_non_standard_texts")),
    ("special_feature_optins", lambda bits: bits.id_set(12, "special_feature_optins")),
    ("purposes_consented", lambda bits: bits.id_set(24, "purposes_consent")),
    ("purposes_legitimate_interest", lambda bits: bits.id_set(24, "purposes_li_transparency")),
    ("purpose_one_treatment", lambda bits: bits.flag("purpose_one_treatment")),
    ("publisher_country_code", lambda bits: bits.letters("publisher_cc")),
    ("vendors_consented", lambda bits: _vendor_section(bits, "vendor_consents")),
    ("vendors_legitimate_interest", lambda bits: _vendor_section(bits, "vendor_legitimate_interests")),
]


def decode_tc_string(tc_string: t.Any) -> tuple[dict[str, t.Any], str | None]:
    """(fields, error): the core segment's fields, named as the tcf_consents columns, in spec
    order. On an error, the fields read before it are kept and `error` says what went wrong."""
    fields: dict[str, t.Any] = {}
    try:
        if not isinstance(tc_string, str):
            raise TcStringError(f"expected a string, got {type(tc_string).__name__}")
        bits = _core_bits(tc_string)
        version = bits.read(6, "version")
        if version != TCF_VERSION:
            raise TcStringError(f"version {version} is not TCF v2")
        fields["tcf_version"] = version
        for name, read in _CORE_FIELDS:
            fields[name] = read(bits)
    except TcStringError as exc:
        return fields, str(exc)
    return fields, None
