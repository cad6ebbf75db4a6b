"""Content fingerprints of the profiles a run saw, kept in state, so that a profile that changes without
a newer timestamp is emitted again.

The Gravito API has no time filter and no change marker: every call serves the domain's last seven
days. A profile's `k` and `c` entries carry timestamps, but its events (`e`: `matchOnId`, the TC
string, the non-TCF vendors) do not, so a changed TC string can come with no newer timestamp. Each
profile-level stream therefore keeps, per domain, the fingerprints of the profiles it saw:

- a fingerprint is the first 6 bytes (48 bits) of BLAKE2b over the message text as served;
- state: `profile_fingerprints` in the stream's domain partition, the sorted fingerprints packed
  and base64-encoded (8 characters per profile); only profiles still served (the last 7 days)
  are kept, so it renews itself every run;
- bounded: at most `MAX_FINGERPRINTS` per domain (800 kB of state). A domain serving more profiles
  keeps none; its next run emits every profile-level row again (safe, never a lost change), with
  a warning naming the domain.

A changed profile's new fingerprint is missed only if it equals one of the domain's other
fingerprints: about n / 2**48 per change (4 in 10 billion at 100,000 profiles).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import typing as t
from array import array
from bisect import bisect_left

FINGERPRINT_BYTES = 6
MAX_FINGERPRINTS = 100_000
STATE_KEY = "profile_fingerprints"


def fingerprint(text: str) -> int:
    """48 bits of BLAKE2b over the text, as an int (kept 8 bytes apiece in an `array`, not as objects)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=FINGERPRINT_BYTES).digest()
    return int.from_bytes(digest, "big")


def encode(fingerprints: t.Iterable[int]) -> str:
    """Sorted, without repeats, packed big-endian, base64: built in one buffer (no object per fingerprint kept)."""
    packed = bytearray()
    previous = None
    for value in sorted(fingerprints):
        if value != previous:
            packed += value.to_bytes(FINGERPRINT_BYTES, "big")
            previous = value
    return base64.b64encode(packed).decode("ascii")


class Known:
    """The fingerprints of the last run: a sorted array, looked up by bisection (8 bytes per profile)."""

    def __init__(self, values: array) -> None:
        self.values = values

    def __contains__(self, value: int) -> bool:
        index = bisect_left(self.values, value)
        return index < len(self.values) and self.values[index] == value

    def __len__(self) -> int:
        return len(self.values)


def decode(value: t.Any) -> Known | None:
    """The fingerprints a state value holds; None when absent or unreadable (then nothing is known)."""
    if not isinstance(value, str):
        return None
    try:
        packed = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(packed) % FINGERPRINT_BYTES:
        return None
    values = array(
        "Q",
        (int.from_bytes(packed[i : i + FINGERPRINT_BYTES], "big") for i in range(0, len(packed), FINGERPRINT_BYTES)),
    )
    if any(values[i] >= values[i + 1] for i in range(len(values) - 1)):
        values = array("Q", sorted(set(values)))  # written by hand, or by another tool: sort it
    return Known(values)


class Collector:
    """This run's fingerprints of one domain, up to the cap (8 bytes apiece)."""

    def __init__(self, cap: int = MAX_FINGERPRINTS) -> None:
        self.cap = cap
        self.seen = array("Q")
        self.overflowed = False

    def add(self, value: int) -> None:
        if self.overflowed:
            return
        self.seen.append(value)
        if len(self.seen) > self.cap:
            self.overflowed = True
            self.seen = array("Q")  # memory stays bounded however large the domain

    def save(self, state: dict) -> None:
        # A domain that served no profile keeps no fingerprints: the key is left out (nothing is known,
        # as on a first run), never written as "" (which a state check would take for a blank value).
        if self.overflowed or not self.seen:
            state.pop(STATE_KEY, None)
        else:
            state[STATE_KEY] = encode(self.seen)
