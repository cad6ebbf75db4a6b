"""F0 of the export benchmark: the least a reader of a bucket's `.json.gz` day could do, as a whole process.

`python -m bench.export_floor URL BUCKET FOLDER STREAM` lists FOLDER (ListObjectsV2, plain requests), streams
each `.json.gz` object in 64 KiB reads, gunzips as it reads (zlib), decodes each line (orjson) and writes one
Singer RECORD line per record to stdout (orjson.dumps, a buffered stdout): bytes read, decompressed, decoded,
written, nothing more. Prints the record count to stderr.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator
from xml.etree import ElementTree

import orjson
import requests

CHUNK = 1 << 16  # compressed bytes per read, as the tap reads them
S3 = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def rows(url: str, bucket: str, folder: str) -> Iterator[bytes]:
    """Each record line of every `.json.gz` object under FOLDER, as it is decompressed."""
    session = requests.Session()
    listing = ElementTree.fromstring(
        session.get(f"{url}/{bucket}", params={"list-type": "2", "prefix": folder}).content
    )
    keys = sorted(key for key in (node.text or "" for node in listing.iter(f"{S3}Key")) if key.endswith(".json.gz"))
    for key in keys:
        with session.get(f"{url}/{bucket}/{key}", stream=True) as answer:
            unzip = zlib.decompressobj(wbits=31)  # gzip
            rest = b""
            for chunk in answer.raw.stream(CHUNK, decode_content=False):
                lines = (rest + unzip.decompress(chunk)).split(b"\n")
                rest = lines.pop()
                yield from (line for line in lines if line)
            yield from (line for line in (rest + unzip.flush()).split(b"\n") if line)


def main() -> None:
    url, bucket, folder, stream = sys.argv[1:5]
    out = sys.stdout.buffer
    head = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
    count = 0
    for line in rows(url, bucket, folder):
        out.write(head + orjson.dumps(orjson.loads(line)) + b"}\n")
        count += 1
    out.flush()
    print(count, file=sys.stderr)


if __name__ == "__main__":
    main()
