"""Lytics API simulator (vendor-api.md section 5; the entity/GDPR excerpt in vendor-docs).

Auth: header `Authorization: <token>` (raw, no `Bearer`); missing -> 401 with the Lytics error body.
Envelope: {"data": ..., "status": 200, "message": "success", "request_id": "..."}; the segment list
and deletion status answer `"status": "200"` (a string), as go-lytics warns the real API sometimes does.

GET /api/account                                  accounts of the token
GET /api/segment?table=user|content               audiences of a table
GET /api/schema/<table>                           {name, by_fields, columns: [{as, is_by, type, op, ...}]}
GET /api/segment/sizes?ids=a,b                    [{id, name, slug_name, size}] (ids or slugs)
GET /api/segment/<id|slug>/scan?limit=&start=     a page of profiles + `_next` ("" on the last page) + total
GET /api/entity/<table>/<field>/<value>           one profile with its `segments` (404 if unknown; variant
                                                  entity-200-not-found: 200 with the placeholder)
GET /api/entity/deletestatus/<request_id>         {request_id, state: {current}, completed} (404 if unknown)
DELETE ...                                        answered (and logged) so tests can prove no tap calls it

Switch "lytics.drift": "add" (segments gain `ttl_days`, scanned profiles gain `loyalty_tier`, a field
the schema does not list), "remove" (segments lose `description`, profiles lose `city`), "retype"
(segment `created_ms` and profile `score_frequency` become words).
Switch "lytics.left" = {audience slug: [user_id, ...]}: those profiles have left that audience (its
scans, sizes and the profiles' `segments` no longer have them).
Fault "envelope-error" answers HTTP 200 with an error envelope: switch "lytics.envelope_error_status" (default
"503"; a number stays a number) and "lytics.envelope_error_message" (e.g. "Timed out", "Not Found").

Variants (`VARIANTS`, switched with `Sandbox.set_variants("lytics", ...)`): the default is the documented
reading; each variant is the reading of newer public evidence (vendor-evidence.md). `ground_truth()` follows
them: it gives what a correct tap must yield (typed values, no credential fields, every member once).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import random
import threading
import typing as t
from urllib.parse import unquote

from typing_extensions import override

from sandbox.core import Request, Response, VendorApp
from sandbox.profiles import (
    Benchmark,
    BenchStream,
    ConcurrentPartitions,
    Credentials,
    FailingPart,
    Partitions,
    VendorProfile,
    partition_state,
)

DEFAULT_SCAN_LIMIT = 20  # the vendor's documented default page size
MAX_SCAN_LIMIT = 1000
EVIDENCE_SCAN_LIMIT = 100  # variant page-cap-100: at most 100 rows per page whatever `limit` asks
#: account fields holding API keys (variant account-credentials; lytics-js `LyticsAccount`)
CREDENTIAL_FIELDS = ("apikey", "dataapikey")
#: profile fields that identify a person (the schema's is_by columns)
IDENTITY_FIELDS = ("_uid", "_uids", "user_id", "email")
SPARSE_EVERY = 8  # variant sparse-rows: of every 8 profiles, one is anonymous and one carries no identity
SPARSE_ANONYMOUS, SPARSE_UNIDENTIFIED = 2, 5
PROFILES_PER_SIZE = 60
DELETION_STATES = ("initial", "primary", "archive", "secondary", "done")
DELETIONS_PER_STATE = 2
ENVELOPE_ERROR_MESSAGES = {  # error envelopes behind HTTP 200, by status
    "503": "query backend unavailable, try again later",
    "400": "invalid FilterQL: unexpected token",
}
CITIES = ["Stockholm", "Göteborg", "Malmö", "Berlin", "Paris", "Austin", "Oslo"]
SWEDISH = {"Stockholm", "Göteborg", "Malmö"}
CHANNELS = ["web", "email", "app", "sms"]
EPOCH = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

# (as, type, is_by, op, shortdesc): the user table's schema, as /api/schema/user lists it.
USER_COLUMNS = [
    ("_uid", "string", True, "latest", "Lytics unique id"),
    ("user_id", "string", True, "latest", "Customer user id"),
    ("email", "string", True, "latest", "Email address"),
    ("first_name", "string", False, "latest", "First name"),
    ("city", "string", False, "latest", "City"),
    ("score_frequency", "int", False, "latest", "Frequency score (0-100)"),
    ("lifetime_value", "number", False, "sum", "Lifetime value (EUR)"),
    ("is_subscriber", "bool", False, "latest", "Newsletter subscriber"),
    ("last_active_ts", "date", False, "max", "Last activity"),
    ("channels", "[]string", False, "set", "Channels seen"),
    ("visit_counts", "map[string]int", False, "map", "Visits per channel"),
    ("company", "string", False, "latest", "Company (never filled in this account)"),
]
UIDS_COLUMN = ("_uids", "[]string", True, "set", "Lytics unique ids")  # replaces `_uid` under variant uids-array
#: variant more-field-types: columns of the types vendor-evidence.md lists beyond the documented ones
MORE_TYPED_COLUMNS = [
    ("first_seen", "datetime", False, "oldest", "First seen"),
    ("last_location", "geolocation", False, "latest", "Last known location"),
    ("traits", "dynamic", False, "latest", "Free-form traits (any JSON value)"),
]
CITY_LOCATIONS = {
    "Stockholm": "59.3293,18.0686",
    "Göteborg": "57.7089,11.9746",
    "Malmö": "55.6050,13.0038",
    "Berlin": "52.5200,13.4050",
    "Paris": "48.8566,2.3522",
    "Austin": "30.2672,-97.7431",
    "Oslo": "59.9139,10.7522",
}
#: variant entity-200-not-found / entity-timeout*: the body Lytics answers instead of a profile (agent-skills)
PLACEHOLDER = {"segments": ["not_found", "all"]}
#: variant status-words: the envelope `status` per route as Lytics' v1 examples show it (None: no status at all)
STATUS_WORDS: dict[str, str | None] = {
    "account": "success",
    "segment": None,
    "sizes": None,
    "schema": None,
    "scan": "ok",
    "entity": "200",
    "deletestatus": "success",
}
CONTENT_COLUMNS = [
    ("url", "string", True, "latest", "Content URL"),
    ("title", "string", False, "latest", "Title"),
]


def _hex(*parts: t.Any, length: int = 32) -> str:
    return hashlib.sha1(":".join(str(p) for p in parts).encode()).hexdigest()[:length]


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class LyticsApp(VendorApp):
    name = "lytics"
    VARIANTS: t.ClassVar[dict[str, str]] = {
        "uids-array": "profiles and scan rows carry `_uids`, an array of strings, and no scalar `_uid`; the schema "
        "lists `_uids` ([]string) last in by_fields (go-lytics mock/json/get_entity.json, get_catalog_user_limit.json)",
        "string-scalars": 'numbers and booleans arrive as strings: "100", '
        '"12.5", "t"/"f" or "true"/"false", map values '
        "too, in scan rows and entity lookups (go-lytics mocks)",
        "page-cap-100": "a scan page holds at most 100 rows whatever `limit` asks (lytics/agent-skills)",
        "repeating-next": "a scan's `_next` stays the same from page to page: the server pages by its own state and, "
        "past the end, serves the last page again (lytics/agent-skills: the cursor can look the same)",
        "account-credentials": "account records carry `apikey` and `dataapikey` (lytics-js src/types.ts LyticsAccount)",
        "sparse-rows": "scan rows carry only populated fields: of every 8 profiles one is anonymous (no user_id, no "
        "email) and one carries no identity field at all (go-lytics get_segment_scan_*.json)",
        "entity-200-not-found": 'an unknown entity answers HTTP 200 with message "Not Found" and the placeholder '
        '{"segments": ["not_found", "all"]}, not 404 (lytics/agent-skills lytics-profiles/lookup.md)',
        "entity-timeout": 'each entity lookup answers HTTP 200 with message "Timed out" and the placeholder body on '
        "its first request, then the real answer (agent-skills: a lookup may time out)",
        "entity-timeout-lasting": 'every entity lookup answers HTTP 200 with message "Timed out" and the placeholder '
        "body, however often it is asked",
        "status-words": 'envelope statuses as in Lytics\' v1 examples: "success" (accounts, deletion status), no '
        'status at all (segment list, sizes, schema), "ok" (scan), "200" as text (entity)',
        "schema-fields": "/api/schema answers the older v1 shape: `fields` with `is_by` marks, no `by_fields`, no "
        "`columns` (v1 OpenAPI example)",
        "more-field-types": 'the schema has fields of type datetime, geolocation ("lat,lon") and dynamic (any JSON '
        "value: object, text, number or array), and profiles carry them (vendor-evidence.md, third round)",
    }

    def __init__(self, sandbox: t.Any) -> None:
        super().__init__(sandbox)
        self._scan_sessions: dict[str, int] = {}  # variant repeating-next: cursor -> offset (server-side state)
        self._session_lock = threading.Lock()
        self._session_counter = itertools.count()
        self._entity_asked: dict[str, int] = {}  # variant entity-timeout: path -> requests so far

    def reset(self) -> None:
        with self._session_lock:
            self._scan_sessions.clear()
            self._entity_asked.clear()

    # -- data ------------------------------------------------------------------------------------

    def _rng(self, *parts: t.Any) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, "lytics", *parts)))

    def _drift(self) -> str | None:
        return self.sandbox.settings.get("lytics.drift")

    @property
    def account_id(self) -> str:
        return _hex(self.seed, "account")

    def accounts(self) -> list[dict]:
        rows = []
        for n, (name, domain) in enumerate(
            [("Example Shop", "shop.example.com"), ("Example Shop EU", "eu.example.com")]
        ):
            created = EPOCH + dt.timedelta(days=30 * n)
            rows.append(
                {
                    "id": _hex(self.seed, "account", n) if n else self.account_id,
                    "aid": 4100 + n,
                    "name": name,
                    "domain": domain,
                    "email": f"admin@{domain}",
                    "fid": f"fid-{4100 + n}",
                    "timezone": "Europe/Stockholm",
                    "pubusers": n == 0,
                    "masteraid": 4100,
                    "created": _stamp(created),
                    "updated": _stamp(created + dt.timedelta(days=10)),
                }
            )
            if self.variant("account-credentials"):
                rows[-1].update({field: self.credential_value(field, n) for field in CREDENTIAL_FIELDS})
        return rows

    def credential_value(self, field: str, n: int) -> str:
        """The API key an account record carries under variant account-credentials (tests look for it)."""
        return f"SENTINEL-lytics-{field}-{_hex(self.seed, field, n, length=12)}"

    def credential_values(self) -> list[str]:
        return [self.credential_value(field, n) for field in CREDENTIAL_FIELDS for n in range(2)]

    def profiles(self) -> list[dict]:
        """Every user profile, ordered by `_uid` (the scan order); built once per (seed, size, segments, uids)."""
        return [self._without_left(profile) for profile in self._cached_profiles()]

    def _left(self) -> dict[str, set[str]]:
        """audience slug -> user_ids that left it ("lytics.left")."""
        return {slug: set(users) for slug, users in (self.sandbox.settings.get("lytics.left") or {}).items()}

    def _without_left(self, profile: dict) -> dict:
        """A copy of the profile whose `segments` no longer lists the audiences it left."""
        left = self._left()
        row = dict(profile)
        if left:
            row["segments"] = [slug for slug in row["segments"] if profile["user_id"] not in left.get(slug, ())]
        return row

    def _cached_profiles(self) -> list[dict]:
        """The shared, read-only list behind `profiles()` (large sizes: no copy per request)."""
        key = (
            self.seed,
            self.size,
            self.sandbox.settings.get("lytics.extra_segments"),
            self.variant("uids-array"),
            self.variant("more-field-types"),
        )
        cached = getattr(self, "_profiles_cache", None)
        if cached is None or cached[0] != key:
            self._profiles_cache = (key, self._build_profiles())
        return self._profiles_cache[1]

    def _build_profiles(self) -> list[dict]:
        rows = []
        for n in range(PROFILES_PER_SIZE * self.size):
            rng = self._rng("profile", n)
            channels = sorted(rng.sample(CHANNELS, rng.randint(1, 3)))
            profile: dict[str, t.Any] = {
                "_uid": _hex(self.seed, "uid", n, length=20),
                "user_id": f"user{n:05d}",
                "email": f"user{n:05d}@example.com",
                "first_name": rng.choice(["Alva", "Noah", "Elsa", "Liam", "Maja", "Hugo"]),
                "city": rng.choice(CITIES),
                "score_frequency": rng.randint(0, 100),
                "lifetime_value": round(rng.uniform(0, 900), 2),
                "is_subscriber": rng.random() < 0.5,
                "last_active_ts": _stamp(EPOCH + dt.timedelta(minutes=rng.randint(0, 300_000))),
                "channels": channels,
                "visit_counts": {channel: rng.randint(1, 40) for channel in channels},
            }
            if self.variant("more-field-types"):
                profile["first_seen"] = _stamp(EPOCH - dt.timedelta(minutes=rng.randint(0, 300_000)))
                profile["last_location"] = CITY_LOCATIONS[profile["city"]]
                profile["traits"] = _dynamic_value(n)
            rows.append(profile)
        rows.sort(key=lambda p: p["_uid"])
        for profile in rows:
            profile["segments"] = [s["slug_name"] for s in self._segment_defs("user") if s["_rule"](profile)]
        if self.variant("uids-array"):
            rows = [_with_uids_array(profile, self._rng("uids", profile["_uid"])) for profile in rows]
        return rows

    def _segment_defs(self, table: str) -> list[dict]:
        if table == "user":
            specs = [
                ("all", "All users", "segment", lambda _: True),
                ("subscribers", "Newsletter subscribers", "segment", lambda p: p["is_subscriber"]),
                ("high_value", "High value", "segment", lambda p: p["lifetime_value"] >= 600),
                ("sweden", "Living in Sweden", "segment", lambda p: p["city"] in SWEDISH),
                ("dormant", "Dormant (nobody yet)", "segment", lambda _: False),
                ("frequent", "Frequent visitors", "aspect", lambda p: p["score_frequency"] >= 80),
            ]
            # Benchmarks: extra audiences of every user ("lytics.extra_segments" = how many).
            extra = int(self.sandbox.settings.get("lytics.extra_segments") or 0)
            specs += [(f"bench_{n:02d}", f"Benchmark audience {n}", "segment", lambda _: True) for n in range(extra)]
        elif table == "content":
            specs = [("all_content", "All content", "segment", lambda _: True)]
        else:
            return []
        return [
            {"_rule": rule, "slug_name": slug, "name": name, "kind": kind, "table": table, "n": n}
            for n, (slug, name, kind, rule) in enumerate(specs)
        ]

    def segments(self, table: str = "user") -> list[dict]:
        drift = self._drift()
        rows = []
        for spec in self._segment_defs(table):
            n = spec["n"]
            created = EPOCH + dt.timedelta(days=n, hours=n)
            updated = created + dt.timedelta(days=40 + n)
            row: dict[str, t.Any] = {
                "id": _hex(self.seed, "segment", table, spec["slug_name"]),
                "account_id": self.account_id,
                "aid": 4100,
                "name": spec["name"],
                "slug_name": spec["slug_name"],
                "is_public": spec["kind"] == "segment",
                "public_name": spec["slug_name"],
                "table": table,
                "kind": spec["kind"],
                "author_id": _hex(self.seed, "author", length=16),
                "description": f"{spec['name']} ({table})",
                "segment_ql": f"FILTER * FROM {table} ALIAS {spec['slug_name']}",
                "ast": {"op": "*", "args": []},
                "tags": ["sandbox", spec["kind"]],
                "category": "",
                "invalid": False,
                "invalid_reason": "",
                "created": _stamp(created),
                "updated": _stamp(updated),
                "created_ms": int(created.timestamp() * 1000),
                "modified_ms": int(updated.timestamp() * 1000),
                "short_id": f"s{n:03d}",
            }
            if drift == "add":
                row["ttl_days"] = 30
            elif drift == "remove":
                del row["description"]
            elif drift == "retype":
                row["created_ms"] = "yesterday"
            rows.append(row)
        return rows

    def find_segment(self, reference: str) -> dict | None:
        for table in ("user", "content"):
            for spec, row in zip(self._segment_defs(table), self.segments(table), strict=True):
                if reference in (row["id"], row["slug_name"]):
                    return {**row, "_rule": spec["_rule"]}
        return None

    def members(self, reference: str) -> list[dict]:
        """The profiles a scan of the segment returns, in scan order (drift applied)."""
        segment = self.find_segment(reference)
        if segment is None or segment["table"] != "user":
            return []
        drift = self._drift()
        sparse = self.variant("sparse-rows")
        profiles = self._cached_profiles()
        left = self._left()
        gone = left.get(segment["slug_name"], set())
        if not drift and not sparse and not left:  # served as is: computed once per audience (pages of 100 ask often)
            cached: tuple[list[dict], dict[t.Any, list[dict]]] | None = getattr(self, "_members_cache", None)
            if cached is None or cached[0] is not profiles:
                cached = (profiles, {})
                self._members_cache = cached
            if segment["id"] not in cached[1]:
                cached[1][segment["id"]] = [profile for profile in profiles if segment["_rule"](profile)]
            return cached[1][segment["id"]]
        rows = []
        for profile in profiles:
            if not segment["_rule"](profile) or profile["user_id"] in gone:
                continue
            if left:
                profile = self._without_left(profile)
            row = _sparse(profile) if sparse else dict(profile)
            if drift == "add":
                row["loyalty_tier"] = "gold" if row["lifetime_value"] >= 600 else "silver"
            elif drift == "remove":
                del row["city"]
            elif drift == "retype":
                row["score_frequency"] = "high"
            rows.append(row)
        return rows

    def schema(self, table: str) -> dict | None:
        """The table's schema as /api/schema answers it (variant schema-fields: the older `fields` shape)."""
        columns = {"user": USER_COLUMNS, "content": CONTENT_COLUMNS}.get(table)
        if columns is None:
            return None
        if table == "user" and self.variant("more-field-types"):
            columns = columns + MORE_TYPED_COLUMNS
        by_fields = [name for name, _, is_by, _, _ in columns if is_by]
        if table == "user" and self.variant("uids-array"):
            columns = [UIDS_COLUMN if column[0] == "_uid" else column for column in columns]
            by_fields = [name for name in by_fields if name != "_uid"] + ["_uids"]  # go-lytics: `_uids` last
        described = [
            {
                "as": name,
                "is_by": is_by,
                "type": kind,
                "op": op,
                "shortdesc": short,
                "longdesc": f"{short}, from the web and email streams.",
                "froms": [name.lstrip("_")],
                "identities": [name] if is_by else [],
            }
            for name, kind, is_by, op, short in columns
        ]
        if self.variant("schema-fields"):
            return {"name": table, "fields": described}
        return {"name": table, "by_fields": by_fields, "columns": described}

    def columns(self, table: str) -> list[dict]:
        """The table's column descriptions, whichever shape /api/schema answers in."""
        schema = self.schema(table) or {}
        return schema.get("columns") or schema.get("fields") or []

    def identity_fields(self, table: str) -> list[str]:
        """by_fields (when the shape has them), then the is_by columns they leave out."""
        fields = list((self.schema(table) or {}).get("by_fields") or [])
        return fields + [
            column["as"] for column in self.columns(table) if column["is_by"] and column["as"] not in fields
        ]

    def lookup_outcome(self, table: str, field: str, value: str) -> bool | None:
        """A lookup's `found` for a correct tap: True, False (no such profile), None (it times out, always)."""
        if self.variant("entity-timeout-lasting"):
            return None
        return self.entity(table, field, value) is not None

    def entity(self, table: str, field: str, value: str) -> dict | None:
        if table != "user":
            return None
        for profile in self.profiles():
            if str(profile.get(field)) == value:
                return profile
        return None

    def deletion_requests(self) -> list[dict]:
        rows: list[dict] = []
        for state in DELETION_STATES:
            for n in range(DELETIONS_PER_STATE):
                submitted = int((EPOCH + dt.timedelta(days=len(rows))).timestamp())
                rows.append(
                    {
                        "request_id": f"{_hex(self.seed, 'deletion', state, n, length=20)}-{submitted}",
                        "state": {"current": state},
                        "completed": state == "done",
                    }
                )
        return rows

    # -- ground truth ------------------------------------------------------------------------------

    @override
    def ground_truth(
        self,
        table: str = "user",
        segments: t.Sequence[str] = (),
        profile_lookups: t.Sequence[dict] = (),
        deletion_request_ids: t.Sequence[str] = (),
        **_: t.Any,
    ) -> dict[str, list[dict]]:
        """Vendor rows per stream for a sync with these settings, as a correct tap must read them.

        Values are typed (variant string-scalars only changes the wire); accounts carry no credential
        field (variant account-credentials: a tap must never emit them); each member is listed once per
        audience (variant repeating-next re-serves rows; a tap must not emit them twice).
        audience_members rows are {"segment_id", "profile"} (under sparse-rows, some profiles carry no
        identity field: a tap can key those on nothing and must count them); profiles rows {"lookup_field",
        "lookup_value", "found", "data"} (found False when the entity is unknown, None when every lookup of it
        times out; data None unless found); deletion_requests rows are the
        vendor's `data` objects, None for an unknown id.
        """
        table_segments = self.segments(table)
        chosen = [self.find_segment(ref) for ref in segments] if segments else table_segments
        by_id = {row["request_id"]: row for row in self.deletion_requests()}
        return {
            "accounts": [{k: v for k, v in row.items() if k not in CREDENTIAL_FIELDS} for row in self.accounts()],
            "segments": table_segments,
            "schema_fields": self.columns(table),
            "segment_sizes": [
                {"id": s["id"], "name": s["name"], "slug_name": s["slug_name"], "size": len(self.members(s["id"]))}
                for s in chosen
                if s is not None
            ],
            "audience_members": [
                {"segment_id": s["id"], "profile": profile}
                for s in chosen
                if s is not None
                for profile in self.members(s["id"])
            ]
            if segments
            else [],
            "profiles": [
                {
                    "lookup_field": lookup["field"],
                    "lookup_value": lookup["value"],
                    "found": self.lookup_outcome(table, lookup["field"], lookup["value"]),
                    "data": self.entity(table, lookup["field"], lookup["value"])
                    if self.lookup_outcome(table, lookup["field"], lookup["value"])
                    else None,
                }
                for lookup in profile_lookups
            ],
            "deletion_requests": [{"request_id": rid, "data": by_id.get(rid)} for rid in deletion_request_ids],
        }

    # -- the API -----------------------------------------------------------------------------------

    @override
    def handle(self, request: Request) -> Response:
        token = (request.headers.get("Authorization") or "").strip()
        if not token or token.lower().startswith("bearer "):
            return self._error(401, "Not authorized")
        parts = [unquote(part) for part in request.path.split("/") if part]
        if request.method == "DELETE" and parts[:2] == ["api", "entity"]:
            deleted = {"request_id": f"{_hex('del', request.path, length=20)}-1700000000", "completed": False}
            return self._ok(deleted, route="deletestatus")
        if request.method != "GET" or parts[:1] != ["api"]:
            return self._error(404, "Not Found")
        route = parts[1:]
        if route == ["account"]:
            return self._ok(self.accounts(), route="account")
        if route == ["segment"]:
            return self._ok(self.segments(request.arg("table", "user") or "user"), status="200", route="segment")
        if route == ["segment", "sizes"]:
            return self._sizes(request)
        if len(route) == 3 and route[0] == "segment" and route[2] == "scan":
            return self._scan(route[1], request)
        if len(route) == 2 and route[0] == "schema":
            schema = self.schema(route[1])
            return self._ok(schema, route="schema") if schema else self._error(404, f"Not Found: no table {route[1]!r}")
        if len(route) == 3 and route[:2] == ["entity", "deletestatus"]:
            found = {row["request_id"]: row for row in self.deletion_requests()}.get(route[2])
            if found is None:
                return self._error(404, "Not Found: no deletion request with that id")
            return self._ok(found, status="200", message="delete request received", route="deletestatus")
        if len(route) == 4 and route[0] == "entity":
            return self._entity(request.path, *route[1:])
        return self._error(404, "Not Found")

    def _sizes(self, request: Request) -> Response:
        ids = [ref for ref in (request.arg("ids") or "").split(",") if ref]
        rows = []
        for ref in ids:
            segment = self.find_segment(ref)
            if segment is not None:
                size = len(self.members(segment["id"]))
                rows.append(
                    {"id": segment["id"], "name": segment["name"], "slug_name": segment["slug_name"], "size": size}
                )
        return self._ok(rows, route="sizes")

    def _scan(self, reference: str, request: Request) -> Response:
        segment = self.find_segment(reference)
        if segment is None:
            return self._error(404, f"Not Found: segment {reference!r}")
        try:
            limit = int(request.arg("limit") or DEFAULT_SCAN_LIMIT)
        except ValueError:
            return self._error(400, "limit must be an integer")
        limit = min(limit, EVIDENCE_SCAN_LIMIT if self.variant("page-cap-100") else MAX_SCAN_LIMIT)
        if self.variant("repeating-next"):
            return self._scan_by_session(segment, request, limit)
        offset = 0
        start = request.arg("start")
        if start:
            decoded = _decode_cursor(start)
            if decoded is None or decoded[0] != segment["id"]:
                return self._error(400, "invalid start token")
            offset = decoded[1]
        members = self.members(segment["id"])
        page = members[offset : offset + limit]
        following = offset + len(page)
        next_token = _encode_cursor(segment["id"], following) if following < len(members) else ""
        return self._scan_page(request, page, next_token, len(members), offset)

    def _scan_by_session(self, segment: dict, request: Request, limit: int) -> Response:
        """Variant repeating-next: one opaque cursor per scan, the offset kept on the server; past the
        end the last page is served again, with the same cursor."""
        members = self.members(segment["id"])
        start = request.arg("start")
        with self._session_lock:
            if start:
                if start not in self._scan_sessions:
                    return self._error(400, "invalid start token")
                token = start
            else:
                token = _hex("scan", segment["id"], next(self._session_counter), length=24)
                self._scan_sessions[token] = 0
            offset = self._scan_sessions[token]
            if offset >= len(members):
                offset = max(0, len(members) - limit)  # already served: the last page again
            page = members[offset : offset + limit]
            self._scan_sessions[token] = max(self._scan_sessions[token], offset + len(page))
        return self._scan_page(request, page, token if members else "", len(members), offset)

    def _scan_page(self, request: Request, page: list[dict], next_token: str, total: int, offset: int) -> Response:
        return Response.json(
            self._with_status(
                {
                    "data": [self._wire(row) for row in page] if self.variant("string-scalars") else page,
                    "status": 200,
                    "message": "success",
                    "request_id": _hex("req", request.path, offset, length=16),
                    "_next": next_token,
                    "total": total,
                },
                "scan",
            )
        )

    def _wire(self, profile: dict) -> dict:
        """Variant string-scalars: numbers and booleans as text, the way go-lytics' mocks show them."""
        score = profile.get("score_frequency")
        words = ("true", "false") if isinstance(score, int) and score % 2 else ("t", "f")
        # a dynamic field (variant more-field-types) has no schema type to send as text: it goes as it is
        return {field: value if field == "traits" else _as_text(value, words) for field, value in profile.items()}

    def _entity(self, path: str, table: str, field: str, value: str) -> Response:
        schema = self.schema(table)
        if schema is None:
            return self._error(404, f"Not Found: no table {table!r}")
        with self._session_lock:
            asked = self._entity_asked[path] = self._entity_asked.get(path, 0) + 1
        if self.variant("entity-timeout-lasting") or (self.variant("entity-timeout") and asked == 1):
            return self._placeholder(table, field, value, "Timed out")
        profile = self.entity(table, field, value)
        if profile is None:
            if self.variant("entity-200-not-found"):
                return self._placeholder(table, field, value, "Not Found")
            return self._error(404, "Not Found: entity not found")
        body = {
            "data": self._wire(profile) if self.variant("string-scalars") else profile,
            "status": 200,
            "message": "success",
            "request_id": _hex("req", table, field, value, length=16),
            "meta": {"by_fields": self.identity_fields(table), "format": "json", "name": table},
        }
        return Response.json(self._with_status(body, "entity"))

    def _placeholder(self, table: str, field: str, value: str, message: str) -> Response:
        """What Lytics answers, HTTP 200, for an entity it does not know or could not look up in time."""
        body = {
            "data": {"segments": list(PLACEHOLDER["segments"])},
            "status": 200,
            "message": message,
            "request_id": _hex("req", table, field, value, message, length=16),
        }
        return Response.json(self._with_status(body, "entity"))

    def _with_status(self, body: dict, route: str) -> dict:
        """Variant status-words: the envelope's `status` as the v1 examples show it for this route."""
        if not self.variant("status-words"):
            return body
        word = STATUS_WORDS[route]
        if word is None:
            return {key: value for key, value in body.items() if key != "status"}
        return {**body, "status": word}

    def _ok(self, data: t.Any, *, status: int | str = 200, message: str = "success", route: str) -> Response:
        body = {
            "data": data,
            "status": status,
            "message": message,
            "request_id": _hex("req", message, status, length=16),
        }
        return Response.json(self._with_status(body, route))

    def _error(self, status: int, message: str) -> Response:
        return Response.json(
            {"data": None, "status": status, "message": message, "request_id": _hex("err", message, length=16)},
            status=status,
        )

    @override
    def envelope_error(self, request: Request) -> Response:
        # The switch picks a lasting error (e.g. "400", or 404 as a number) instead of the default transient one.
        # "lytics.envelope_error_message" replaces the message (e.g. "Timed out" with status 200).
        status = self.sandbox.settings.get("lytics.envelope_error_status", "503")
        message = self.sandbox.settings.get("lytics.envelope_error_message") or ENVELOPE_ERROR_MESSAGES.get(
            str(status), "error"
        )
        return Response.json({"data": None, "status": status, "message": message, "request_id": "err-envelope"})


def _with_uids_array(profile: dict, rng: random.Random) -> dict:
    """Variant uids-array: `_uid` becomes one element of `_uids` (with 0-2 stitched cookie ids), in no order."""
    row = {("_uids" if field == "_uid" else field): value for field, value in profile.items()}
    uids = [profile["_uid"], *(_hex("cookie", profile["_uid"], k, length=20) for k in range(rng.randint(0, 2)))]
    rng.shuffle(uids)
    row["_uids"] = uids
    return row


def _dynamic_value(n: int) -> t.Any:
    """Variant more-field-types: a `dynamic` field's value, of another JSON type from profile to profile."""
    return [{"plan": "pro", "seats": n % 7}, "vip", n % 11, ["newsletter", "sms"]][n % 4]


def _sparse(profile: dict) -> dict:
    """Variant sparse-rows: the scan row of an anonymous profile has no user_id/email; of an unidentified
    one, no identity field at all. Which profiles: by the number in user_id (stable across scans)."""
    kind = int(profile["user_id"][4:]) % SPARSE_EVERY
    if kind == SPARSE_ANONYMOUS:
        return {field: value for field, value in profile.items() if field not in ("user_id", "email")}
    if kind == SPARSE_UNIDENTIFIED:
        return {field: value for field, value in profile.items() if field not in IDENTITY_FIELDS}
    return dict(profile)


def _as_text(value: t.Any, words: tuple[str, str]) -> t.Any:
    if isinstance(value, bool):
        return words[0] if value else words[1]
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return {key: _as_text(item, words) for key, item in value.items()}
    return value


def _encode_cursor(segment_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{segment_id}:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[str, int] | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        segment_id, offset = text.rsplit(":", 1)
        return segment_id, int(offset)
    except (ValueError, UnicodeDecodeError):
        return None


# -- what the tests know about this vendor (sandbox/sandbox/profiles.py) --------------------------------

#: settings (minus api_url and api_key) of the Meltano `sandbox` environment: every stream gets rows.
MELTANO_SETTINGS: dict[str, t.Any] = {
    "table": "user",
    "segments": ["all", "sweden", "dormant"],
    "scan_page_size": 25,
    "profile_key": "_uid",
    "profile_lookups": [
        {"field": "email", "value": "user00003@example.com"},
        {"field": "user_id", "value": "user00010"},
        {"field": "user_id", "value": "no-such-user"},
    ],
    # one request in each state (initial, primary, archive, secondary, done) at the sandbox's seed 42, and an
    # unknown one
    "deletion_request_ids": [
        "06cb18ae08260453f7af-1740787200",
        "ed2b183888fccde4998f-1740960000",
        "6419d28ed92ead8e3b6a-1741132800",
        "4ee43ce9856fc31982a8-1741305600",
        "0b97ccaccbc4b374be1d-1741478400",
        "unknown-request-1",
    ],
}


def sync_ground_truth(sandbox: t.Any, config: dict) -> dict[str, list[dict]]:
    """The simulator's ground truth for a sync with `config`."""
    return sandbox.app("lytics").ground_truth(
        table=config.get("table", "user"),
        segments=config.get("segments") or (),
        profile_lookups=config.get("profile_lookups") or (),
        deletion_request_ids=config.get("deletion_request_ids") or (),
    )


def identity_fields(sandbox: t.Any, table: str = "user") -> list[str]:
    """The table's identity fields as the simulator's schema lists them: by_fields, then is_by columns."""
    return sandbox.app("lytics").identity_fields(table)


def _identity_text(value: t.Any) -> str | None:
    if isinstance(value, list):  # an array identity (`_uids`): its smallest element
        texts = [text for text in map(_identity_text, value) if text is not None]
        return min(texts) if texts else None
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value) if isinstance(value, (str, int, float)) else None


def member_key(sandbox: t.Any, config: dict, profile: dict) -> str | None:
    """The profile_id the README promises: profile_key's value, else `<field>:<value>` of the first
    identity field the profile has; None: the profile cannot be keyed (counted, not emitted)."""
    if config.get("profile_key"):
        return _identity_text(profile.get(config["profile_key"]))
    for field in identity_fields(sandbox, config.get("table", "user")):
        text = _identity_text(profile.get(field))
        if text is not None:
            return f"{field}:{text}"
    return None


def expected_table_rows(sandbox: t.Any, config: dict) -> dict[str, int]:
    truth = sync_ground_truth(sandbox, config)
    keys = [(row["segment_id"], member_key(sandbox, config, row["profile"])) for row in truth["audience_members"]]
    return {
        "accounts": len({row["id"] for row in truth["accounts"]}),
        "segments": len({row["id"] for row in truth["segments"]}),
        "schema_fields": len({row["as"] for row in truth["schema_fields"]}),
        "segment_sizes": len({row["id"] for row in truth["segment_sizes"]}),  # one snapshot (measured_at) per run
        "audience_members": len({(segment, key) for segment, key in keys if key is not None}),
        "profiles": len({(row["lookup_field"], row["lookup_value"]) for row in truth["profiles"]}),
        "deletion_requests": len({row["request_id"] for row in truth["deletion_requests"]}),
    }


FAILING_AUDIENCE = "sweden"  # the reliability matrix's "one partition always fails"


def failing_segment_id(sandbox: t.Any) -> str:
    return next(s["id"] for s in sandbox.app("lytics").segments() if s["slug_name"] == FAILING_AUDIENCE)


def rows_without_failing_audience(sandbox: t.Any, config: dict) -> dict[str, int]:
    """Every table as in a full sync, but audience_members without the failing audience's scan."""
    others = [segment for segment in config["segments"] if segment != FAILING_AUDIENCE]
    members = expected_table_rows(sandbox, {**config, "segments": others})["audience_members"]
    return {**expected_table_rows(sandbox, config), "audience_members": members}


BENCH_AUDIENCES = 32  # audiences in the window benchmark's partition case

PROFILE = VendorProfile(
    vendor="lytics",
    label="Lytics",
    tap="tap-lytics",
    tap_class="tap_lytics.tap:TapLytics",
    source="source-lytics",
    order=5,
    secrets=("api_key",),
    auth_check="api_key",
    meltano_settings=MELTANO_SETTINGS,
    test_settings=lambda _scratch: dict(MELTANO_SETTINGS),
    expected_rows=expected_table_rows,
    soak_sizes={"small": 2, "full": 200},
    per_run_snapshots=("segment_sizes",),
    records_path="/scan?limit=25&start=",
    state_bookmark=("audience_members", "saved_at"),
    bad_configs=(("missing setting", {"api_key": None}, "api_key"),),
    partitions=Partitions(
        setting="segments",
        stream="audience_members",
        request_path="/scan",
    ),
    failing_part=FailingPart(
        path=lambda sandbox, _state: f"/segment/{failing_segment_id(sandbox)}/scan",
        named=lambda sandbox: f"segment_id {failing_segment_id(sandbox)}",
        streams=("audience_members",),
        saved_state=partition_state("audience_members", lambda sandbox: {"segment_id": failing_segment_id(sandbox)}),
        healthy_rows=rows_without_failing_audience,
    ),
    credentials=Credentials(
        variant="account-credentials",
        # the account keys: tap-lytics drops them itself before the kit's rule sees them (its own warning)
        dropped=frozenset(),
        values=lambda sandbox: sandbox.app("lytics").credential_values(),
        also_named="accounts: dropped credential field(s) apikey, dataapikey from the account records",
    ),
    own_scenarios=frozenset({"state: tap's own fields"}),
    concurrent_partitions=ConcurrentPartitions(
        "audience_members",
        {"segments": [f"bench_{n:02d}" for n in range(BENCH_AUDIENCES)], "scan_page_size": 20},
        f"partitions, not days: {BENCH_AUDIENCES} audiences of 120 members, each scanned in 6 pages one after the "
        "other; the audiences are fetched ahead, max_concurrency at a time, and emitted in the configured order",
        {"size": 2, "lytics.extra_segments": BENCH_AUDIENCES},
    ),
    benchmark=Benchmark(
        largest=BenchStream(
            "audience_members",
            "audience_members",
            r"/scan",
            settings=lambda: {"segments": ["all"], "scan_page_size": 100},
        ),
        no_single_answer="a scan page holds at most 1,000 profiles (the API's limit): no single answer reaches 5 MB",
        many_pages_sandbox={"size": 1500},
        many_pages_settings=dict,
    ),
    #: streams whose schema the tap builds at run time: the fixed columns of their staging models
    staging_columns={
        "audience_members": {"segment_id": "string", "profile_id": "string", "segments": "json"},
        "profiles": {"lookup_field": "string", "lookup_value": "string", "found": "boolean", "segments": "json"},
    },
    #: dbt tests of the staging models beyond the key's (stream -> column -> tests): documented states, links
    staging_tests={
        "deletion_requests": {
            "state": [
                {"accepted_values": {"arguments": {"values": ["initial", "primary", "archive", "secondary", "done"]}}}
            ]
        },
        "audience_members": {
            "segment_id": [{"relationships": {"arguments": {"to": "ref('stg_lytics__segments')", "field": "id"}}}]
        },
        "segment_sizes": {
            "segment_id": [
                {
                    "relationships": {
                        "arguments": {"to": "ref('stg_lytics__segments')", "field": "id"},
                        "config": {"severity": "warn"},
                    }
                }
            ]
        },
    },
    fan_out_request=lambda segment: f"/{segment}",  # a segment's name is a word of other paths too
)
