"""A vendor's request budget, read from its rate-limit headers.

Three header families are read, the first one present wins:

- the IETF draft-7 combined field `RateLimit: limit=100, remaining=50, reset=5` (and the later drafts'
  `RateLimit: "default";r=50;t=5`), with `RateLimit-Policy: 100;w=15` giving the window;
- the older IETF drafts' separate `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`;
- the common `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`.

A reset is seconds until the window ends in the IETF drafts. In `X-RateLimit-Reset` vendors send either
that or the Unix time the window ends (GitHub does, in seconds): a value above `EPOCH_THRESHOLD` is
read as a Unix time (in milliseconds above `EPOCH_MS_THRESHOLD`), anything smaller as seconds. With no
reset at all, the policy's window is the longest the budget can take to come back, so it is used.
"""

from __future__ import annotations

import dataclasses
import re
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: no plausible window is 30 years long, and no plausible Unix time is smaller (1996)
EPOCH_THRESHOLD = 1e9
EPOCH_MS_THRESHOLD = 1e12
MAX_RESET_SECONDS = 900.0  # as for Retry-After: a vendor's wrong clock must not stop a run for hours

_PARAMETER = re.compile(r"""([A-Za-z][\w-]*)\s*=\s*"?([^,;"\s]*)"?""")


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """What one answer says about the budget: requests left, and seconds until it is whole again."""

    remaining: int | None = None
    reset_seconds: float | None = None
    limit: int | None = None
    window_seconds: float | None = None

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    @property
    def wait_seconds(self) -> float | None:
        """How long to hold every request once the budget is spent (the reset, else the window)."""
        seconds = self.reset_seconds if self.reset_seconds is not None else self.window_seconds
        return None if seconds is None else min(max(seconds, 0.0), MAX_RESET_SECONDS)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip().strip('"'))
    except ValueError:
        return None


def _whole(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _reset(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds until the reset, from a delta in seconds or a Unix time (seconds or milliseconds)."""
    number = _number(value)
    if number is None:
        return None
    if number >= EPOCH_MS_THRESHOLD:
        number = number / 1000.0
    if number >= EPOCH_THRESHOLD:
        number = number - (time.time() if now is None else now)
    return max(number, 0.0)


def _parameters(value: str) -> dict[str, str]:
    return {name.lower(): item for name, item in _PARAMETER.findall(value)}


def _window(policy: str | None) -> tuple[int | None, float | None]:
    """`RateLimit-Policy: 100;w=15` (draft 7), `"default";q=100;w=15` (later): quota and window."""
    if not policy:
        return None, None
    first = policy.split(",")[0]
    head = first.split(";")[0].strip()
    parameters = _parameters(first)
    quota = _whole(parameters.get("q")) if "q" in parameters else _whole(head)
    return quota, _number(parameters.get("w"))


def parse(headers: Mapping[str, str], *, now: float | None = None) -> RateLimit | None:
    """The budget an answer's headers describe (case-insensitive names), or None when they say nothing."""
    limit, window = _window(headers.get("RateLimit-Policy"))
    combined = headers.get("RateLimit")
    if combined:
        parameters = _parameters(combined)
        remaining = parameters.get("remaining", parameters.get("r"))
        reset = parameters.get("reset", parameters.get("t"))
        return RateLimit(
            remaining=_whole(remaining),
            reset_seconds=_number(reset),
            limit=_whole(parameters.get("limit")) or limit,
            window_seconds=window,
        )
    for prefix in ("RateLimit-", "X-RateLimit-"):
        remaining = headers.get(f"{prefix}Remaining")
        if remaining is not None:
            # IETF resets are always deltas; only the X- family is read as a Unix time when large
            reset = headers.get(f"{prefix}Reset")
            seconds = _reset(reset, now=now) if prefix == "X-RateLimit-" else _number(reset)
            return RateLimit(
                remaining=_whole(remaining),
                reset_seconds=seconds,
                limit=_whole(headers.get(f"{prefix}Limit")) or limit,
                window_seconds=window,
            )
    return None
