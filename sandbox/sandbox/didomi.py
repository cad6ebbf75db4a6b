"""Didomi simulator: the Platform API (https://api.didomi.io/v1) and the bucket its exports land in.

REST (developers.didomi.io "API & Platform", the OpenAPI at api.didomi.io/docs):

POST /sessions {"type": "api-key", "key": K, "secret": S}   -> {"access_token": JWT, ...}; empty key or secret: 401
GET  /widgets/notices?organization_id=O                     -> notices
GET  /widgets/notices/deployments?organization_id=O         -> deployed notice configurations
GET  /metadata/purposes?organization_id=O                   -> purposes
GET  /metadata/partners?organization_id=O                   -> the organization's vendors (IAB, Google ATP, global,
                                                               custom: its Data Manager's list, with their purposes)
GET  /metadata/numeric-partners?organization_id=O           -> vendors' numeric IDs (as the consent string holds them)
GET  /metadata/numeric-purposes?organization_id=O           -> purposes' numeric IDs
GET  /consents/users?organization_id=O                      -> users of the Consents API (a separate product)
GET  /consents/events?organization_id=O&user_id=U           -> one user's consent events

The Platform API answers both at the vendor root and under `/v1` (the real host's layout, https://api.didomi.io/v1:
a tap given `<sandbox>/didomi/v1` sees what it would see there). Beside it, at the host root:

GET  /compliance/v1/regulations[?$search[releaseStatus]=S]  -> {"data": [regulations]}: the Compliance API, not paged,
                                                               no organization (every regulation Didomi supports)

Nothing answers at the undocumented /metadata/regulations. Every route but /sessions needs
`Authorization: Bearer <access_token>`; a token expires `didomi.token_ttl` seconds (default 3600, "about an
hour") after it was issued: then 401. Lists answer the feathers envelope `{"total", "limit", "skip", "data"}`,
paged by `$limit` (capped at `didomi.max_limit`, default 100) and `$skip`. Without the Consents product
(setting `didomi.consents_product` False) /consents/* answers 403. The request budget (100 per 15 s in the
docs, draft-7 `RateLimit`/`RateLimit-Policy` headers) is the sandbox's shared
`didomi.rate_budget` (see sandbox.core.RequestBudgets).

Bucket (developers.didomi.io "Batch export", "Analytics export"): `/s3/...` is a real S3 API, moto's server
started on first use and proxied here, so the tap's endpoint_url is `<sandbox>/didomi/s3` and faults and the
request log cover it. Bucket `didomi-exports`, keys `data/export-id=<id>/date=YYYY-MM-DD/<type>/<file>.json.gz`
(newline-delimited JSON, gzip), several files per partition with unrelated names, a `_SUCCESS` marker once a
partition is complete (today's partition is still being written: no marker). Setting `didomi.late_file` adds
a file to the partition two days ago (delivered after the tap first read it); `didomi.drift` changes the REST
rows' fields ("add", "remove", "retype"); `didomi.gone_keys` (object keys) answers S3's 404 NoSuchKey to
reading those keys while listings still show them (a file deleted between the tap's listing and its read);
`didomi.regulations_page` (a number) pages the regulations in the feathers envelope, the reading of the
Compliance API the docs leave open.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import random
import threading
import time
import typing as t
import uuid
from urllib.parse import unquote, urlencode

from typing_extensions import override

from sandbox.core import Request, Response, VendorApp, default_today
from sandbox.profiles import (
    DayWindows,
    ExportBenchmark,
    FailingPart,
    Partitions,
    Probe,
    VendorProfile,
    partition_state,
)

ORGANIZATION = "sandbox-org"
BUCKET = "didomi-exports"
PREFIX = "data"
BATCH_EXPORT = "batch-7f3a"  # users, events, proofs
ANALYTICS_EXPORT = "analytics-2c91"  # cmp_hourly_metrics
EXPORT_TYPES = {BATCH_EXPORT: ("users", "events", "proofs"), ANALYTICS_EXPORT: ("cmp_hourly_metrics",)}
EXPORT_DAYS = 4  # complete partitions: the 4 days before today (today's is still being written)
LATE_DAY = 2  # the late file lands in the partition of 2 days ago
BULK_FILE = 9  # the file index of the large users file (switch `didomi.bulk_rows`)
STREAM_OF_TYPE = {
    "users": "export_users",
    "events": "export_events",
    "proofs": "export_proofs",
    "cmp_hourly_metrics": "cmp_hourly_metrics",
}
REST_STREAMS = (
    "notices",
    "notice_deployments",
    "purposes",
    "vendors",
    "regulations",
    "vendor_numeric_ids",
    "purpose_numeric_ids",
)
#: the Platform API's paged lists (under /v1 on the real host)
LIST_PATHS = {
    "/widgets/notices": "notices",
    "/widgets/notices/deployments": "notice_deployments",
    "/metadata/purposes": "purposes",
    "/metadata/partners": "vendors",
    "/metadata/numeric-partners": "vendor_numeric_ids",
    "/metadata/numeric-purposes": "purpose_numeric_ids",
}
#: the numeric-ID routes, which the docs' curl asks at the host root (variant "numeric-ids-at-root")
NUMERIC_PATHS = frozenset({"/metadata/numeric-partners", "/metadata/numeric-purposes"})
#: the Compliance API's list of regulations, at the host root (not under /v1)
REGULATIONS_PATH = "/compliance/v1/regulations"
#: (id, name, release status, countries): Didomi's `releaseStatus`; "stable" ones are those consents may be
#: collected for (developers.didomi.io "Regulations"); a beta and a deprecated one test that every status is read
REGULATIONS = (
    ("gdpr", "General Data Protection Regulation", "stable", (("FR", "France"), ("DE", "Germany"), ("ES", "Spain"))),
    ("cpra", "California Privacy Rights Act", "stable", (("US", "United States"),)),
    ("cpa", "Colorado Privacy Act", "beta", (("US", "United States"),)),
    ("lgpd", "Lei Geral de Protecao de Dados", "deprecated", (("BR", "Brazil"),)),
)
US_REGIONS = {"cpra": ("CA", "California"), "cpa": ("CO", "Colorado")}
COUNTRIES = ("FR", "DE", "ES")
DEVICES = ("desktop", "mobile")
S3_ACCESS_KEY_ID = "sandbox-s3-key-id"
S3_SECRET_ACCESS_KEY = "sandbox-s3-secret"  # a dummy: moto checks no signature
S3_REGION: t.Final = "eu-west-1"
#: the budget the docs state (100 requests per 15 s), announced when no test set one (`didomi.rate_budget`)
DOCUMENTED_POLICY = {"RateLimit": "limit=100, remaining=99, reset=15", "RateLimit-Policy": "100;w=15"}


def _stamp(day: dt.date, seconds: int) -> str:
    return (dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2FuZGJveC1zaWduYXR1cmU"


class DidomiApp(VendorApp):
    name = "didomi"
    VARIANTS: t.ClassVar[dict[str, str]] = {
        "bare-arrays": "list routes answer a bare JSON array, every row at once (the deploy-a-widget page's "
        "example), not the paged {total, limit, skip, data} envelope",
        "opaque-token": "the access_token is not a JWT whose `exp` can be read: the tap learns of its expiry "
        "from a 401 only",
        "consents-missing-404": "an organization without the Consents API gets 404 (not 403) on /consents/*",
        "no-success-marker": "the batch export writes no _SUCCESS file (only the analytics export's page "
        "documents one): a partition is complete once its day is over",
        "regulations-filter-required": "the Compliance API refuses (400) a request for regulations without the "
        "documented $search[releaseStatus] filter: only the stable ones can be read",
        "numeric-ids-at-root": "the numeric-ID routes answer only at the host root, as the docs' curl "
        "(https://api.didomi.io/metadata/numeric-partners) asks them, and 404 under /v1",
    }

    def __init__(self, sandbox: t.Any) -> None:
        super().__init__(sandbox)
        self._tokens: dict[str, float] = {}  # access token -> expiry (time.time())
        self._lock = threading.Lock()
        self._s3: t.Any = None  # moto's ThreadedMotoServer, started on first use
        self._bucket_layout: tuple | None = None  # what the bucket holds now (rebuilt when it changes)

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()

    # -- the data --------------------------------------------------------------------------------

    @property
    def organization_id(self) -> str:
        return ORGANIZATION

    def _rng(self, *parts: t.Any) -> random.Random:
        return random.Random(f"{self.seed}:{self.size}:" + ":".join(str(part) for part in parts))

    def rest_rows(self, stream: str) -> list[dict]:
        """Every row of a REST list route, in the vendor's shape."""
        org, size = ORGANIZATION, self.size
        base = self.today() - dt.timedelta(days=200)
        rng = self._rng(stream)
        if stream == "notices":
            return [
                {
                    "id": f"notice-{i:03d}",
                    "organization_id": org,
                    "name": f"Notice {i} ({rng.choice(['web', 'app', 'amp'])})",
                    "archived": i % 5 == 4,
                    "created_at": _stamp(base, i * 3600),
                    "updated_at": _stamp(base + dt.timedelta(days=i), 60),
                }
                for i in range(3 * size)
            ]
        if stream == "notice_deployments":
            return [
                {
                    "id": f"deployment-{n:02d}-{d}",
                    "organization_id": org,
                    "notice_id": f"notice-{n:03d}",
                    "config_id": f"config-{n:02d}-{d}",
                    "message": f"Publish version {d + 1}",
                    "created_at": _stamp(base + dt.timedelta(days=10 * d + n), 600),
                    "updated_at": _stamp(base + dt.timedelta(days=10 * d + n), 600),
                }
                for n in range(3 * size)
                for d in range(2)
            ]
        if stream == "purposes":
            names = ("analytics", "advertising", "personalization", "social", "measurement", "cookies")
            return [
                {
                    "id": f"{name}-{i}" if i >= len(names) else name,
                    "organization_id": org,
                    "name": {"en": name.title(), "fr": name.title() + " (fr)"},
                    "description": {"en": f"Purpose {name}"},
                    "iab_id": (i + 1) if i < 4 else None,
                    "metadata": {"owner": "dpo"},
                    "created_at": _stamp(base, i * 60),
                    "updated_at": _stamp(base, i * 60 + 30),
                }
                for i, name in enumerate(names * size)
            ]
        if stream == "vendors":
            kinds = ("iab", "google", "global", "custom")
            return [
                {
                    "id": f"vendor-{i:03d}",
                    "name": f"Vendor {i}",
                    "website": f"https://vendor{i}.example",
                    "country": COUNTRIES[i % len(COUNTRIES)],
                    "namespaces": {
                        "iab": {"iab2": str(100 + i)},
                        "google": {"google": str(200 + i)},
                        "global": {"didomi": f"vendor{i}"},
                        "custom": {"custom": f"crm-vendor-{i}"},
                    }[kinds[i % 4]],
                    # IAB, Google ATP and global vendors belong to no organization; custom ones to their creator
                    "organization_id": org if kinds[i % 4] == "custom" else None,
                    "default_purposes_id": ["analytics", "advertising"][: 1 + i % 2],
                    "legitimate_interest_purposes_id": ["measurement"] if i % 3 == 0 else [],
                    "spi_purposes_id": ["social"] if i % 5 == 0 else [],
                    "deprecated": i % 7 == 6,
                    "created_at": _stamp(base, i * 120),
                    "updated_at": _stamp(base, i * 120 + 5),
                }
                for i in range(7 * size)
            ]
        if stream == "regulations":
            return [
                {
                    "id": key,
                    "archived": status == "deprecated",
                    "geos": [
                        {
                            "country": {"id": country, "name": country_name},
                            "region": dict(zip(("id", "name"), US_REGIONS.get(key, ("*", "All")), strict=True)),
                        }
                        for country, country_name in countries
                    ],
                    "name": name,
                    "releaseStatus": status,
                }
                for key, name, status, countries in REGULATIONS
            ]
        if stream in ("vendor_numeric_ids", "purpose_numeric_ids"):
            # Numbered when a notice is first published with them: a subset, numbered in that order.
            source, field = (
                ("vendors", "metadata_partner_id")
                if stream == "vendor_numeric_ids"
                else (
                    "purposes",
                    "metadata_purpose_id",
                )
            )
            numbered = [row["id"] for row in self.rest_rows(source)][::2]
            return [
                {
                    "created_at": _stamp(base, 3600 + n),
                    "updated_at": _stamp(base, 3600 + n),
                    field: string_id,
                    "numeric_id": n + 1,
                    "organization_id": org,
                }
                for n, string_id in enumerate(numbered)
            ]
        raise KeyError(stream)

    def table_rows(self, stream: str) -> list[dict]:
        """A REST list's rows as the tap's table holds them: `organization_id` is the organization read; a vendor's
        own `organization_id` (its owner, none for IAB, Google ATP and global vendors) is `owner_organization_id`;
        the Compliance API's camelCase fields are snake_case columns."""
        rows = self.rest_rows(stream)
        if stream == "vendors":
            return [
                {"organization_id": ORGANIZATION, "owner_organization_id": row["organization_id"]}
                | {name: value for name, value in row.items() if name != "organization_id"}
                for row in rows
            ]
        if stream == "regulations":
            renamed = {"releaseStatus": "release_status"}
            readable = self.variant("regulations-filter-required")  # then the stable ones only
            return [
                {"organization_id": ORGANIZATION} | {renamed.get(name, name): value for name, value in row.items()}
                for row in rows
                if not readable or row["releaseStatus"] == "stable"
            ]
        return rows

    def consent_users(self) -> list[dict]:
        base = self.today() - dt.timedelta(days=30)
        return [
            {
                "id": f"cu-{i:04d}",
                "organization_id": ORGANIZATION,
                "organization_user_id": f"customer-{i:04d}@example.com",
                "consents": {"purposes": [{"id": "analytics", "enabled": i % 2 == 0}], "vendors": {"enabled": []}},
                "metadata": {"tier": "gold" if i % 3 == 0 else "basic"},
                "created_at": _stamp(base, i * 97),
                "updated_at": _stamp(base + dt.timedelta(days=i % 20), i * 13),
            }
            for i in range(12 * self.size)
        ]

    def consent_events(self, user_id: str) -> list[dict]:
        users = {user["id"]: user for user in self.consent_users()}
        user = users.get(user_id)
        if user is None:
            return []
        index = int(user_id.rsplit("-", 1)[1])
        base = self.today() - dt.timedelta(days=30)
        return [
            {
                "id": f"ce-{index:04d}-{n}",
                "organization_id": ORGANIZATION,
                "user": {"id": user_id, "organization_user_id": user["organization_user_id"]},
                "consents": {"purposes": [{"id": "analytics", "enabled": (index + n) % 2 == 0}]},
                "status": "confirmed",
                "regulation": "gdpr",
                "source": {"type": "api", "domain": "www.example.com"},
                "created_at": _stamp(base + dt.timedelta(days=n), index * 31),
                "updated_at": _stamp(base + dt.timedelta(days=n), index * 31),
            }
            for n in range(1 + index % 3)
        ]

    # -- the exports -----------------------------------------------------------------------------

    def export_days(self) -> list[dt.date]:
        """Every partition date the bucket holds, oldest first (today's included: still being written)."""
        today = self.today()
        return [today - dt.timedelta(days=back) for back in range(EXPORT_DAYS, -1, -1)]

    def complete(self, day: dt.date) -> bool:
        return day < self.today()

    def export_records(self, kind: str, day: dt.date, file_index: int) -> list[dict]:
        """The records of one file of a partition (deterministic from seed, size, day, file)."""
        rng = self._rng(kind, day.isoformat(), file_index)
        stamp_day = day - dt.timedelta(days=1)  # a day's export holds the day before's changes
        key = f"{day:%Y%m%d}-{file_index}"
        if kind == "users" and file_index == BULK_FILE:
            return [
                {
                    "id": f"u-{key}-{i}",
                    "organization_id": ORGANIZATION,
                    "organization_user_id": f"crm-{key}-{i}",
                    "consents": {"purposes": [{"id": "analytics", "enabled": i % 3 == 0}]},
                    "metadata": {"note": "x" * 200},
                    "created_at": _stamp(stamp_day, i % 86400),
                    "updated_at": _stamp(stamp_day, i % 86400),
                }
                for i in range(self.bulk_rows())
            ]
        if kind == "users":
            return [
                {
                    "id": f"u-{key}-{i}",
                    "organization_id": ORGANIZATION,
                    "organization_user_id": f"crm-{key}-{i}",
                    "consents": {
                        "purposes": [{"id": "analytics", "enabled": rng.random() < 0.6}],
                        "vendors": {"enabled": ["vendor-000"], "disabled": []},
                    },
                    "metadata": {},
                    "created_at": _stamp(stamp_day, rng.randrange(86400)),
                    "updated_at": _stamp(stamp_day, rng.randrange(86400)),
                }
                for i in range(5 * self.size + file_index)
            ]
        if kind == "events":
            return [
                {
                    "id": f"e-{key}-{i}",
                    "organization_id": ORGANIZATION,
                    "user": {"id": f"u-{key}-{i % 5}", "organization_user_id": f"crm-{key}-{i % 5}"},
                    "consents": {"purposes": [{"id": "advertising", "enabled": rng.random() < 0.5}]},
                    "status": "confirmed",
                    "regulation": rng.choice(["gdpr", "gdpr", "cpra"]),
                    "source": {"type": "sdk-web", "domain": "www.example.com", "notice_id": "notice-000"},
                    "created_at": _stamp(stamp_day, rng.randrange(86400)),
                    "updated_at": _stamp(stamp_day, rng.randrange(86400)),
                }
                for i in range(8 * self.size + file_index)
            ]
        if kind == "proofs":
            return [
                {
                    "id": f"p-{key}-{i}",
                    "organization_id": ORGANIZATION,
                    "user_id": f"u-{key}-{i}",
                    "event_id": f"e-{key}-{i}",
                    "filename": f"proof-{key}-{i}.pdf",
                    "created_at": _stamp(stamp_day, rng.randrange(86400)),
                    "updated_at": _stamp(stamp_day, rng.randrange(86400)),
                }
                for i in range(2 * self.size)
            ]
        if kind == "cmp_hourly_metrics":
            rows = []
            hours = range(file_index * 12, file_index * 12 + 12)  # file 0: hours 0-11, file 1: 12-23, late: again
            for hour in hours if file_index < 2 else range(0, 24, 6):
                for country in COUNTRIES[: 1 + self.size % 3]:
                    for device in DEVICES:
                        displays = rng.randrange(50, 500)
                        given = rng.randrange(0, displays // 2)
                        denied = rng.randrange(0, displays // 4)
                        rows.append(
                            {
                                "hour": _stamp(stamp_day, hour * 3600),
                                "organization_id": ORGANIZATION,
                                "notice_id": "notice-000" if file_index < 2 else "notice-001",
                                "domain": "www.example.com",
                                "country": country,
                                "device_type": device,
                                "regulation": "gdpr",
                                "pageviews": displays * 3,
                                "notice_displays": displays,
                                "consents_given": given,
                                "consents_denied": denied,
                                "consents_partial": rng.randrange(0, 10),
                                "ui_interactions": rng.randrange(0, 40),
                            }
                        )
            return rows
        raise KeyError(kind)

    def partition_files(self, export_id: str, day: dt.date, kind: str) -> list[tuple[str, int]]:
        """(file name, file index) of one partition's data files: names vary, as the docs warn."""
        tag = uuid.UUID(int=self._rng("file", export_id, day, kind).getrandbits(128)).hex[:12]
        files = [(f"part-00000-{tag}.json.gz", 0), (f"{kind}-{day:%Y%m%d}-chunk1.json.gz", 1)]
        if self.sandbox.settings.get("didomi.late_file") and day == self.today() - dt.timedelta(days=LATE_DAY):
            files.append((f"late-delivery-{tag}.json.gz", 2))
        if self.bulk_rows() and kind == "users" and day == self.today() - dt.timedelta(days=1):
            files.append((f"bulk-{tag}.json.gz", BULK_FILE))
        return files

    def bulk_rows(self) -> int:
        """Switch `didomi.bulk_rows`: one more users file of that many rows in yesterday's partition (memory tests)."""
        return int(self.sandbox.settings.get("didomi.bulk_rows") or 0)

    @override
    def ground_truth(self, **kwargs: t.Any) -> dict[str, list[dict]]:
        """Rows per stream. kwargs: `start_date` (YYYY-MM-DD, exports from that partition date on), `export_ids`
        (a list, or text separated by commas: only those exports)."""
        start = dt.date.fromisoformat(str(kwargs.get("start_date") or self.export_days()[0]))
        wanted = kwargs.get("export_ids") or list(EXPORT_TYPES)
        wanted = wanted.split(",") if isinstance(wanted, str) else wanted
        truth: dict[str, list[dict]] = {stream: self.table_rows(stream) for stream in REST_STREAMS}
        truth["consent_users"] = self.consent_users()
        truth["consent_events"] = [
            event for user in truth["consent_users"] for event in self.consent_events(user["id"])
        ]
        for stream in STREAM_OF_TYPE.values():
            truth[stream] = []
        for export_id, kinds in EXPORT_TYPES.items():
            for day in self.export_days():
                if not self.complete(day) or day < start or export_id not in wanted:
                    continue
                for kind in kinds:
                    for _name, index in self.partition_files(export_id, day, kind):
                        truth[STREAM_OF_TYPE[kind]].extend(
                            {"export_id": export_id, "partition_date": day.isoformat(), **record}
                            for record in self.export_records(kind, day, index)
                        )
        return truth

    # -- the bucket (moto's S3 server, proxied under /s3) ------------------------------------------

    def bucket_objects(self) -> dict[str, bytes]:
        """Every object of the bucket: key -> bytes."""
        objects: dict[str, bytes] = {}
        for export_id, kinds in EXPORT_TYPES.items():
            for day in self.export_days():
                folder = f"{PREFIX}/export-id={export_id}/date={day.isoformat()}"
                for kind in kinds:
                    for name, index in self.partition_files(export_id, day, kind):
                        lines = b"".join(
                            json.dumps(record, separators=(",", ":")).encode() + b"\n"
                            for record in self.export_records(kind, day, index)
                        )
                        objects[f"{folder}/{kind}/{name}"] = gzip.compress(lines, mtime=0)
                if self.complete(day) and not self.variant("no-success-marker"):
                    objects[f"{folder}/_SUCCESS"] = b""
        objects[f"{PREFIX}/README.txt"] = b"not an export file: the tap must ignore it\n"
        return objects

    def s3_server_url(self) -> str:
        with self._lock:
            if self._s3 is None:
                import logging

                from moto.server import ThreadedMotoServer

                logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
                server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
                server.start()
                self._s3 = server
            host, port = self._s3.get_host_and_port()
        return f"http://{host}:{port}"

    def fill_bucket(self) -> None:
        """Make the bucket hold what the current day, size and switches say (rebuilt when they change)."""
        layout = (
            self.today(),
            self.seed,
            self.size,
            bool(self.sandbox.settings.get("didomi.late_file")),
            self.bulk_rows(),
            tuple(self.sandbox.settings.get("didomi.variants", ())),
        )
        if self._bucket_layout == layout:
            return
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.s3_server_url(),
            aws_access_key_id=S3_ACCESS_KEY_ID,
            aws_secret_access_key=S3_SECRET_ACCESS_KEY,
            region_name=S3_REGION,
        )
        existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
        if BUCKET in existing:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
                for obj in page.get("Contents", []):
                    client.delete_object(Bucket=BUCKET, Key=obj["Key"])
        else:
            client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
        for key, data in self.bucket_objects().items():
            client.put_object(Bucket=BUCKET, Key=key, Body=data)
        self._bucket_layout = layout

    def _proxy_s3(self, request: Request) -> Response:
        import requests

        self.fill_bucket()
        gone = self._gone(request)
        if gone is not None:
            return gone
        target = self.s3_server_url() + request.path[len("/s3") :]
        query = urlencode([(name, value) for name, values in request.query.items() for value in values])
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in {"host", "content-length", "connection", "accept-encoding"}
        }
        answer = requests.request(
            request.method,
            target + (f"?{query}" if query else ""),
            headers=headers,
            data=request.body or None,
            timeout=60,
        )
        kept = {
            name: value
            for name, value in answer.headers.items()
            if name.lower() in {"etag", "last-modified", "content-range", "accept-ranges"}
            or name.lower().startswith("x-amz-")
        }
        return Response(
            status=answer.status_code,
            body=answer.content,
            content_type=answer.headers.get("Content-Type", "application/xml"),
            headers=kept,
        )

    def _gone(self, request: Request) -> Response | None:
        """S3's NoSuchKey for a key of `didomi.gone_keys`: still listed, deleted before it is read."""
        key = unquote(request.path.removeprefix(f"/s3/{BUCKET}/"))
        if request.method != "GET" or key not in self.sandbox.settings.get("didomi.gone_keys", ()):
            return None
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
            f"<Message>The specified key does not exist.</Message><Key>{key}</Key></Error>"
        )
        return Response(status=404, body=body.encode(), content_type="application/xml")

    # -- HTTP ----------------------------------------------------------------------------------------

    def beside_api(self, request: Request) -> bool:
        """The bucket is S3's, not Didomi's API: outside its rate budget and its vendor-wide faults (sandbox.core)."""
        return request.path.startswith("/s3")

    @override
    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path.startswith("/s3"):
            return self._proxy_s3(request)
        response = self._answer(request, path)
        if not path.startswith("/consents/"):  # the docs: /consents/* is not rate-limited
            # Draft-7 headers on every rate-limited answer; a test's own budget (core) replaces them.
            response.headers.update(DOCUMENTED_POLICY)
        return response

    def _answer(self, request: Request, path: str) -> Response:
        under_v1 = path.startswith("/v1/")
        path = path.removeprefix("/v1")  # the Platform API's base on the real host
        if path == "/sessions" and request.method == "POST":
            return self._session(request)
        refused = self._refuse_token(request)
        if refused is not None:
            return refused
        if path == REGULATIONS_PATH and not under_v1:
            return self._regulations(request)
        if path in NUMERIC_PATHS and under_v1 and self.variant("numeric-ids-at-root"):
            return Response.json({"code": 404, "message": "Not Found"}, 404)
        if request.arg("organization_id") != ORGANIZATION:
            return Response.json({"code": 403, "message": "You do not have access to this organization"}, 403)
        if path in LIST_PATHS:
            return self._page(request, [self._drifted(row) for row in self.rest_rows(LIST_PATHS[path])])
        if path.startswith("/consents/"):
            if not self.sandbox.settings.get("didomi.consents_product", True):
                status = 404 if self.variant("consents-missing-404") else 403
                return Response.json({"code": status, "message": "The Consents API is not enabled"}, status)
            if path == "/consents/users":
                return self._page(request, self.consent_users())
            if path == "/consents/events":
                return self._page(request, self.consent_events(request.arg("user_id") or ""))
        return Response.json({"code": 404, "message": "Not Found"}, 404)

    def _regulations(self, request: Request) -> Response:
        """The Compliance API's answer: `{"data": [...]}`, every row at once; `$search[releaseStatus]` filters.
        Switch `didomi.regulations_page`: pages of that many rows in the feathers envelope (the other reading)."""
        wanted = request.arg("$search[releaseStatus]")
        if wanted is None and self.variant("regulations-filter-required"):
            return Response.json({"code": 400, "message": "$search[releaseStatus] is required"}, 400)
        rows = [self._drifted(row) for row in self.rest_rows("regulations")]
        rows = [row for row in rows if wanted in (None, row["releaseStatus"])]
        page = self.sandbox.settings.get("didomi.regulations_page")
        if page:
            limit = min(int(request.arg("$limit") or page), page)
            skip = int(request.arg("$skip") or 0)
            return Response.json({"total": len(rows), "limit": limit, "skip": skip, "data": rows[skip : skip + limit]})
        return Response.json({"data": rows})

    def _drifted(self, row: dict) -> dict:
        """Switch `didomi.drift`: "add" (a new field), "remove" (no `updated_at`), "retype" (epoch `created_at`)."""
        drift = self.sandbox.settings.get("didomi.drift")
        if drift == "add":
            return {**row, "review_status": "approved"}
        if drift == "remove":
            return {name: value for name, value in row.items() if name != "updated_at"}
        if drift == "retype" and "created_at" in row:
            stamp = dt.datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
            return {**row, "created_at": int(stamp.timestamp())}
        return row

    def _session(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        if body.get("type") != "api-key" or not body.get("key") or not body.get("secret"):
            return Response.json({"code": 401, "message": "Invalid credentials"}, 401)
        ttl = float(self.sandbox.settings.get("didomi.token_ttl", 3600))
        issued = time.time()
        if self.variant("opaque-token"):
            token = uuid.uuid4().hex
        else:
            token = _jwt({"sub": "api-key", "iat": int(issued), "exp": issued + ttl, "jti": uuid.uuid4().hex})
        with self._lock:
            self._tokens[token] = issued + ttl
        return Response.json({"access_token": token, "type": "api-key", "id": uuid.uuid4().hex})

    def _refuse_token(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization") or ""
        token = header.removeprefix("Bearer ").strip()
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or time.time() >= expiry:
            return Response.json({"code": 401, "message": "jwt expired" if expiry else "Not authenticated"}, 401)
        return None

    def _page(self, request: Request, rows: list[dict]) -> Response:
        if self.variant("bare-arrays"):
            return Response.json(rows)
        cap = int(self.sandbox.settings.get("didomi.max_limit", 100))
        limit = min(int(request.arg("$limit") or 10), cap)
        skip = int(request.arg("$skip") or 0)
        return Response.json({"total": len(rows), "limit": limit, "skip": skip, "data": rows[skip : skip + limit]})


def expected_table_rows(sandbox: t.Any, config: dict) -> dict[str, int]:
    """Rows per table (distinct primary keys: the simulator's are unique) after a first sync with `config`."""
    truth = sandbox.app("didomi").ground_truth(start_date=config.get("start_date"), export_ids=config.get("export_ids"))
    counts = {stream: len(rows) for stream, rows in truth.items() if rows}
    if not config.get("consents_api"):
        counts.pop("consent_users", None)
        counts.pop("consent_events", None)
    return counts


def rows_without_failing_export(sandbox: t.Any, config: dict) -> dict[str, int]:
    """Every table of a first sync, the exports of every export id but the failing one."""
    full = expected_table_rows(sandbox, config)
    others = expected_table_rows(sandbox, {**config, "export_ids": [BATCH_EXPORT]})
    return {table: others.get(table, 0) if table in STREAM_OF_TYPE.values() else count for table, count in full.items()}


# -- the export benchmark (scripts/bench/exports.py): one large partition day, built once ---------------------

BENCH_FILES = 8  # a large day arrives as several files
BENCH_API_PATH = "/api"  # where the benchmark's server answers the API's session (the bucket is at its root)


def benchmark_day() -> dt.date:
    """The benchmark's partition date: yesterday (complete, and marked so)."""
    return default_today() - dt.timedelta(days=1)


def benchmark_partition(megabytes: int) -> dict[str, bytes]:
    """One day of the batch export's events, about `megabytes` MB of JSON lines in `BENCH_FILES` gzip files, and
    its `_SUCCESS` marker: key -> bytes. Rows in the simulator's shape (`export_records`), fast to make."""
    day = benchmark_day()
    stamp_day = day - dt.timedelta(days=1)
    folder = f"{PREFIX}/export-id={BATCH_EXPORT}/date={day.isoformat()}"
    rng = random.Random(f"bench:{megabytes}")
    per_file = megabytes * 2**20 // BENCH_FILES
    objects: dict[str, bytes] = {}
    for index in range(BENCH_FILES):
        lines: list[bytes] = []
        written, row = 0, 0
        while written < per_file:
            user = f"u-{day:%Y%m%d}-{index}-{row % 5000}"
            line = json.dumps(
                {
                    "id": f"e-{day:%Y%m%d}-{index}-{row}",
                    "organization_id": ORGANIZATION,
                    "user": {"id": user, "organization_user_id": f"crm-{user}"},
                    "consents": {"purposes": [{"id": "advertising", "enabled": rng.random() < 0.5}]},
                    "status": "confirmed",
                    "regulation": rng.choice(("gdpr", "gdpr", "cpra")),
                    "source": {"type": "sdk-web", "domain": "www.example.com", "notice_id": "notice-000"},
                    "created_at": _stamp(stamp_day, rng.randrange(86400)),
                    "updated_at": _stamp(stamp_day, rng.randrange(86400)),
                },
                separators=(",", ":"),
            ).encode()
            lines.append(line + b"\n")
            written += len(line) + 1
            row += 1
        objects[f"{folder}/events/part-{index:05d}-bench.json.gz"] = gzip.compress(b"".join(lines), 6, mtime=0)
    objects[f"{folder}/_SUCCESS"] = b""
    return objects


def benchmark_settings(server_url: str) -> dict:
    """The tap's settings against the benchmark's server (the bucket at its root, the session under /api)."""
    return {
        "api_key": "bench-key",
        "api_secret": "bench-secret",
        "organization_id": ORGANIZATION,
        "api_url": f"{server_url}{BENCH_API_PATH}",
        "export_bucket_url": f"s3://{BUCKET}/{PREFIX}",
        "s3_endpoint_url": server_url,
        "aws_access_key_id": S3_ACCESS_KEY_ID,
        "aws_secret_access_key": S3_SECRET_ACCESS_KEY,
        "aws_region": S3_REGION,
        "export_ids": [BATCH_EXPORT],
        "start_date": benchmark_day().isoformat(),
        "lookback_days": 0,
    }


def benchmark_api_answers() -> dict[str, bytes]:
    """The one API answer a run needs: its session (a token valid for a day)."""
    token = _jwt({"sub": "api-key", "iat": int(time.time()), "exp": time.time() + 86400, "jti": "bench"})
    return {f"{BENCH_API_PATH}/sessions": json.dumps({"access_token": token, "type": "api-key"}).encode()}


EXPORT_BENCHMARK = ExportBenchmark(
    stream=STREAM_OF_TYPE["events"],
    bucket=BUCKET,
    build=benchmark_partition,
    settings=benchmark_settings,
    api_answers=benchmark_api_answers,
)

#: meltano.yml's `sandbox` environment settings of tap-didomi (api_url and secrets aside)
MELTANO_SETTINGS = {
    "organization_id": ORGANIZATION,
    "export_bucket_url": f"s3://{BUCKET}/{PREFIX}",
    "s3_endpoint_url": "${CONSENT_SANDBOX_URL}/didomi/s3",
    "aws_region": S3_REGION,
    "start_date": "${CONSENT_SANDBOX_START_DATE}",
    "lookback_days": 1,
    "consents_api": True,
}
QUICK_SETTINGS = {key: value for key, value in MELTANO_SETTINGS.items() if key not in ("s3_endpoint_url", "start_date")}

PROFILE = VendorProfile(
    vendor="didomi",
    label="Didomi",
    tap="tap-didomi",
    tap_class="tap_didomi.tap:TapDidomi",
    source="source-didomi",
    order=6,
    secrets=(
        "api_key",
        "api_secret",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "gcs_service_account_json",
    ),
    auth_check="api_key and api_secret",
    meltano_settings=MELTANO_SETTINGS,
    test_settings=lambda _scratch: dict(QUICK_SETTINGS),
    airbyte_settings=lambda: dict(QUICK_SETTINGS),
    url_settings=lambda vendor_url: {"s3_endpoint_url": f"{vendor_url}/s3"},
    expected_rows=expected_table_rows,
    records_path="/widgets/notices/deployments",
    state_bookmark=("export_users", "replication_key_value"),
    no_lookback={"lookback_days": 0},
    bad_configs=(
        ("missing setting", {"organization_id": None}, "organization_id"),
        ("malformed bucket URL", {"export_bucket_url": "didomi-exports/data"}, "export_bucket_url"),
    ),
    # boto3 percent-encodes the = of object keys in the request path
    partitions=Partitions(setting="export_ids", stream="export_users", request_path="export-id%3D"),
    failing_part=FailingPart(
        path=lambda _sandbox, _state: f"export-id%3D{ANALYTICS_EXPORT}",
        named=lambda _sandbox: f"export_id {ANALYTICS_EXPORT}",
        streams=tuple(STREAM_OF_TYPE.values()),
        saved_state=partition_state("cmp_hourly_metrics", lambda _sandbox: {"export_id": ANALYTICS_EXPORT}),
        healthy_rows=rows_without_failing_export,
    ),
    no_error_envelope='no error envelope documented: the fault is a 200 with {"error": ...} where a page belongs',
    probe=Probe(rows=8, breaking_variant="bare-arrays", sign_in_path="/sessions"),
    # a soak round reads the last 3 partition days, not the default 30: each day is a listing and several files
    # through the bucket, and a 2-minute soak must fit two rounds
    soak_settings=lambda: {"start_date": (default_today() - dt.timedelta(days=3)).isoformat()},
    # every stream's schema is in the package: discovery reads neither the API nor the bucket
    static_discovery=True,
    day_windows=DayWindows(
        tuple(STREAM_OF_TYPE.values()),
        "one bucket listing per export and window, then one GET per partition file (S3 on the simulator)",
        config={key: MELTANO_SETTINGS[key] for key in ("organization_id", "export_bucket_url", "aws_region")},
    ),
    # one Dagster partition per export id (the bucket's object keys carry it, = percent-encoded by boto3)
    fan_out="export_ids",
    fan_out_request=lambda export_id: f"export-id%3D{export_id}",
    # benchmark None: the exports come from a bucket, which scripts/benchmark.py's HTTP replay of one API answer
    # does not serve; the export reader has its own benchmark (scripts/bench/exports.py)
    export_benchmark=EXPORT_BENCHMARK,
)
