"""The one calendar every tap reads: today's UTC date, or the day `CONSENT_TAPS_TODAY` pins.

Calendar decisions (default end dates, day windows, a vendor's retention window, settle days, a
bookmark "in the future", a job's or a cursor's age) read `today()` and `now()` here, never the
system clock, so that tests can run a tap on any day: they pin it with `CONSENT_TAPS_TODAY=YYYY-MM-DD`,
the same day as the sandbox's clock (`Sandbox.today()` reads the same variable). Pinned, `now()` is
that day at the real UTC time of day, so elapsed times still advance. Unset, both are the system's
UTC clock. Instants that measure rather than decide (a record's time_extracted, an HTTP Retry-After
date) stay on the real clock.
"""

from __future__ import annotations

import datetime as dt
import os

from tapkit.errors import ConfigError

#: the environment variable that pins the taps' today (tests; never needed in production)
PIN_VARIABLE = "CONSENT_TAPS_TODAY"


def pinned_day() -> dt.date | None:
    """The day `CONSENT_TAPS_TODAY` pins, None when unset (or empty)."""
    value = os.environ.get(PIN_VARIABLE, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{PIN_VARIABLE}={value!r} is not a day (expected YYYY-MM-DD, or leave it unset)") from None


def now() -> dt.datetime:
    """The current UTC time, on the pinned day when one is pinned."""
    real = dt.datetime.now(dt.UTC)
    day = pinned_day()
    return real if day is None else dt.datetime.combine(day, real.timetz())


def today() -> dt.date:
    """Today's UTC date, or the pinned day."""
    return now().date()
