"""Full-table streams that yield the vendor's whole current set every run (a list, an audience scan).

A row the vendor no longer has (a profile that left an audience, a deleted design) must leave the
warehouse too. Such a stream takes part in Singer ACTIVATE_VERSION: every record of a run carries the
run's version, and

- before the first record the SDK announces the version (target-postgres with `activate_version` and
  `hard_delete` deletes the rows of older versions then);
- after the last record, once the sync has succeeded, `CompleteSnapshot` announces the same version
  again: the Singer convention for "this version is complete". The project's DuckDB loader
  (loaders/target-duckdb-versions) removes older rows only then, so a run that fails half-way removes nothing.

`snapshot_is_complete()` lets a stream opt out for one run (a scan resumed mid-way yields only the rest).
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tapkit.seam import SeamStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tapkit.settings import SnapshotSettings


class CompleteSnapshot(SeamStream):
    """Mixin for a singer-sdk stream; put it first among the bases."""

    #: the run's settings, a `SnapshotSettings` (set by `VendorStream`; Any here, so that the stream's own
    #: base may name its tap's settings class)
    settings: t.Any

    def snapshot_is_complete(self) -> bool:
        """Whether this run yields the whole set (override to say no for a resumed run)."""
        return True

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        # the setting (tapkit.settings.SNAPSHOT_SETTING) turns the announcements off for a loader that lacks them
        settings: SnapshotSettings = self.settings
        return settings.emit_activate_version_messages and self.snapshot_is_complete()

    @override
    def after_sync(self, context: Context | None) -> None:
        super().after_sync(context)
        version = self.announced_version
        if version is not None:
            self.announce_version(version)
