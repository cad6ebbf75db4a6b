"""One sandbox per test process, started on first use on an ephemeral loopback port.

Module-level access (`sandbox_url(...)` at import time) is what singer-sdk's standard test class
needs: its config is built when the test module is imported.
"""

from __future__ import annotations

import atexit
import datetime as dt

from sandbox.core import PIN_VARIABLE, Sandbox, default_today

_SANDBOX: Sandbox | None = None


def sandbox() -> Sandbox:
    global _SANDBOX
    if _SANDBOX is None:
        _SANDBOX = Sandbox(port=0).start()
        atexit.register(_SANDBOX.stop)
    return _SANDBOX


def sandbox_url(vendor: str) -> str:
    return sandbox().url(vendor)


def today() -> dt.date:
    """The simulators' today: the live sandbox's clock (a test may pin it), else the run's pinned day."""
    return _SANDBOX.today() if _SANDBOX is not None else default_today()


def clock_env() -> dict[str, str]:
    """The environment that pins a tap process's today (tapkit/clock.py) to the simulators' today."""
    return {PIN_VARIABLE: today().isoformat()}
