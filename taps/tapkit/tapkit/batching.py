"""BATCH messages (singer-sdk's `batch_config`): records go to files, and no STATE runs ahead of them.

With `batch_config` set, the SDK writes a stream's records into files of `batch_size` records and emits
one BATCH message per file, each followed by a STATE. The kit keeps its guarantee that a STATE covers
only records a target can already load:

- the kit's own STATE writes (a committed day, a saved scan cursor: `write_state_now`) are held while a
  file is being filled; the STATE after the file's BATCH message carries them;
- a part that fails outside the kit's per-partition guard ends the records early: the ones gathered so
  far still go to a file and a BATCH message before the failure goes on (the SDK would drop them while
  the state already counts them);
- after a stop signal the last STATE is the one of the last BATCH message (`BatchLedger`): records of a
  file not yet announced are fetched again by the next run.

Which streams batch: those with no child streams (a child's STATE would otherwise cover its parent's
unwritten file) that announce no ACTIVATE_VERSION (records in batch files carry no version, and a loader
that activates a version would delete them). Every other stream keeps RECORD messages, as before.
Stream maps and deselected properties apply to batch files too (the SDK alone writes records unmapped).
"""

from __future__ import annotations

import copy
import typing as t

from singer_sdk.batch import Batcher
from typing_extensions import override

from tapkit import stopping
from tapkit.seam import SeamStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers.types import Context


class BatchLedger:
    """The tap's state as of the last BATCH message, while a stream's file is being filled."""

    def __init__(self) -> None:
        self.state_at_last_batch: dict | None = None

    def open(self, tap_state: t.Mapping[str, t.Any]) -> None:
        self.state_at_last_batch = copy.deepcopy(dict(tap_state))

    def close(self) -> None:
        self.state_at_last_batch = None


class BatchingStream(SeamStream):
    """Mixin: BATCH messages where `batch_config` is set and the stream can take them (see the module doc)."""

    #: the tap's one ledger (handed over when the stream is built)
    batch_ledger: BatchLedger

    @property
    def takes_batches(self) -> bool:
        return not self.child_streams and self.announced_version is None

    @override
    def get_batch_config(self, config: t.Mapping) -> t.Any:  # singer-sdk's BatchConfig, or None
        return super().get_batch_config(config) if self.takes_batches else None

    @override
    def get_batches(self, batch_config: t.Any, context: Context | None = None) -> Iterable[tuple[t.Any, list[str]]]:
        # (batch_config: singer-sdk's BatchConfig; the encoding yielded: its BaseBatchFileEncoding)
        failures: list[Exception] = []

        def records() -> Iterator[dict]:
            try:
                yield from self.batched_records(context)
            except Exception as exc:  # not a stop signal: the records so far go to a file first
                failures.append(exc)

        batcher = Batcher(tap_name=self.tap_name, stream_name=self.name, batch_config=batch_config)
        self.batch_ledger.open(self.tap_state)
        self.holds_state = True
        try:
            for manifest in batcher.get_batches(records=records()):
                self.holds_state = False
                self.batch_ledger.close()
                yield batch_config.encoding, manifest  # the SDK writes the BATCH message, then a STATE
                self.batch_ledger.open(self.tap_state)
                self.holds_state = True
        except stopping.Stopped:
            self.holds_state = False  # the ledger stays open: the last STATE is the one it kept
            raise
        except BaseException:
            self.holds_state = False
            self.batch_ledger.close()
            raise
        self.holds_state = False
        self.batch_ledger.close()
        if failures:
            raise failures[0]
