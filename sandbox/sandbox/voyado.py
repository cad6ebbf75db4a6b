"""Voyado Elevate 3 GDPR export simulator (vendor-api.md section 3).

POST {base}/create-export-customer-job?customerKey=K  -> {"jid": "<uuid>", "status": "created"}
GET  {base}/job-status?jid=J                          -> {"jid": J, "status": "waiting" | "running" | "done" | ...}
GET  {base}/export-customer-job-result?jid=J          -> application/zip (JSON Lines files, or a lone empty.txt)
POST {base}/create-remove-customer-job?customerKey=K  -> {"jid": ..., "status": "started"} (destructive; logged only)

{base} is /api/admin/v4/event-data, /api/admin/v3/event-data or /api/v2/event-data (Elevate 3), all
served by default (the docs describe each), or /api/admin/v5/event-data, served only under the
admin-v5-released variant (a version newer than the tap's table); jobs are shared between them. Header `Api-Key` is
required (missing: HTTP 401).

The vendor's timing, on the sandbox clock (`Sandbox.today()`, which tests advance): a job waits until the
day after its creation, then runs while the day's data is archived, and is done `DONE_AFTER_DAYS` days
after creation; its export stays downloadable `RETENTION_DAYS` days, and is deleted once downloaded
(job-status and the result then answer not_found: a one-shot download).

Customer keys choose special outcomes: "empty-..." exports no data (a zip holding empty.txt),
"error-..." ends in status error, "missing-..." is forgotten by the vendor (not_found), and
"instant-..." is done on its first status poll (as is every job when the setting "voyado.instant"
is on, for the project's one-run demo pipeline), "taken-..." is done on its first poll but downloaded
by someone else before the tap asks for it (the result is not downloadable, then not_found). Data is
generated from (seed, size, customer key).

Variants (`VARIANTS`) switch on the other readings of the docs and the evidence. Switch "voyado.drift":
"add" (job-status gains a field, lines gain a field), "remove" (lines lose `time`), "retype" (`time`
becomes epoch seconds).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import threading
import typing as t
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from typing_extensions import override

from sandbox.core import Request, Response, VendorApp
from sandbox.profiles import Benchmark, BenchStream, FailingPart, Probe, VendorProfile

V4_BASE, V3_BASE, V2_BASE = "/api/admin/v4/event-data", "/api/admin/v3/event-data", "/api/v2/event-data"
V5_BASE = "/api/admin/v5/event-data"  # a later admin version, served only under the admin-v5-released variant
API_BASES = (V5_BASE, V4_BASE, V3_BASE, V2_BASE)
EXPORT_OPERATIONS = ("create-export-customer-job", "job-status", "export-customer-job-result")
DONE_AFTER_DAYS = 6  # one day of waiting, then about five of archiving
RETENTION_DAYS = 7  # a done export is kept about a week
EMPTY_FILE = "empty.txt"
EVENT_FILES = ("recent_atc.jsonl", "recent_views.jsonl", "recent_purchases.jsonl")
LINKS_FILE = "customer_links.jsonl"
MARKETS = ("SE", "NO", "DK", "FI", "DE")


@dataclass
class SimulatedJob:
    jid: str
    customer_key: str
    created_on: dt.date
    base: str = V4_BASE  # the API version that created it
    downloaded: bool = False


def outcome_of(customer_key: str) -> str:
    """How the vendor treats a key: normal, empty, error, missing, instant or taken."""
    for prefix in ("empty", "error", "missing", "instant", "taken"):
        if customer_key.startswith(prefix + "-"):
            return prefix
    return "normal"


class VoyadoApp(VendorApp):
    name = "voyado"
    VARIANTS: t.ClassVar[dict[str, str]] = {
        "v4-exports-missing": "admin/v4 serves no export operation (the docs show only create-remove-customer-job "
        "there): its create-export-customer-job, job-status and export-customer-job-result answer 404",
        "v3-ended": "admin/v3 has reached its end of life (2026-12-31): every admin/v3 path answers 410 Gone",
        "v2-ended": "web-api-v2 has reached its end of life (2024-04-20): every /api/v2 path answers 404",
        "admin-v5-released": "a later admin/v5 (unknown to the tap's version table) serves the export operations "
        "under admin/v3's names at /api/admin/v5/event-data; without it that path answers 404",
        "jobs-per-version": "a jid is known only to the API version that created it (another version's "
        "job-status answers not_found)",
        "not-found-as-404": "job-status and the result answer an unknown or removed job with HTTP 404 "
        "(body still the job status document) instead of 200",
        "result-400": "the result endpoint answers a job it cannot hand out with HTTP 400 and an error text "
        "instead of a job status document (the docs list only 200/400/403)",
        "empty-zip": "an export without data is a zip with no member at all (no empty.txt)",
        "empty-as-text": "an export without data is a bare empty empty.txt (text/plain), not a zip",
    }

    def __init__(self, sandbox: t.Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self.jobs: dict[str, SimulatedJob] = {}
        self._created = 0

    def reset(self) -> None:
        with self._lock:
            self.jobs.clear()
            self._created = 0

    # -- the API --------------------------------------------------------------------------------

    @override
    def handle(self, request: Request) -> Response:
        if not request.headers.get("Api-Key"):
            return Response.json({"error": "Unauthorized: missing Api-Key header"}, status=401)
        base = next((b for b in API_BASES if request.path.startswith(b + "/")), None)
        if base is None:
            return Response.json({"error": "Not found"}, status=404)
        operation = request.path[len(base) + 1 :].rstrip("/")
        not_served = self._not_served(base, operation)
        if not_served is not None:
            return not_served
        if operation in ("create-export-customer-job", "create-remove-customer-job") and request.method == "POST":
            customer_key = request.arg("customerKey")
            if not customer_key:
                return Response.json({"error": "Missing required argument customerKey"}, status=400)
            if operation == "create-remove-customer-job":
                return Response.json({"jid": str(uuid.uuid4()), "status": "started"})
            return Response.json({"jid": self.create_job(customer_key, base).jid, "status": "created"})
        if operation in ("job-status", "export-customer-job-result") and request.method == "GET":
            jid = request.arg("jid")
            if not jid:
                return Response.json({"error": "Missing required argument jid"}, status=400)
            if operation == "job-status":
                body = self._status_body(jid, base)
                return Response.json(body, status=self._status_code(body["status"]))
            return self._result(jid, base)
        return Response.json({"error": "Not found"}, status=404)

    def _not_served(self, base: str, operation: str) -> Response | None:
        """The answer of a path the switched-on variants take away (None: served)."""
        if base == V4_BASE and operation in EXPORT_OPERATIONS and self.variant("v4-exports-missing"):
            return Response.json({"error": "Not found"}, status=404)
        if base == V3_BASE and self.variant("v3-ended"):
            return Response.json({"error": "admin/v3 reached its end of life on 2026-12-31"}, status=410)
        if base == V5_BASE and not self.variant("admin-v5-released"):
            return Response.json({"error": "Not found"}, status=404)
        if base == V2_BASE and self.variant("v2-ended"):
            return Response.json({"error": "Not found"}, status=404)
        return None

    def _status_code(self, status: str) -> int:
        return 404 if status == "not_found" and self.variant("not-found-as-404") else 200

    def create_job(self, customer_key: str, base: str = V4_BASE) -> SimulatedJob:
        with self._lock:
            self._created += 1
            rng = random.Random(f"{self.seed}:jid:{customer_key}:{self._created}")
            job = SimulatedJob(str(uuid.UUID(int=rng.getrandbits(128), version=4)), customer_key, self.today(), base)
            self.jobs[job.jid] = job
            return job

    def status_of(self, jid: str, base: str | None = None) -> str:
        job = self.jobs.get(jid)
        if job is None or job.downloaded:
            return "not_found"
        if base is not None and base != job.base and self.variant("jobs-per-version"):
            return "not_found"
        outcome = outcome_of(job.customer_key)
        if outcome == "missing":
            return "not_found"
        age = (self.today() - job.created_on).days
        instant = outcome in ("instant", "taken") or bool(self.sandbox.settings.get("voyado.instant"))
        if age < 1 and not instant:
            return "waiting"
        if outcome == "error":
            return "error"
        if age < DONE_AFTER_DAYS and not instant:
            return "running"
        if age < DONE_AFTER_DAYS + RETENTION_DAYS:
            return "done"
        return "not_found"  # the export was never downloaded and has been deleted

    def _status_body(self, jid: str, base: str | None = None) -> dict:
        body: dict[str, t.Any] = {"jid": jid, "status": self.status_of(jid, base)}
        if self.sandbox.settings.get("voyado.drift") == "add":
            body["queuePosition"] = 0
        return body

    def _result(self, jid: str, base: str | None = None) -> Response:
        job = self.jobs.get(jid)
        status = self.status_of(jid, base)
        if job is not None and status == "done" and outcome_of(job.customer_key) == "taken":
            job.downloaded = True  # someone else's download came first
            status = "not_found"
        if job is None or status != "done":
            if self.variant("result-400"):
                return Response.json({"error": f"Job {jid} is not available for download"}, status=400)
            return Response.json({"jid": jid, "status": status}, status=self._status_code(status))
        job.downloaded = True  # "The export job will be removed once the download is completed"
        files = self.export_files(job.customer_key)
        if not files and self.variant("empty-as-text"):
            return Response(body=b"", content_type="text/plain").with_headers(
                Content_Disposition='attachment; filename="empty.txt"'
            )
        return Response(body=self.zip_bytes(job.customer_key), content_type="application/zip")

    @override
    def envelope_error(self, request: Request) -> Response:
        return Response.json({"jid": request.arg("jid") or "", "status": "error"})

    # -- data -----------------------------------------------------------------------------------

    def export_files(self, customer_key: str) -> dict[str, list[dict]]:
        """The JSON Lines files of one key's export: file name -> the objects of its lines."""
        if outcome_of(customer_key) in ("empty", "error", "missing", "taken"):
            return {}
        rng = random.Random(f"{self.seed}:data:{customer_key}")
        drift = self.sandbox.settings.get("voyado.drift")
        files: dict[str, list[dict]] = {}
        start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        for file_name in EVENT_FILES:
            count = rng.randint(0, 4) * self.size
            lines = []
            for n in range(count):
                when = start + dt.timedelta(seconds=rng.randint(0, 150 * 86400))
                line: dict[str, t.Any] = {
                    "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "timeOfLastInteraction": (when + dt.timedelta(minutes=rng.randint(0, 90))).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "sessionKey": f"s-{rng.getrandbits(48):012x}",
                    "productKey": f"p{rng.randint(1, 500)}",
                    "variantKey": f"v{rng.randint(1, 2000)}",
                    "market": rng.choice(MARKETS),
                    "quantity": rng.randint(1, 3),
                }
                if drift == "remove":
                    del line["time"]
                elif drift == "retype":
                    line["time"] = int(when.timestamp())
                elif drift == "add":
                    line["channel"] = "web"
                if n == 0 and file_name == "recent_purchases.jsonl":
                    line["price"] = {"amount": rng.randint(100, 99900) / 100, "currency": "SEK"}
                lines.append(line)
            if lines:
                files[file_name] = lines
        files[LINKS_FILE] = [{"customerKey": customer_key, "linkedKeys": [f"linked-{rng.getrandbits(32):08x}"]}]
        return files

    def zip_bytes(self, customer_key: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            files = self.export_files(customer_key)
            if not files and not self.variant("empty-zip"):
                archive.writestr(EMPTY_FILE, "")
            for file_name, lines in files.items():
                archive.writestr(file_name, "".join(json.dumps(line) + "\n" for line in lines))
        return buffer.getvalue()

    # -- ground truth ---------------------------------------------------------------------------

    def final_status(self, customer_key: str) -> str:
        """The tap's last word on a key once enough days have passed (export_jobs.status)."""
        return {"error": "error", "missing": "not_found", "taken": "not_found"}.get(
            outcome_of(customer_key), "downloaded"
        )

    @override
    def ground_truth(self, customer_keys: t.Sequence[str] | str = (), **_: t.Any) -> dict[str, list[dict]]:
        """Rows each stream must yield once every key's job has ended (jids are the vendor's, so absent)."""
        keys = customer_keys.split(",") if isinstance(customer_keys, str) else list(customer_keys)
        keys = list(dict.fromkeys(key for key in keys if key))
        customer_data = [
            {"customer_key": key, "file_name": file_name, "line_number": number, "data": line}
            for key in keys
            for file_name, lines in self.export_files(key).items()
            for number, line in enumerate(lines, start=1)
        ]
        export_jobs = [{"customer_key": key, "status": self.final_status(key)} for key in keys]
        return {"export_jobs": export_jobs, "customer_data": customer_data}

    def create_count(self, customer_key: str) -> int:
        """How many export jobs were created for a key (answered create requests in the sandbox's log)."""
        return sum(
            1
            for r in list(self.sandbox.requests)
            if r.vendor == self.name
            and r.status == 200
            and r.path.endswith("/create-export-customer-job")
            and r.query.get("customerKey") == [customer_key]
        )


# -- what the tests know about this vendor (sandbox/sandbox/profiles.py) --------------------------------

#: Settings (minus api_url and api_key) of the Meltano `sandbox` environment: "instant-" keys are done
#: on their first poll, so one run loads customer_data; the plain key shows a job still waiting.
#: api_version is left unset: the default (admin-v4) is what a new user gets, so that is what runs.
MELTANO_SETTINGS: dict = {
    "customer_keys": [
        "instant-0b7e1c52-4f0e-4d7a-9a51-3d2f6c1e8a01",
        "instant-5a9d3e27-8c41-4b6f-a0d2-7e9b1f3c6d45",
        "instant-c2e8f4a1-96b3-4d7e-8f05-2a6c9d1e7b38",
        "9c1f6a3b-2d4e-4f5a-8b7c-1e2d3f4a5b6c",
    ],
}


def configured_keys(config: dict) -> list[str]:
    """The customer keys a config names (customer_keys, then customer_keys_file), deduplicated."""
    keys = [str(key).strip() for key in config.get("customer_keys") or []]
    if config.get("customer_keys_file"):
        lines = Path(config["customer_keys_file"]).read_text(encoding="utf-8").splitlines()
        keys += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return list(dict.fromkeys(key for key in keys if key))


def done_on_first_poll(sandbox: t.Any, customer_key: str) -> bool:
    return outcome_of(customer_key) == "instant" or bool(sandbox.settings.get("voyado.instant"))


def expected_table_rows(sandbox: t.Any, config: dict) -> dict[str, int]:
    """Rows per table after one first sync (no state): a job row per key, the lines of jobs done at once."""
    keys = configured_keys(config)
    app = sandbox.app("voyado")
    truth = app.ground_truth(customer_keys=[key for key in keys if done_on_first_poll(sandbox, key)])
    return {"export_jobs": len(keys), "customer_data": len(truth["customer_data"])}


def reported_loss(run: t.Any, sandbox: t.Any, config: dict) -> dict[str, int] | None:
    """A download that is not a zip cannot be fetched again (the vendor deletes an export once
    downloaded): tap-voyado keeps the file, marks the job `error` in export_jobs and warns."""
    failed = [row["customer_key"] for row in run.records("export_jobs") if row["status"] == "error"]
    warned = [
        key for key in failed if any(f"'{key}' ended with status error" in line for line in run.stderr.splitlines())
    ]
    if not failed or warned != failed:
        return None
    keys = config["customer_keys"]
    return {
        **expected_table_rows(sandbox, {**config, "customer_keys": [k for k in keys if k not in failed]}),
        "export_jobs": len(keys),
    }


#: the reliability matrix's "one partition always fails": a key whose export is not done at once, so that its
#: job is still open (and polled) on the next run
FAILING_KEY = MELTANO_SETTINGS["customer_keys"][3]


def rows_without_failing_key(sandbox: t.Any, config: dict) -> dict[str, int]:
    keys = [key for key in config["customer_keys"] if key != FAILING_KEY]
    return expected_table_rows(sandbox, {**config, "customer_keys": keys})


def failing_key_job(state: dict, _sandbox: t.Any) -> t.Any:
    return state.get("bookmarks", {}).get("export_jobs", {}).get("jobs", {}).get(FAILING_KEY)


def failing_key_requests(sandbox: t.Any, state: dict | None) -> str:
    """The key's job creation; once it has a job, the polls and download of that job."""
    job = failing_key_job(state or {}, sandbox)
    return f"jid={job['jid']}" if job else f"customerKey={FAILING_KEY}"


PROFILE = VendorProfile(
    vendor="voyado",
    label="Voyado",
    tap="tap-voyado",
    tap_class="tap_voyado.tap:TapVoyado",
    source="source-voyado",
    order=3,
    secrets=("api_key",),
    auth_check="api_key",
    meltano_settings=MELTANO_SETTINGS,
    test_settings=lambda scratch: {**MELTANO_SETTINGS, "download_dir": str(scratch / "downloads")},
    expected_rows=expected_table_rows,
    reported_loss=reported_loss,
    records_path="/export-customer-job-result",
    retried_path="/job-status",  # the download is not retried: the vendor deletes an export once served
    state_bookmark=("export_jobs", "replication_key_value"),
    failing_part=FailingPart(
        path=failing_key_requests,
        named=lambda _sandbox: f"customer_key {FAILING_KEY}",
        streams=("export_jobs",),
        saved_state=failing_key_job,
        healthy_rows=rows_without_failing_key,
    ),
    # more keys than the demo config, so that the sync is long enough to be stopped in
    long_sync_settings={"customer_keys": [f"instant-kill-{n}" for n in range(8)]},
    run_folders=("download_dir",),
    served_once="/export-customer-job-result",
    fresh_jobs=lambda label, n: {"customer_keys": [f"instant-{label}-{i:03d}" for i in range(n)]},
    soak_sizes={"small": 2, "full": 100},
    bad_configs=(
        ("missing setting", {"customer_keys": None}, "customer_keys"),
        ("unknown api_version", {"api_version": "v3"}, "setting api_version must be one of"),
        ("missing customer_keys_file", {"customer_keys_file": "/nonexistent/keys.txt"}, "no such file"),
    ),
    own_scenarios=frozenset(
        {
            "state: tap's own fields",
            "disk: download_dir unwritable",
            "disk: download_dir too full",
            "kill after download",
            "SIGTERM after download",
            "SIGTERM during download",
        }
    ),
    probe=Probe(rows=7, breaking_variant="admin-v5-released", requests=5),
    one_run_sandbox_settings={"voyado.instant": True},  # a single run completes the export lifecycle
    benchmark=Benchmark(
        largest=BenchStream(
            "customer_data",
            "export_jobs",
            r"export-customer-job-result",
            "size",
            lambda: {"customer_keys": ["instant-bench-0001"]},
        ),
        many_pages_sandbox={"size": 150},
        many_pages_settings=lambda: {"customer_keys": [f"instant-bench-{n:04d}" for n in range(1, 41)]},
        record_shape="zip-jsonl",
    ),
    static_discovery=True,
    fan_out="customer_keys",
    #: dbt tests of the staging models beyond the key's (stream -> column -> tests): documented states, links
    staging_tests={
        "export_jobs": {
            "status": [
                {
                    "accepted_values": {
                        "arguments": {
                            "values": [
                                "created",
                                "waiting",
                                "running",
                                "done",
                                "error",
                                "not_found",
                                "downloaded",
                                "expired",
                            ]
                        }
                    }
                }
            ]
        },
        "customer_data": {
            "jid": [{"relationships": {"arguments": {"to": "ref('stg_voyado__export_jobs')", "field": "jid"}}}]
        },
    },
)
