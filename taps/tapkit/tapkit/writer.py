"""A Singer writer that does not flush stdout after every RECORD.

singer-sdk's writers flush after each message: one system call per record. Here RECORD lines are
gathered in a buffer written out every `BUFFER_BYTES`; every other message (SCHEMA, STATE ...)
first writes out the records before it and is flushed at once, so a target never sees a STATE
before the records it covers, and a bookmark reaches the target as soon as it is emitted.
The tap flushes what is left when its sync ends (`VendorTap.sync_all`). A stop signal never cuts a
line: it takes effect once the write under way is done (`tapkit.stopping.writing`).

`write_record` is the kit's fast RECORD path (tapkit.seam): the line of a RecordMessage, encoded
straight into the buffer by the same msgspec encoder, without building the message object first:
the same bytes as `write_message(RecordMessage(...))`.

The buffer goes out with `os.write` on stdout's file descriptor, not `sys.stdout.buffer.write`:
CPython's BufferedWriter silently drops bytes when a signal interrupts a write larger than its own
buffer into a full pipe (measured on 3.11: a SIGTERM, handled without raising, cut a RECORD line in half).
"""

from __future__ import annotations

import os
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.contrib.msgspec import encoder as _ENCODER
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from tapkit import stopping

BUFFER_BYTES = 256 * 1024


class BufferedRecordWriter(MsgSpecWriter):
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()

    @override
    def write_message(self, message: t.Any) -> None:
        line = self.format_message(message)
        if isinstance(message, RecordMessage):
            self._pending += line
            if len(self._pending) >= BUFFER_BYTES:
                self._write_pending()
            return
        self._pending += line
        self.flush()

    def write_record(self, stream: str, record: dict, version: int | None, time_extracted: t.Any) -> None:
        """A RECORD line, as `RecordMessage(...).to_dict()` would give it (same keys, same order)."""
        if version is None:
            message = {"type": "RECORD", "stream": stream, "record": record, "time_extracted": time_extracted}
        else:
            message = {
                "type": "RECORD",
                "stream": stream,
                "record": record,
                "version": version,
                "time_extracted": time_extracted,
            }
        pending = self._pending
        _ENCODER.encode_into(message, pending, -1)  # appended at the end of the buffer
        pending += b"\n"
        if len(pending) >= BUFFER_BYTES:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            with stopping.writing():
                write_all(sys.stdout.buffer, self._pending)
                self._pending.clear()

    def flush(self) -> None:
        with stopping.writing():
            self._write_pending()
            sys.stdout.flush()


def write_all(stream: t.BinaryIO, data: bytes | bytearray) -> None:
    """Write every byte of `data`, also when a signal interrupts the write (see the module docstring)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's BytesIO): nothing to interrupt
        stream.write(data)
        return
    stream.flush()  # what is already in the stream's buffer goes first
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]  # a short count when a signal came mid-write; retried after EINTR
