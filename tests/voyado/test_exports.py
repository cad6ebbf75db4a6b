"""The local export store: atomic saves, bounded memory on large zips (no server needed)."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import pytest

from tap_voyado.exports import DownloadStore, InvalidExportError


def make_zip(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def test_lines_are_numbered_per_file_blank_lines_skipped_and_empty_marker_ignored(tmp_path):
    store = DownloadStore(tmp_path)
    store.save("j1", make_zip({"a.jsonl": b'{"x":1}\n\n{"x":2}\n', "dir/b.jsonl": b'{"y":1}', "empty.txt": b""}))
    assert list(store.iter_lines("j1")) == [
        ("a.jsonl", 1, b'{"x":1}\n'),
        ("a.jsonl", 3, b'{"x":2}\n'),
        ("b.jsonl", 1, b'{"y":1}'),
    ]
    assert store.summary("j1") == (2, 3)
    store.save("j2", make_zip({"empty.txt": b""}))
    assert store.summary("j2") == (0, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j1.zip", "j2.zip"]  # no temporary file left


def test_a_body_that_is_not_a_zip_is_kept_aside_not_saved(tmp_path):
    store = DownloadStore(tmp_path)
    with pytest.raises(InvalidExportError, match="not a zip"):
        store.save("j3", io.BytesIO(b"PK\x03\x04 but truncated"))
    assert not store.has("j3")
    assert (tmp_path / "j3.zip.invalid").read_bytes() == b"PK\x03\x04 but truncated"


def test_a_vendor_jid_cannot_name_a_path_outside_the_directory(tmp_path):
    assert DownloadStore(tmp_path).path("../../etc/x").parent == tmp_path


def test_memory_stays_bounded_on_a_large_export(tmp_path):
    line = json.dumps({"time": "2026-06-15T02:50:25Z", "sessionKey": "s" * 200}).encode() + b"\n"
    lines = 60_000  # about 14 MB uncompressed
    store = DownloadStore(tmp_path)
    store.save("big", make_zip({"recent_views.jsonl": line * lines}))
    tracemalloc.start()
    try:
        count = sum(1 for _ in store.iter_lines("big"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lines
    assert peak < 2 * 1024 * 1024
