"""Export zips on local disk: saved atomically before any line is emitted, read back line by line.

The vendor deletes an export once it has been downloaded, so the local file is the only copy until
its lines are safely in the warehouse. A zip is written to a temporary name, flushed to disk and
renamed into place, so a file named `<jid>.zip` is always complete; the next run finds it by that
name even if the run died before it could record the download in the state.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import typing as t
import zipfile
from pathlib import Path, PurePosixPath

EMPTY_MARKER = "empty.txt"  # the vendor's lone member of an export without data
#: Test-only hook: when set, the process exits hard right after a zip is saved (simulates a crash
#: between the download and the emission of its lines); set to "sigterm", it sends itself SIGTERM
#: there instead (an orchestrator stopping the run at that moment). Never set it in production.
CRASH_AFTER_SAVE_ENV = "TAP_VOYADO_TEST_CRASH_AFTER_SAVE"
CRASH_EXIT_CODE = 86
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_READ_BUFFER = 256 * 1024


class InvalidExportError(Exception):
    """The downloaded body is not a readable zip."""


class ExportNotSavedError(Exception):
    """The download arrived but could not be written to disk (e.g. no space left)."""


class DownloadStore:
    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory).expanduser()

    def path(self, jid: str) -> Path:
        # The jid comes from the vendor: keep it from naming a path outside the directory.
        return self.directory / f"{_UNSAFE.sub('_', jid)}.zip"

    def has(self, jid: str) -> bool:
        return self.path(jid).is_file()

    def save(self, jid: str, source: t.BinaryIO) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path(jid)
        partial = final.with_name(f".{final.name}.part")
        try:
            with partial.open("wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise ExportNotSavedError(f"{exc.strerror or exc} while writing {partial}") from None
        if not zipfile.is_zipfile(partial):
            kept = final.with_name(final.name + ".invalid")
            os.replace(partial, kept)
            raise InvalidExportError(f"the download is not a zip file; it was kept in {kept}")
        os.replace(partial, final)
        _fsync_directory(self.directory)
        if os.environ.get(CRASH_AFTER_SAVE_ENV) == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        elif os.environ.get(CRASH_AFTER_SAVE_ENV):
            os._exit(CRASH_EXIT_CODE)
        return final

    def remove(self, jid: str) -> None:
        self.path(jid).unlink(missing_ok=True)

    def iter_lines(self, jid: str) -> t.Iterator[tuple[str, int, bytes]]:
        """(file name, 1-based line number, line) of every non-blank line, one line in memory at a time."""
        with zipfile.ZipFile(self.path(jid)) as archive:
            for member in _data_members(archive):
                name = PurePosixPath(member.filename).name
                # io.BufferedReader: C-level readline over the inflated member (ZipExtFile's own is Python)
                member_file = t.cast("zipfile.ZipExtFile", archive.open(member))  # what open() returns for "r"
                with io.BufferedReader(member_file, buffer_size=_READ_BUFFER) as lines:
                    for number, line in enumerate(lines, start=1):
                        if line.strip():
                            yield name, number, line

    def summary(self, jid: str) -> tuple[int, int]:
        """(data files, non-blank lines) of a saved export."""
        with zipfile.ZipFile(self.path(jid)) as archive:
            file_count = len(_data_members(archive))
        return file_count, sum(1 for _ in self.iter_lines(jid))


def _data_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        member
        for member in archive.infolist()
        if not member.is_dir() and PurePosixPath(member.filename).name != EMPTY_MARKER
    ]


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
