"""One sandbox per test process, started on first use on an ephemeral loopback port.

Module-level access (`sandbox_url(...)` at import time) is what singer-sdk's standard test class
needs: its config is built when the test module is imported.
"""

from __future__ import annotations

import atexit

from sandbox.core import Sandbox

_SANDBOX: Sandbox | None = None


def sandbox() -> Sandbox:
    global _SANDBOX
    if _SANDBOX is None:
        _SANDBOX = Sandbox(port=0).start()
        atexit.register(_SANDBOX.stop)
    return _SANDBOX


def sandbox_url(vendor: str) -> str:
    return sandbox().url(vendor)
