"""When and how long to wait before trying a request again.

Policy (documented in the README): up to `retry_max_attempts` attempts (default 6) for HTTP 429,
any 5xx, connection errors and resets, and read timeouts. The wait is exactly what the vendor's
`Retry-After` header says (seconds or an HTTP date), capped at `MAX_RETRY_AFTER_SECONDS`; without
the header it is exponential backoff with full jitter: uniform(0, min(60, base * 2**n)).
Before that, the vendor's rate-limit headers (`tapkit.ratelimit`) keep requests within its budget:
once it is spent, the whole client waits for the reset.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import threading
import time
import typing as t

import requests

from tapkit import ratelimit

MAX_RETRY_AFTER_SECONDS = 900.0
MAX_BACKOFF_SECONDS = 60.0
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_BACKOFF_BASE = 1.0

RETRIABLE_NETWORK_ERRORS: tuple[type[Exception], ...] = (
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header value (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        now = now or dt.datetime.now(dt.UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def backoff_seconds(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff for the given 1-based failed attempt."""
    ceiling = min(MAX_BACKOFF_SECONDS, base * (2 ** (attempt - 1)))
    return (rng or random).uniform(0, ceiling)


def retry_after_of(exception: BaseException | None) -> float | None:
    """The `Retry-After` of the answer a retried exception carries (the kit's or the SDK's), if any."""
    answer = getattr(exception, "answer", None) or getattr(exception, "response", None)
    headers = getattr(answer, "headers", None)
    return parse_retry_after(headers.get("Retry-After")) if headers is not None else None


def waits(
    base: float = DEFAULT_BACKOFF_BASE, limiter: RateLimiter | None = None, rng: random.Random | None = None
) -> t.Generator[float, BaseException | None, None]:
    """python-backoff wait generator (it sends each failure in): exactly the vendor's `Retry-After`,
    for which the whole client pauses, else full-jitter exponential backoff. Use with `jitter=None`."""
    attempt = 0
    exception = yield 0.0  # backoff primes the generator with send(None); this value is not used
    while True:
        attempt += 1
        wait = retry_after_of(exception)
        if wait is None:
            wait = backoff_seconds(attempt, base, rng)
        elif limiter is not None:
            limiter.pause(wait)
        exception = yield wait


class RateLimiter:
    """Client-side request pacing shared by every stream (and thread) of one tap.

    Besides `max_requests_per_second` and `Retry-After` pauses it keeps the vendor's budget as its
    rate-limit headers tell it (`observe`, `tapkit.ratelimit`): each request takes one from the last
    known remaining count, and once none is left every thread waits for the reset before its next
    request. Requests still in flight when an answer arrives are assumed not counted in it yet."""

    def __init__(self, max_per_second: float | None) -> None:
        self.interval = 1.0 / max_per_second if max_per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._remaining: int | None = None  # None: the vendor's budget is not known (or has reset)
        self._reset_at = 0.0
        self._in_flight = 0

    def acquire(self) -> None:
        # No early return without a rate: a `pause` (a Retry-After) must hold every thread even then.
        while True:
            with self._lock:
                now = time.monotonic()
                if self._remaining is not None and now >= self._reset_at:
                    self._remaining = None  # the window turned: known again from the next answer
                if self._remaining is not None and self._remaining <= 0:
                    budget_wait = self._reset_at - now
                else:
                    budget_wait = 0.0
                    slot = max(now, self._next)
                    self._next = slot + self.interval
                    if self._remaining is not None:
                        self._remaining -= 1
                    self._in_flight += 1
            if budget_wait > 0:
                time.sleep(budget_wait)
                continue
            if slot > now:
                time.sleep(slot - now)
            return

    def observe(self, budget: ratelimit.RateLimit | None) -> None:
        """One request `acquire`d before is answered (or failed); `budget` is what its headers said."""
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            if budget is None or budget.remaining is None:
                return
            wait = budget.wait_seconds
            if wait is None:
                return  # no reset and no window: when it comes back is unknown; a 429's Retry-After will say
            known = budget.remaining - self._in_flight
            self._remaining = known if self._remaining is None else min(self._remaining, known)
            self._reset_at = max(self._reset_at, time.monotonic() + wait)

    def pause(self, seconds: float) -> None:
        """Hold every request back for `seconds` (a Retry-After applies to the whole client)."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)
