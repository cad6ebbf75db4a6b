"""Can `download_dir` take an export? Checked before each download, because the vendor deletes an
export once it has been downloaded: a zip that cannot be saved is lost for good.

Elevate says nothing about an export's size before the download (a job status is {jid, status}),
so "room" means at least `download_min_free_mb` free on the directory's file system, checked at the
start of a run (before any request) and again before each download.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tapkit import ConfigError

MEGABYTE = 1024 * 1024
DEFAULT_MIN_FREE_MB = 100


def check_writable(directory: Path) -> None:
    """Create the directory and write a file in it: what a download will do (root ignores modes, not a read-only fs)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".write-check-")
        try:
            os.write(fd, b"x")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"setting download_dir: {directory} cannot be created or written ({exc.strerror or exc}); "
            "no export was downloaded: set download_dir to a writable directory"
        ) from None


def free_bytes(directory: Path) -> int:
    return shutil.disk_usage(directory).free


def check_room(directory: Path, min_free_mb: float) -> None:
    free = free_bytes(directory)
    if free < min_free_mb * MEGABYTE:
        raise ConfigError(
            f"setting download_dir: {directory} has {free / MEGABYTE:.1f} MB free, less than "
            f"download_min_free_mb ({min_free_mb:g} MB); no export was downloaded: "
            "free space or point download_dir elsewhere"
        )


def check_ready(directory: Path, min_free_mb: float) -> None:
    check_writable(directory)
    check_room(directory, min_free_mb)
