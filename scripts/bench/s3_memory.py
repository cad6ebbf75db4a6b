"""A plain S3-compatible server answering from memory: the export benchmark's bucket, waiting for nothing.

`python -m bench.s3_memory MEGABYTES` builds the partition day of the (only) profile with an export benchmark
once, prints one JSON line (its URL, the day's folder, objects, records, compressed and decompressed bytes),
then serves until it is stopped: ListObjectsV2 (prefix, start-after, delimiter; one page) and GetObject
(the whole object, with Content-Length) from a dict of pre-built bytes, and the few API answers the tap
needs (`ExportBenchmark.api_answers`). moto's server is too slow to be a fair floor: the tap and the floor
both read from this one.
"""

from __future__ import annotations

import gzip
import json
import posixpath
import sys
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from typing_extensions import override

from sandbox.profiles import ExportBenchmark, all_profiles

MODIFIED = "2026-01-01T00:00:00.000Z"


def export_benchmark() -> ExportBenchmark:
    found = [profile.export_benchmark for profile in all_profiles() if profile.export_benchmark is not None]
    if not found:
        raise SystemExit("no vendor profile has an export_benchmark")
    return found[0]


def listing(bucket: str, keys: list[str], sizes: dict[str, int], query: dict[str, list[str]]) -> bytes:
    """A ListObjectsV2 answer (one page, never truncated)."""
    prefix = query.get("prefix", [""])[0]
    after = query.get("start-after", [""])[0]
    delimiter = query.get("delimiter", [""])[0]
    contents, folders = [], set()
    for key in keys:
        if not key.startswith(prefix) or key <= after:
            continue
        rest = key[len(prefix) :]
        if delimiter and delimiter in rest:
            folders.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
            continue
        contents.append(
            f"<Contents><Key>{escape(key)}</Key><LastModified>{MODIFIED}</LastModified>"
            f'<ETag>"{sizes[key]:x}"</ETag><Size>{sizes[key]}</Size><StorageClass>STANDARD</StorageClass></Contents>'
        )
    common = "".join(
        f"<CommonPrefixes><Prefix>{escape(folder)}</Prefix></CommonPrefixes>" for folder in sorted(folders)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>"
        f"<KeyCount>{len(contents) + len(folders)}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys><Delimiter>{escape(delimiter)}</Delimiter><IsTruncated>false</IsTruncated>"
        f"{''.join(contents)}{common}</ListBucketResult>"
    ).encode()


def serve(bench: ExportBenchmark, objects: dict[str, bytes]) -> ThreadingHTTPServer:
    keys = sorted(objects)
    sizes = {key: len(data) for key, data in objects.items()}
    api = bench.api_answers()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as S3 does

        def answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            if path in api:
                self.answer(200, api[path], "application/json")
                return
            bucket, _, key = path.lstrip("/").partition("/")
            if bucket != bench.bucket:
                self.answer(404, b"<Error><Code>NoSuchBucket</Code></Error>", "application/xml")
            elif not key:
                self.answer(200, listing(bucket, keys, sizes, parse_qs(parts.query)), "application/xml")
            elif key in objects:
                self.answer(200, objects[key], "application/octet-stream")
            else:
                self.answer(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")

        do_POST = do_GET
        do_HEAD = do_GET

        @override
        def log_message(self, format: str, *args: t.Any) -> None:  # quiet: one line per request otherwise
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    bench = export_benchmark()
    objects = bench.build(int(sys.argv[1]))
    data_keys = sorted(key for key in objects if key.endswith(".json.gz"))
    records = size = 0
    for key in data_keys:  # one file at a time: the build's memory, not the day's again
        text = gzip.decompress(objects[key])
        records += text.count(b"\n")
        size += len(text)
    del text
    server = serve(bench, objects)
    host, port = "127.0.0.1", server.server_address[1]  # serve() binds the loopback address
    shape = {
        "url": f"http://{host}:{port}",
        "folder": posixpath.commonpath(data_keys) + "/",
        "files": len(data_keys),
        "records": records,
        "compressed": sum(len(objects[key]) for key in data_keys),
        "decompressed": size,
    }
    print(json.dumps(shape), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
