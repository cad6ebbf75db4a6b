"""The uv command the test run itself came from (the README's test command installs it when missing)."""

from __future__ import annotations

import shutil
import sys


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]
