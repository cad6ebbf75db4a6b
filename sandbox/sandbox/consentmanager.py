"""consentmanager.net Data API simulator (vendor-api.md section 2).

GET /api/data.php?key=..&type=N&from=YYYY-MM-DD&to=YYYY-MM-DD&output=json[&all=1]
-> {"status": "created", "message": "Data report created", "data": [...]}

Faithful quirks: numbers arrive as strings ("cmpID": "3"), some lists carry real ints, dates as
"YYYY-MM-DD hh:mm:ss", types 2 and 4 are retired, the consent log (type 19) is archived after
seven days and no longer served. Data is generated deterministically from (seed, size, day).

Switches (`Sandbox.settings`): "consentmanager.drift" = "add" (a new column on the report and the
consent log), "remove" (cmp_report loses consentReject), "retype" (pageView becomes a word);
"consentmanager.deleted" = {stream: [id, ...]}, e.g. {"cmps": ["3"], "designs": ["4"]}: reference rows
deleted at the vendor (no longer listed; the reports keep their history).

Variants (`VARIANTS`, `Sandbox.set_variants("consentmanager", ...)`): the other readings of what the docs
leave open (vendor-evidence.md). The default is the documented JSON: `data` is always an array, custom
purpose ids are numeric text like the type 10 sample ("1"), custom vendor ids like the type 9 sample ("c24").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import random
import typing as t

from typing_extensions import override

from sandbox.core import VENDOR_CREDENTIAL, Request, Response, VendorApp
from sandbox.jsonbody import envelope_chunks
from sandbox.profiles import Benchmark, BenchStream, Credentials, DayWindows, FailingPart, VendorProfile, days_ago

HISTORY_DAYS = 45  # reports exist this many days back from "today"
CONSENT_LOG_DAYS = 7  # days served by type 19, today included
COUNTRIES = ["DE", "SE", "FR", "NL", "US", "GB", "PL", "ES"]
LANGS = ["de", "sv", "fr", "nl", "en", "pl", "es"]
OS_NAMES = ["Windows", "macOS", "Linux", "Android", "iOS", "ChromeOS"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung Internet", "Brave"]
DEVICES = ["Desktop", "Mobile", "Tablet", "TV"]
CONSENT_TYPES = [
    "Button click: Accept all",
    "Button click: Reject all",
    "Custom choices",
    "Implicit (scroll)",
    "Revoked",
]

DATE_RANGED = {1, 3, 16, 18, 19}
REFERENCE_TYPES = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17}
RETIRED = {2, 4}
STREAM_BY_TYPE = {
    1: "cmp_report",
    3: "crawler_report",
    5: "cmps",
    6: "designs",
    7: "cookie_domains",
    8: "text_versions",
    9: "custom_vendors",
    10: "custom_purposes",
    11: "operating_systems",
    12: "browsers",
    13: "devices",
    14: "consent_types",
    15: "crawls",
    16: "delivery_domains",
    17: "subaccounts",
    18: "changelog",
    19: "consent_log",
}


def _stamp(day: dt.date, seconds: int) -> str:
    return (dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


class ConsentmanagerApp(VendorApp):
    name = "consentmanager"
    VARIANTS: t.ClassVar[dict[str, str]] = {
        "string-data-empty": 'a report with no rows answers `"data": ""` (the '
        "envelope documents data as a string) instead of `[]`",
        "string-data-csv": "the CMP report (type 1) answers windows that "
        "reach yesterday or today with CSV text in `data` "
        "(the docs: 'data payload as csv or json')",
        "custom-ids-text": 'custom purpose ids are text like "c51" (the '
        'vendor\'s SDKs address "c53"), all=1 adds system '
        'vendors ("s2789"), and changelog entries about vendors and purposes carry those ids',
        "custom-ids-numeric": "custom purpose ids arrive as JSON numbers (1), like the OS list's ids",
        "duplicate-keys": 'the CMP report adds a column ("region") that splits '
        "some rows in two: two rows of one day share "
        "the primary key (the vendor warns it adds columns)",
        "credentials": "report rows carry credential-named fields (an API key, a nested access token)",
    }

    # -- the API --------------------------------------------------------------------------------

    @override
    def handle(self, request: Request) -> Response:
        if request.path.rstrip("/") != "/api/data.php" or request.method != "GET":
            return Response.json({"status": "error", "message": "Not found", "data": []}, status=404)
        if not request.arg("key"):
            return self._error("Missing or invalid key")
        try:
            data_type = int(request.arg("type") or "0")
        except ValueError:
            return self._error("Invalid type")
        if data_type in RETIRED:
            return self._error("This type is no longer supported")
        if data_type not in STREAM_BY_TYPE:
            return self._error("Invalid type")
        if request.arg("output", "json") != "json":
            return self._error("Only output=json is simulated")
        try:
            first = dt.date.fromisoformat(request.arg("from") or self.today().isoformat())
            last = dt.date.fromisoformat(request.arg("to") or self.today().isoformat())
        except ValueError:
            return self._error("Invalid date")
        rows = self.rows(data_type, first, last, all_vendors=request.arg("all") == "1")
        if self.variant("credentials"):
            rows = (self._with_credentials(row) for row in rows)
        if data_type == 1 and self.variant("string-data-csv") and last >= self.today() - dt.timedelta(days=1):
            return self._created(_csv_text(list(rows)))
        head = next(rows, None)
        if head is None and self.variant("string-data-empty"):
            return self._created("")
        body = envelope_chunks(
            itertools.chain([head], rows) if head is not None else (),
            {"status": "created", "message": "Data report created"},
        )
        return Response(body=body)

    def _created(self, data: str) -> Response:
        """A success envelope whose `data` is a string (CSV text, or "" for an empty report)."""
        return Response(body=json.dumps({"status": "created", "message": "Data report created", "data": data}).encode())

    @staticmethod
    def _with_credentials(row: dict) -> dict:
        return {**row, "api_key": VENDOR_CREDENTIAL, "integration": {"name": "crm", "accessToken": VENDOR_CREDENTIAL}}

    def _error(self, message: str) -> Response:
        return Response.json({"status": "error", "message": message, "data": []})

    @override
    def envelope_error(self, request: Request) -> Response:
        return self._error("Report could not be created: internal limit reached")

    # -- ground truth ---------------------------------------------------------------------------

    @override
    def ground_truth(
        self, start: str | dt.date, end: str | dt.date | None = None, custom_vendors_all: bool = False, **_: t.Any
    ) -> dict[str, list[dict]]:
        """The raw vendor rows each stream must yield for a sync of days start..end."""
        first = dt.date.fromisoformat(str(start))
        last = dt.date.fromisoformat(str(end)) if end else self.today()
        truth: dict[str, list[dict]] = {}
        for data_type, stream in STREAM_BY_TYPE.items():
            if data_type in DATE_RANGED:
                truth[stream] = [row for day in _days(first, last) for row in self.rows(data_type, day, day)]
            else:
                truth[stream] = list(self.rows(data_type, first, last, all_vendors=bool(custom_vendors_all)))
        if self.variant("string-data-csv"):
            # The tap cannot read a CSV day: the report stops at the first one and yields nothing from it on.
            first_csv = self.first_csv_day()
            truth["cmp_report"] = [row for row in truth["cmp_report"] if row["date"] < first_csv.isoformat()]
        return truth

    def first_csv_day(self) -> dt.date:
        """Under string-data-csv, the first day whose CMP report comes as CSV text."""
        return self.today() - dt.timedelta(days=1)

    # -- data -----------------------------------------------------------------------------------

    def rows(self, data_type: int, first: dt.date, last: dt.date, *, all_vendors: bool = False) -> t.Iterator[dict]:
        if data_type in DATE_RANGED:
            for day in _days(first, last):
                yield from self._day_rows(data_type, day)
        else:
            deleted = (self.sandbox.settings.get("consentmanager.deleted") or {}).get(STREAM_BY_TYPE[data_type], ())
            gone = {str(row_id) for row_id in deleted}
            yield from (row for row in self._reference_rows(data_type, all_vendors) if str(row["id"]) not in gone)

    def _has_data(self, day: dt.date) -> bool:
        today = self.today()
        return today - dt.timedelta(days=HISTORY_DAYS) <= day <= today

    def _rng(self, *parts: t.Any) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _drift(self) -> str | None:
        return self.sandbox.settings.get("consentmanager.drift")

    def _day_rows(self, data_type: int, day: dt.date) -> t.Iterator[dict]:
        if not self._has_data(day):
            return
        if data_type == 19 and day < self.today() - dt.timedelta(days=CONSENT_LOG_DAYS - 1):
            return  # archived: no longer served by the API
        yield from {
            1: self._cmp_report,
            3: self._crawler_report,
            16: self._delivery_domains,
            18: self._changelog,
            19: self._consent_log,
        }[data_type](day)

    def _cmp_report(self, day: dt.date) -> t.Iterator[dict]:
        rng = self._rng(1, day)
        drift = self._drift()
        seen: set[tuple] = set()
        for _ in range(24 * self.size):
            dims = (
                str(rng.randint(1, 3)),
                str(rng.randint(1, 4)),
                rng.choice(COUNTRIES),
                str(rng.randint(0, 23)),
                str(rng.randint(1, 6)),
                str(rng.randint(0, len(OS_NAMES) - 1)),
                str(rng.randint(0, len(BROWSERS) - 1)),
                str(rng.randint(0, len(DEVICES) - 1)),
            )
            if dims in seen:
                continue
            seen.add(dims)
            views = rng.randint(1, 5000)
            row = {
                "cmpID": dims[0],
                "designID": dims[1],
                "country": dims[2],
                "date": day.isoformat(),
                "hour": dims[3],
                "urlID": dims[4],
                "osID": dims[5],
                "uaID": dims[6],
                "deviceID": dims[7],
                "pageView": str(views),
                "consentView": str(views // 2),
                "consentAccept": str(views // 3),
                "consentReject": str(views // 10),
                "consentCustom": str(views // 20),
            }
            if drift == "add":
                row["bounceRate"] = f"{rng.random():.3f}"
            elif drift == "remove":
                del row["consentReject"]
            elif drift == "retype":
                row["pageView"] = "many"
            if self.variant("duplicate-keys"):
                yield from _split_by_region(row)
                continue
            yield row

    def _crawler_report(self, day: dt.date) -> t.Iterator[dict]:
        rng = self._rng(3, day)
        for cmp_id in ("1", "2", "3"):
            for hour in sorted(rng.sample(range(24), 2)):
                crawls = rng.randint(1, 40)
                yield {
                    "cmpID": cmp_id,
                    "date": day.isoformat(),
                    "hour": str(hour),
                    "crawls": str(crawls),
                    "cookiesFound": str(crawls * 3),
                    "cookiesNew": str(rng.randint(0, 5)),
                    "domainsFound": str(crawls + 2),
                    "domainsNew": str(rng.randint(0, 2)),
                }

    def _delivery_domains(self, day: dt.date) -> t.Iterator[dict]:
        rng = self._rng(16, day)
        for domain_id in sorted(rng.sample(range(1, 11), 4)):
            yield {"id": str(domain_id), "domain": f"shop{domain_id}.example.com"}

    def _changelog(self, day: dt.date) -> t.Iterator[dict]:
        rng = self._rng(18, day)
        base = (day - dt.date(2020, 1, 1)).days * 100
        for n in range(3 + rng.randint(0, 2)):
            item = rng.randint(1, 4)
            datatype = rng.choice(["cmp", "design", "text", "vendor"])
            yield {
                "id": str(base + n),
                "datatype": datatype,
                "changetype": rng.choice(["create", "update", "delete"]),
                "itemID": f"c{20 + item}" if datatype == "vendor" and self.variant("custom-ids-text") else str(item),
                "userID": str(rng.randint(100, 105)),
                "subaccountID": str(rng.choice([0, 11, 12])),
                "accountID": "9001",
                "changedate": _stamp(day, rng.randint(0, 86399)),
                "oldData": {"name": f"Item {item}", "status": "1"},
                "newData": {"name": f"Item {item} v{n}", "status": str(rng.randint(0, 1))},
            }

    def _consent_log(self, day: dt.date) -> t.Iterator[dict]:
        rng = self._rng(19, day)
        drift = self._drift()
        base = (day - dt.date(2020, 1, 1)).days * 1_000_000
        count = int(
            self.sandbox.settings.get("consentmanager.consent_log_rows") or 50 * self.size
        )  # benchmarks set a day's size
        seconds = sorted(rng.randint(0, 86399) for _ in range(count))
        for n, second in enumerate(seconds):
            row = {
                "id": str(base + n),
                "date": _stamp(day, second),
                "type": rng.choice(["consent", "update", "revoke"]),
                "consentType": str(rng.randint(1, len(CONSENT_TYPES))),
                "country": rng.choice(COUNTRIES),
                "lang": rng.choice(LANGS),
                "ip": f"192.0.2.{rng.randint(0, 255)}",
                "browser": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                "url": f"https://shop{rng.randint(1, 6)}.example.com/page/{rng.randint(1, 99)}",
                "consentData": "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA",
                "customPurposes": ",".join(self._purpose_id(n) for n in (1, 2)),
                "customVendors": "c24,c25",
                "internalID": f"int-{rng.randint(1, 10**9)}",
                "externalID1": "",
                "externalID2": "",
                "externalID3": "",
                "cmpID": str(rng.randint(1, 3)),
                "designID": str(rng.randint(1, 4)),
                "osID": str(rng.randint(0, len(OS_NAMES) - 1)),
                "browserID": str(rng.randint(0, len(BROWSERS) - 1)),
                "deviceID": str(rng.randint(0, len(DEVICES) - 1)),
                "domainID": str(rng.randint(1, 10)),
                "textVersion": str(rng.randint(0, 3)),
                "cmpVersion": str(rng.randint(1, 9)),
                "designVersion": str(rng.randint(1, 9)),
                "cookiesAllowed": rng.choice(["1", "0"]),
            }
            if drift == "add":
                row["gppString"] = "DBABMA~CPXxRfAPXxRfAAfKABENB"
            yield row

    def _reference_rows(self, data_type: int, all_vendors: bool) -> t.Iterator[dict]:
        if data_type == 5:
            for n, name in enumerate(["Main shop", "Blog", "Support"], start=1):
                yield {"id": str(n), "name": name, "status": "1"}
        elif data_type == 6:
            for n in range(1, 5):
                yield {"id": str(n), "name": f"Design {n}", "status": "1", "defaultDesign": "1" if n == 1 else "0"}
        elif data_type == 7:
            for n in range(1, 7):
                yield {"id": str(n), "domain": f"cookies{n}.example.com"}
        elif data_type == 8:
            yield {"id": 0, "design": 0, "date": None, "lang": "", "jsonText": {"cc": "Default", "load": "Loading..."}}
            for n, lang in enumerate(["de", "en", "sv"], start=1):
                yield {
                    "id": n,
                    "design": 1 + n % 2,
                    "date": f"2026-01-1{n:d} 10:00:00",
                    "lang": lang,
                    "jsonText": {
                        "cc": f"Cookies ({lang})",
                        "load": "...",
                        "hl": "Privacy",
                        "txt": f"We use cookies ({lang})",
                    },
                }
        elif data_type == 9:
            count = 12 if all_vendors else 5
            for n in range(1, count + 1):
                system = all_vendors and n > 10 and self.variant("custom-ids-text")  # system vendors: "s" ids
                yield {
                    "id": f"s{2778 + n}" if system else f"c{20 + n}",
                    "cmp": str(1 + n % 3),
                    "name": f"Vendor {n}",
                    "link": f"https://vendor{n}.example.com/privacy",
                    "logo": "",
                }
        elif data_type == 10:
            for n in range(1, 5):
                purpose_id: str | int = n if self.variant("custom-ids-numeric") else self._purpose_id(n)
                yield {
                    "id": purpose_id,
                    "cmp": str(1 + n % 3),
                    "name": f"Purpose {n}",
                    "description": f"Custom purpose {n}",
                }
        elif data_type in (11, 12, 13, 14):
            names = {11: OS_NAMES, 12: BROWSERS, 13: DEVICES, 14: CONSENT_TYPES}[data_type]
            start = 1 if data_type == 14 else 0
            for n, name in enumerate(names, start=start):
                yield {"id": n, "name": name}
        elif data_type == 15:
            for n in range(1, 4):
                yield {
                    "id": str(700 + n),
                    "url": f"https://shop{n}.example.com/",
                    "startDate": _stamp(self.today() - dt.timedelta(days=n), 3600 * n),
                    "risk": str(n * 10),
                }
        elif data_type == 17:
            for n in range(1, 3):
                yield {
                    "id": str(10 + n),
                    "login": f"editor{n}",
                    "mail": f"editor{n}@example.com",
                    "rights": "cmp;designs;texts",
                    "restrictCMP": "1" if n == 2 else "0",
                    "allowedCMP": "3;4" if n == 2 else "",
                    "status": "1",
                    "lastLogin": _stamp(self.today() - dt.timedelta(days=n), 36000),
                }

    def _purpose_id(self, n: int) -> str:
        """Custom purpose n's id: numeric text as in the type 10 sample, or "c5n" under custom-ids-text."""
        return f"c5{n}" if self.variant("custom-ids-text") else str(n)


REGIONS = ("north", "south")


def _split_by_region(row: dict) -> t.Iterator[dict]:
    """duplicate-keys: a new dimension column; rows of hours divisible by 4 split in two (same key, other counts)."""
    if int(row["hour"]) % 4:
        yield {**row, "region": REGIONS[0]}
        return
    counts = ("pageView", "consentView", "consentAccept", "consentReject", "consentCustom")
    for share, region in enumerate(REGIONS):
        part = dict(row, region=region)
        for field in counts:
            if field in part and part[field].isdigit():
                total = int(part[field])
                part[field] = str(total // 2 if share == 0 else total - total // 2)
        yield part


def _csv_text(rows: list[dict]) -> str:
    """A report as the vendor's CSV output: a header line, then one line per row."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def _days(first: dt.date, last: dt.date) -> t.Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


# -- what the tests know about this vendor (sandbox/sandbox/profiles.py) --------------------------------

#: vendor fields that make up each stream's primary key (tap columns are their snake_case)
VENDOR_KEYS = {
    "cmp_report": ("cmpID", "designID", "country", "date", "hour", "urlID", "osID", "uaID", "deviceID"),
    "crawler_report": ("cmpID", "date", "hour"),
    "custom_vendors": ("id", "cmp"),
    "custom_purposes": ("id", "cmp"),
    "text_versions": ("id", "design", "lang"),
}


def raw_rows(sandbox: t.Any, config: dict) -> dict[str, list[dict]]:
    """The vendor rows a sync of `config` must emit, per stream (consent log clamped to 7 days)."""
    app = sandbox.app("consentmanager")
    truth = app.ground_truth(
        start=config["start_date"],
        end=config.get("end_date"),
        custom_vendors_all=config.get("custom_vendors_all", False),
    )
    oldest_served = (sandbox.today() - dt.timedelta(days=CONSENT_LOG_DAYS - 1)).isoformat()
    truth["consent_log"] = [row for row in truth["consent_log"] if row["date"][:10] >= oldest_served]
    return truth


def expected_table_rows(sandbox: t.Any, config: dict) -> dict[str, int]:
    return {
        stream: len({tuple(row[field] for field in VENDOR_KEYS.get(stream, ("id",))) for row in rows})
        for stream, rows in raw_rows(sandbox, config).items()
    }


FAILING_REPORT = ("crawler_report", 3)  # the reliability matrix's "one partition always fails": a whole report


def rows_without_failing_report(sandbox: t.Any, config: dict) -> dict[str, int]:
    return {**expected_table_rows(sandbox, config), FAILING_REPORT[0]: 0}


PROFILE = VendorProfile(
    vendor="consentmanager",
    label="consentmanager.net",
    tap="tap-consentmanager",
    tap_class="tap_consentmanager.tap:TapConsentmanager",
    source="source-consentmanager",
    order=1,
    secrets=("api_key",),
    auth_check="api_key",
    meltano_settings={"start_date": "${CONSENT_SANDBOX_START_DATE}"},  # an environment template
    test_settings=lambda _scratch: {"start_date": days_ago(3)},
    airbyte_settings=lambda: {"start_date": days_ago(3)},  # three days read every stream
    expected_rows=expected_table_rows,
    records_path="type=1&",
    failing_part=FailingPart(
        path=lambda _sandbox, _state: f"type={FAILING_REPORT[1]}&",
        named=lambda _sandbox: FAILING_REPORT[0],
        streams=(FAILING_REPORT[0],),
        saved_state=lambda state, _sandbox: state.get("bookmarks", {}).get(FAILING_REPORT[0]),
        healthy_rows=rows_without_failing_report,
    ),
    state_bookmark=("cmp_report", "replication_key_value"),
    no_lookback={"lookback_days": 0},
    bad_configs=(
        ("missing setting", {"start_date": None}, "start_date"),
        ("malformed date", {"start_date": "last tuesday"}, "start_date"),
    ),
    credentials=Credentials(
        variant="credentials",
        dropped=frozenset({"api_key", "integration.accessToken"}),
        values=lambda _sandbox: [VENDOR_CREDENTIAL],
    ),
    benchmark=Benchmark(
        largest=BenchStream(
            "consent_log",
            "consent_log",
            r"type=19",
            "consentmanager.consent_log_rows",
            lambda: {"start_date": days_ago(0), "lookback_days": 0},
        ),
        # the duplicate-key check of a day: one day (from=to), scaled by the sandbox's `size`
        large_answers=(
            BenchStream(
                "cmp_report",
                "cmp_report",
                r"type=1&",
                "size",
                lambda: {"start_date": days_ago(1), "end_date": days_ago(1), "lookback_days": 0},
                keeps="the day's duplicate-key check",
            ),
        ),
        # the consent log serves 7 days (one answer each): the CMP report's 45 days are the many pages
        many_pages_sandbox={"size": 100},
        many_pages_settings=lambda: {"start_date": days_ago(44)},
        many_pages_stream=BenchStream("cmp_report", "cmp_report", r"type=1&"),
    ),
    day_windows=DayWindows(
        ("cmp_report", "crawler_report", "delivery_domains", "changelog", "consent_log"),
        "one request per report and day; consent_log is served for the last 7 days only",
    ),
    static_discovery=True,
    account_secret="api_key",  # one API key per account,
    #: dbt tests of the staging models beyond the key's (stream -> column -> tests): documented states, links
    staging_tests={
        "cmp_report": {
            "cmp_id": [
                {
                    "relationships": {
                        "arguments": {"to": "ref('stg_consentmanager__cmps')", "field": "id"},
                        "config": {"severity": "warn"},
                    }
                }
            ],
            "design_id": [
                {
                    "relationships": {
                        "arguments": {"to": "ref('stg_consentmanager__designs')", "field": "id"},
                        "config": {"severity": "warn"},
                    }
                }
            ],
        }
    },
)
