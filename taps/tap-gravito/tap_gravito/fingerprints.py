"""Content fingerprints of the profiles a run saw, kept in state, so a profile that changes without a newer timestamp is emitted again.

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

FINGERPRINT_BYTES = 6
MAX_FINGERPRINTS = 100_000
STATE_KEY = "profile_fingerprints"


def fingerprint(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=FINGERPRINT_BYTES).digest()


def encode(fingerprints: t.Iterable[bytes]) -> str:
    return base64.b64encode(b"".join(sorted(set(fingerprints)))).decode("ascii")


def decode(value: t.Any) -> frozenset[bytes] | None:
    """The fingerprints a state value holds; None when absent or unreadable (then nothing is known)."""
    if not isinstance(value, str):
        return None
    try:
        packed = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(packed) % FINGERPRINT_BYTES:
        return None
    return frozenset(packed[i : i + FINGERPRINT_BYTES] for i in range(0, len(packed), FINGERPRINT_BYTES))


class Collector:
    """This run's fingerprints of one domain, up to the cap."""

    def __init__(self, cap: int = MAX_FINGERPRINTS) -> None:
        self.cap = cap
        self.seen: set[bytes] = set()
        self.overflowed = False

    def add(self, value: bytes) -> None:
        if self.overflowed:
            return
        self.seen.add(value)
        if len(self.seen) > self.cap:
            self.overflowed = True
            self.seen.clear()  # memory stays bounded however large the domain

    def save(self, state: dict) -> None:
        if self.overflowed:
            state.pop(STATE_KEY, None)
        else:
            state[STATE_KEY] = encode(self.seen)
