"""A Singer writer that does not flush stdout after every RECORD.

singer-sdk's writers flush after each message: one system call per record. Here RECORD lines are
gathered in a buffer written out every `BUFFER_BYTES`; every other message (SCHEMA, STATE ...)
first writes out the records before it and is flushed at once, so a target never sees a STATE
before the records it covers, and a bookmark reaches the target as soon as it is emitted.
The tap flushes what is left when its sync ends (`VendorTap.sync_all`).
"""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage

BUFFER_BYTES = 256 * 1024


class BufferedRecordWriter(MsgSpecWriter):
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()

    def write_message(self, message: t.Any) -> None:
        line = self.format_message(message)
        if isinstance(message, RecordMessage):
            self._pending += line
            if len(self._pending) >= BUFFER_BYTES:
                self._write_pending()
            return
        self._pending += line
        self.flush()

    def _write_pending(self) -> None:
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()

    def flush(self) -> None:
        self._write_pending()
        sys.stdout.flush()
