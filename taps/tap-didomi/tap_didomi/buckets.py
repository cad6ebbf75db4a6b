"""The bucket Didomi's exports land in (S3 or GCS), read as a stream of records.

Layout (developers.didomi.io "Batch export", "Analytics export"): Hive partitions
`<prefix>/export-id=<id>/date=YYYY-MM-DD/<type>/*.json.gz`, newline-delimited JSON, gzip. A partition
can be split into several files whose names "are subject to change": every `.json.gz` under the type
folder is read, whatever its name, and nothing else. A `_SUCCESS` file marks a complete partition (the
analytics export page; the batch export page does not mention it): a partition is read when it has the
marker or when its day is over (an export that writes none), never while it may still be written.

A file is never held whole: the object's body is decompressed as it arrives (zlib, in runs of about
1 MiB of whole lines), and each line decoded on its own (msgspec), so a 1 GB day costs the memory of
one run. (One msgspec call per run, as a JSON array, measured slower: the cyclic GC runs inside it.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import threading
import time
import typing as t
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import msgspec

from tapkit import AuthenticationError, ConfigError, RetriesExhaustedError, TapkitError, VendorResponseError
from tapkit.http import count_request

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_didomi.settings import DidomiSettings

DATA_SUFFIX = ".json.gz"
SUCCESS_MARKER = "_SUCCESS"
EXPORT_ID_KEY = "export-id="
DATE_KEY = "date="
READ_BYTES = 1 << 16  # compressed bytes asked of the object per read
RUN_BYTES = 1 << 20  # decompressed bytes decoded at once
GZIP_WBITS = 31  # zlib's gzip framing


@dataclass(frozen=True)
class Partition:
    """One type folder of one export's day: its data files and whether the export finished writing it."""

    export_id: str
    day: dt.date
    kind: str
    files: tuple[str, ...]  # object keys, sorted
    marked_complete: bool

    def readable(self, today: dt.date) -> bool:
        return self.marked_complete or self.day < today


class Bucket(t.Protocol):
    """The few calls the reader makes, over S3 or GCS."""

    def keys(self, prefix: str, start_after: str = "") -> Iterator[str]: ...

    def folders(self, prefix: str) -> list[str]: ...

    def open(self, key: str) -> t.BinaryIO: ...

    def read_error(self, key: str, exc: Exception) -> Exception | None:
        """The client's error raised while opening or reading `key`, as one of the kit's errors; None when
        `exc` is not the client's (a bug, which must not pass for a vendor fault)."""
        ...


def line_runs(raw: t.BinaryIO) -> Iterator[bytes]:
    """Runs of whole lines of a gzip stream (members concatenated, as gzip reads them), each about
    `RUN_BYTES`: decompressed as the bytes arrive, never more than a run (and one line) held."""
    unzip = zlib.decompressobj(wbits=GZIP_WBITS)
    member_open = False  # bytes of a member read, its end not yet
    pending, rest = b"", b""
    while True:
        data = pending or raw.read(READ_BYTES)
        if data:
            member_open = True
            text = unzip.decompress(data, RUN_BYTES)  # bounded whatever the compression ratio
            pending = unzip.unconsumed_tail
        elif member_open:  # every byte arrived: what zlib still holds, and the member must end there
            text = unzip.flush()
            if not unzip.eof:
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        else:
            break
        if unzip.eof:  # a member ends; another may follow
            pending, member_open = unzip.unused_data, False
            unzip = zlib.decompressobj(wbits=GZIP_WBITS)
        cut = text.rfind(b"\n") + 1
        if not cut:
            rest += text
            continue
        yield rest + text[:cut]
        rest = text[cut:]
    if rest:
        yield rest


def parse_bucket_url(url: str) -> tuple[str, str, str]:
    """`s3://bucket/prefix` -> ("s3", "bucket", "prefix")."""
    parts = urlsplit(url)
    if parts.scheme not in ("s3", "gs") or not parts.netloc:
        raise ConfigError(
            f"setting export_bucket_url must be s3://<bucket>/<prefix> or gs://<bucket>/<prefix>, got {url!r}"
        )
    return parts.scheme, parts.netloc, parts.path.strip("/")


class ExportReader:
    """Partitions and records of the exports under one bucket URL."""

    def __init__(self, bucket: Bucket, prefix: str, *, label: str) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.label = label  # how errors name the bucket (its URL, no credentials)
        self._decoder = msgspec.json.Decoder()

    def export_ids(self) -> list[str]:
        """The export ids the bucket holds (its `export-id=` folders)."""
        found = []
        for folder in self._guarded(lambda: self.bucket.folders(self.prefix)):
            name = folder.rstrip("/").rsplit("/", 1)[-1]
            if name.startswith(EXPORT_ID_KEY):
                found.append(name[len(EXPORT_ID_KEY) :])
        return sorted(found)

    def listing(self, export_id: str, first_day: dt.date) -> dict[dt.date, list[str]]:
        """Every key of an export from `first_day` on, by partition day: one listing (keys sort by date)."""
        folder = f"{self.prefix}{EXPORT_ID_KEY}{export_id}/"
        start_after = f"{folder}{DATE_KEY}{(first_day - dt.timedelta(days=1)).isoformat()}/~"  # after that day's keys
        by_day: dict[dt.date, list[str]] = {}
        for key in self._guarded(lambda: list(self.bucket.keys(folder, start_after))):
            name = key[len(folder) :].split("/", 1)[0]
            if not name.startswith(DATE_KEY):
                continue
            try:
                day = dt.date.fromisoformat(name[len(DATE_KEY) :])
            except ValueError:
                continue
            by_day.setdefault(day, []).append(key)
        return by_day

    def partition(self, export_id: str, day: dt.date, kind: str, keys: list[str]) -> Partition:
        """One type folder of a day, from that day's `keys` (see `listing`)."""
        folder = f"{self.prefix}{EXPORT_ID_KEY}{export_id}/{DATE_KEY}{day.isoformat()}/"
        files = tuple(sorted(key for key in keys if key.startswith(f"{folder}{kind}/") and key.endswith(DATA_SUFFIX)))
        marked = any(key.rsplit("/", 1)[-1] == SUCCESS_MARKER for key in keys)
        return Partition(export_id, day, kind, files, marked)

    def records(self, key: str) -> Iterator[dict]:
        """The records of one `.json.gz` object, decoded line by line as it is decompressed."""
        decode = self._decoder.decode
        number = 0
        try:
            with self.bucket.open(key) as raw:
                for run in line_runs(raw):
                    for line in run.split(b"\n"):
                        number += 1
                        if not line.strip():
                            continue
                        try:
                            record = decode(line)
                        except msgspec.DecodeError as exc:
                            raise VendorResponseError(f"{self.label}: {key} line {number} is not JSON: {exc}") from None
                        if isinstance(record, dict):
                            yield record
                    number -= 1  # a run ends with its last line's newline: the empty text after it is no line
        except TapkitError:  # a line that is not JSON: already one line naming the key
            raise
        except zlib.error as exc:
            raise RetriesExhaustedError(f"{self.label}: reading {key} failed: not gzip data: {exc}") from None
        except (OSError, EOFError) as exc:
            raise RetriesExhaustedError(f"{self.label}: reading {key} failed: {type(exc).__name__}: {exc}") from None
        except Exception as exc:  # the storage client's, raised at the file (open, a ranged read), not per line
            mapped = self.bucket.read_error(key, exc)
            if mapped is None:
                raise
            raise mapped from None

    def _guarded(self, call: t.Callable[[], t.Any]) -> t.Any:
        try:
            return call()
        except TapkitError:  # already one line naming the bucket
            raise
        except Exception as exc:  # the storage client's errors: access denied, no such bucket, network
            raise bucket_error(self.label, exc) from None


def bucket_error(label: str, exc: Exception) -> Exception:
    """An error from the storage client as one line: credentials refused stop the run, the rest fail a part."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    answer = getattr(exc, "response", None)
    if isinstance(answer, dict) and answer.get("ResponseMetadata", {}).get("HTTPStatusCode"):
        meta = answer["ResponseMetadata"]
        status, attempts = meta["HTTPStatusCode"], int(meta.get("RetryAttempts") or 0) + 1
        operation = getattr(exc, "operation_name", "request")
        if status in (401, 403):
            return AuthenticationError(
                f"{label}: the bucket refused the credentials: check the aws_* or gcs_* settings "
                f"({operation} answered HTTP {status})"
            )
        if status == 404:
            return ConfigError(f"{label}: no such bucket: check export_bucket_url ({operation} answered HTTP 404)")
        if status == 429 or status >= 500:
            return RetriesExhaustedError(f"{label}: {operation} failed after {attempts} attempts: HTTP {status}")
        return VendorResponseError(f"{label}: {operation} answered HTTP {status}: {text}")
    if any(word in text for word in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "401")):
        return AuthenticationError(
            f"{label}: the bucket refused the credentials: check the aws_* or gcs_* settings ({text})"
        )
    if "NoSuchBucket" in text or "404" in text:
        return ConfigError(f"{label}: no such bucket: check export_bucket_url ({text})")
    return RetriesExhaustedError(f"{label}: {text}")


def read_failure(label: str, key: str, status: int | None, detail: str, *, credentials: str) -> Exception:
    """A file that could not be opened or read, as one line naming the bucket and the key.

    Refused credentials stop the run (`credentials` names the settings to check); a file listed then
    gone (404) and a read the client gave up retrying (429, 5xx, no status) fail the partition alone."""
    if status in (401, 403):
        return AuthenticationError(
            f"{label}: the bucket refused the credentials while reading {key}: check {credentials} ({detail})"
        )
    if status == 404:
        return VendorResponseError(f"{label}: {key} was listed but is gone when read ({detail})")
    if status is None or status == 429 or status >= 500:
        return RetriesExhaustedError(f"{label}: reading {key} failed after the client's retries ({detail})")
    return VendorResponseError(f"{label}: reading {key} failed ({detail})")


# -- S3 ---------------------------------------------------------------------------------------------


class S3Bucket:
    """A bucket on S3 (or an S3-compatible server at `endpoint_url`), with the user's own credentials."""

    def __init__(self, name: str, settings: DidomiSettings, metric_stream: str) -> None:
        import boto3
        from botocore.config import Config

        session = boto3.Session(
            profile_name=settings.aws_profile or None,
            aws_access_key_id=settings.aws_access_key_id or None,
            aws_secret_access_key=settings.aws_secret_access_key or None,
            aws_session_token=settings.aws_session_token or None,
            region_name=settings.aws_region or None,
        )
        endpoint = settings.s3_endpoint_url or None
        options = Config(
            retries={"total_max_attempts": settings.retry_max_attempts, "mode": "standard"},
            connect_timeout=settings.request_timeout,
            read_timeout=settings.request_timeout,
            s3={"addressing_style": "path"} if endpoint else {},
        )
        self.client = session.client("s3", endpoint_url=endpoint, config=options)
        self.name = name
        self.metric_stream = metric_stream
        self._started = threading.local()
        events = self.client.meta.events
        events.register("before-send.s3", self._before_send)
        events.register("needs-retry.s3", self._after_attempt)

    # Every attempt (botocore's retries included) counts in the SDK's request metrics, like the API's requests.
    def _before_send(self, **_kwargs: t.Any) -> None:
        self._started.value = time.monotonic()

    def _after_attempt(self, response: t.Any = None, operation: t.Any = None, **_kwargs: t.Any) -> None:
        started = getattr(self._started, "value", None)
        if started is None:
            return
        self._started.value = None
        status = response[0].status_code if response else None
        name = getattr(operation, "name", "s3")
        count_request(self.metric_stream, f"s3:{name}", None, status, time.monotonic() - started)

    def keys(self, prefix: str, start_after: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = (
            paginator.paginate(Bucket=self.name, Prefix=prefix, StartAfter=start_after)
            if start_after
            else paginator.paginate(Bucket=self.name, Prefix=prefix)
        )
        for page in pages:
            for item in self._listed(page).get("Contents", []):
                yield item["Key"]

    def folders(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix, Delimiter="/")
        return [entry["Prefix"] for page in pages for entry in self._listed(page).get("CommonPrefixes", [])]

    def _listed(self, page: t.Any) -> t.Any:
        """A ListObjectsV2 page, checked: botocore reads any well-formed XML, such as an HTML page answered
        200, as an empty listing; S3's own answer names the bucket. Never "no files"."""
        if page.get("Name") != self.name:
            status = page.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise VendorResponseError(
                f"s3://{self.name}: ListObjectsV2 answered HTTP {status} with a body that is not a listing"
            )
        return page

    def open(self, key: str) -> t.BinaryIO:
        return t.cast("t.BinaryIO", self.client.get_object(Bucket=self.name, Key=key)["Body"])  # file-like: read()

    def read_error(self, key: str, exc: Exception) -> Exception | None:
        """botocore's errors of GetObject (after its retries) or of the body's stream."""
        from botocore.exceptions import BotoCoreError, ClientError

        label = f"s3://{self.name}"
        if isinstance(exc, ClientError):
            meta = exc.response.get("ResponseMetadata", {})
            status = meta.get("HTTPStatusCode")
            attempts = int(meta.get("RetryAttempts") or 0) + 1
            detail = f"{exc.operation_name} answered HTTP {status} after {attempts} attempt(s)"
            return read_failure(label, key, status, detail, credentials="the aws_* settings")
        if isinstance(exc, BotoCoreError):  # the connection or the body's stream broke after the retries
            text = " ".join(str(exc).split()) or type(exc).__name__
            return read_failure(label, key, None, f"{type(exc).__name__}: {text}", credentials="the aws_* settings")
        return None


# -- GCS --------------------------------------------------------------------------------------------


READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"  # the tap only lists and reads
MIN_PEM_LINE = 16
SERVICE_ACCOUNT_FIELDS = ("client_email", "private_key", "token_uri")  # what google-auth signs and sends with


def service_account_info(text: str) -> dict[str, t.Any]:
    """The fields of a service account's JSON key (`gcs_service_account_json`), checked before any request.

    Each error is one line naming the setting and what is wrong, never the key's text: a decoder's
    message can quote what it read, so only positions and field names are told."""
    setting = "setting gcs_service_account_json must be a service account's JSON key (the key file's text)"
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{setting}: it is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(info, dict):
        raise ConfigError(f"{setting}: it is JSON but not an object")
    if info.get("type", "service_account") != "service_account":
        raise ConfigError(f"{setting}: its type is not service_account (a user's or an external account's key?)")
    missing = [name for name in SERVICE_ACCOUNT_FIELDS if not isinstance(info.get(name), str) or not info[name]]
    if missing:
        raise ConfigError(f"{setting}: it lacks {', '.join(missing)}")
    return info


def key_secrets(text: object) -> list[str]:
    """The private key inside a JSON key, whole and by PEM line, to mask wherever it might be quoted."""
    try:
        info = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return []
    private_key = info.get("private_key") if isinstance(info, dict) else None
    if not isinstance(private_key, str):
        return []
    lines = [line.strip() for line in private_key.splitlines() if not line.startswith("-----")]
    # a PEM line is 64 characters; a short last line alone could mask ordinary words
    return [private_key, "".join(lines), *(line for line in lines if len(line) >= MIN_PEM_LINE)]


@functools.cache  # one credentials object, hence one access token, for every reader of the run
def gcs_credentials(text: str) -> t.Any:
    """google-auth's service-account credentials for a JSON key; ConfigError (without the key) if it is unusable."""
    from google.oauth2 import service_account  # type: ignore[import-untyped,import-not-found,unused-ignore]

    info = service_account_info(text)
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=[READ_ONLY_SCOPE])
    except Exception:  # cryptography's or rsa's messages could quote the key: name the field, not the text
        raise ConfigError(
            "setting gcs_service_account_json must be a service account's JSON key (the key file's text): "
            "its private_key is not a PEM private key"
        ) from None


class GcsBucket:
    """A bucket on Google Cloud Storage, read with a service account's JSON key (anonymously without one).

    google-auth signs a JWT with the key and trades it at the key's `token_uri` for an access token
    (an hour long, renewed by itself), which every request carries as `Authorization: Bearer`. The
    readers of a run share the credentials, and the token is fetched under a lock before a listing:
    google-auth refreshes without one, so parallel listings would each fetch their own."""

    _token_lock = threading.Lock()

    def __init__(self, name: str, settings: DidomiSettings) -> None:
        try:
            from google.cloud import storage  # type: ignore[import-untyped,import-not-found,unused-ignore]  # optional extra, no stubs
        except ImportError:
            raise ConfigError(
                "export_bucket_url is a gs:// URL, but google-cloud-storage is not installed: install tap-didomi[gcs]"
            ) from None
        key = settings.gcs_service_account_json
        endpoint = settings.gcs_endpoint_url
        options = {"api_endpoint": endpoint} if endpoint else None
        self.label = f"gs://{name}"
        self.credentials: t.Any = None
        if key:
            self.credentials = credentials = gcs_credentials(key)
            self.client = storage.Client(
                project=credentials.project_id, credentials=credentials, client_options=options
            )
        else:
            from google.auth.credentials import AnonymousCredentials  # type: ignore[import-untyped,import-not-found,unused-ignore]

            self.client = storage.Client(project="local", credentials=AnonymousCredentials(), client_options=options)
        self.bucket = self.client.bucket(name)

    def keys(self, prefix: str, start_after: str = "") -> Iterator[str]:
        with self._token_refusal():
            self._hold_token()
            for blob in self.client.list_blobs(self.bucket, prefix=prefix, start_offset=start_after or None):
                yield blob.name

    def folders(self, prefix: str) -> list[str]:
        with self._token_refusal():
            self._hold_token()
            blobs = self.client.list_blobs(self.bucket, prefix=prefix, delimiter="/")
            list(blobs)  # the prefixes are known once the pages are read
            return sorted(blobs.prefixes)

    def open(self, key: str) -> t.BinaryIO:
        return self.bucket.blob(key).open("rb")  # sends nothing yet: the listing before it holds the token

    def read_error(self, key: str, exc: Exception) -> Exception | None:
        """google-auth's refused refresh (the token renewed mid-run, an hour in) and google-api-core's errors
        of a ranged read, by their HTTP `code`, after google-cloud-storage's own retries."""
        from google.api_core.exceptions import GoogleAPICallError, RetryError  # type: ignore[import-untyped,import-not-found,unused-ignore]
        from google.auth.exceptions import RefreshError, TransportError  # type: ignore[import-untyped,import-not-found,unused-ignore]

        if isinstance(exc, RefreshError):
            return self._refused(exc, f" while reading {key}")
        if isinstance(exc, GoogleAPICallError):
            status = int(exc.code) if exc.code is not None else None
            detail = f"answered HTTP {status}" if status is not None else type(exc).__name__
            return read_failure(self.label, key, status, detail, credentials="gcs_service_account_json")
        if isinstance(exc, (RetryError, TransportError)):
            return read_failure(self.label, key, None, type(exc).__name__, credentials="gcs_service_account_json")
        return None

    def _hold_token(self) -> None:
        if self.credentials is None:
            return
        from google.auth.transport.requests import Request  # type: ignore[import-untyped,import-not-found,unused-ignore]

        with self._token_lock:
            if not self.credentials.valid:
                self.credentials.refresh(Request())

    @contextlib.contextmanager
    def _token_refusal(self) -> Iterator[None]:
        """The token endpoint refusing the key (an OAuth error, such as invalid_grant) as one line: the
        error's code and description, as Google words them (its answer quotes no part of the key)."""
        from google.auth.exceptions import RefreshError  # type: ignore[import-untyped,import-not-found,unused-ignore]

        try:
            yield
        except RefreshError as exc:
            raise self._refused(exc) from None

    def _refused(self, exc: Exception, when: str = "") -> AuthenticationError:
        reason = " ".join(str(exc.args[0] if exc.args else "").split()) or "no reason given"
        return AuthenticationError(
            f"{self.label}: the token endpoint refused the service account key in gcs_service_account_json{when} "
            f"({reason})"
        )


def open_bucket(settings: DidomiSettings, metric_stream: str = "bucket") -> ExportReader | None:
    """The export reader for `export_bucket_url`; None when it is unset. Its requests count under `metric_stream`."""
    url = settings.export_bucket_url
    if not url:
        return None
    scheme, name, prefix = parse_bucket_url(url)
    bucket: Bucket = S3Bucket(name, settings, metric_stream) if scheme == "s3" else GcsBucket(name, settings)
    return ExportReader(bucket, prefix, label=f"{scheme}://{name}")
