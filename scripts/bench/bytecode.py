"""Child processes with compiled bytecode, as an installed package has it.

pip compiles a package's modules when it installs them. This environment sets `PYTHONDONTWRITEBYTECODE=1` and
uv installs no bytecode, so every tap process would compile its ~580 modules again (~1-2 s of CPU, several
seconds of wall time on a loaded machine): start-up that no installed tap pays. The benchmarks' children (taps
and floors alike) share one cache for the run instead, in a temporary directory (the virtualenv is not written).
"""

from __future__ import annotations

import os
import tempfile


def cache_bytecode_for_children() -> str:
    """Let the processes started from here on write and read bytecode in one cache; returns its directory."""
    directory = tempfile.mkdtemp(prefix="bench-pycache-")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = directory
    return directory
