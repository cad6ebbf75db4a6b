"""What the tests, the benchmark, the main job and plugin generation know about each vendor, in one place.

Each simulator module (`sandbox/sandbox/<vendor>.py`) ends with its `PROFILE`; `all_profiles()` finds them
through `sandbox.discovery`, the package's one scan, so a sixth vendor needs only its own module (and the files
CONTRIBUTING.md's "Add a tap" lists). The tap is named by strings: the sandbox never imports a tap to be imported.

Ground truth comes from the simulator (`VendorApp.ground_truth`), never from the tap's output.
"""

from __future__ import annotations

import datetime as dt
import importlib
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import discovery
from sandbox.core import default_today

#: counts of rows per table, from the simulator's ground truth for a config: (sandbox, config) -> counts
ExpectedRows = t.Callable[[t.Any, dict], dict[str, int]]


def days_ago(days: int) -> str:
    """`days` before the simulators' today (pinned by CONSENT_TAPS_TODAY in tests), as YYYY-MM-DD."""
    return (default_today() - dt.timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Credentials:
    """The simulator variant that puts credential-named fields (sentinel values) in the vendor's answers."""

    variant: str
    dropped: frozenset[str]  # vendor fields the kit's rule drops (each named in one warning per stream)
    values: t.Callable[[t.Any], list[str]]  # the sentinel values they hold, given the sandbox
    also_named: str = ""  # the tap's own warning for credentials it drops before the kit's rule


@dataclass(frozen=True)
class Probe:
    """`tap-x --probe` as the Meltano sandbox environment runs it (tests/pipelines/test_probe_meltano.py)."""

    rows: int  # assumptions the probe checks
    breaking_variant: str  # a simulator variant that breaks exactly one of them
    requests: int | None = None  # exact requests the probe makes (None: a handful, not counted)
    #: the one POST a read-only probe may make: signing in, which opens a session and creates no data ("": none)
    sign_in_path: str = ""


@dataclass(frozen=True)
class BenchStream:
    """A stream the throughput benchmark times (scripts/benchmark.py), from answers the sandbox builds."""

    stream: str
    timed_by: str  # the stream whose sync_duration covers it (itself, or its parent)
    records_path: str  # a regular expression matching the targets of the requests that serve its records
    #: the sandbox setting that sizes one answer (None: no single answer reaches the benchmark's sizes)
    size_setting: str | None = None
    settings: t.Callable[[], dict] = dict  # tap settings of its runs (besides api_url and the secrets)
    keeps: str = ""  # the structure it keeps per answer (why its peak RSS is measured at every size)


@dataclass(frozen=True)
class ExportBenchmark:
    """A stream read from files in a bucket, for the export benchmark (scripts/bench/exports.py): one partition
    day built once and served from memory by a plain S3-compatible server."""

    stream: str
    bucket: str  # the bucket the objects are served in
    #: megabytes -> key -> bytes: one partition day of about that many MB of decompressed records, in several
    #: gzip files (and whatever marks the day complete)
    build: t.Callable[[int], dict[str, bytes]]
    #: the server's URL -> the tap's settings (credentials included) to read that day from it
    settings: t.Callable[[str], dict]
    #: path under the tap's api_url -> JSON body: the few API answers a run needs besides the bucket
    api_answers: t.Callable[[], dict[str, bytes]] = dict


@dataclass(frozen=True)
class Benchmark:
    """The cases of scripts/benchmark.py: the largest stream at each answer size and in many small pages."""

    largest: BenchStream
    many_pages_sandbox: dict  # sandbox settings that serve many small pages
    many_pages_settings: t.Callable[[], dict]  # tap settings for them, over the largest stream's
    many_pages_stream: BenchStream | None = None  # the stream timed in many pages, where not the largest
    #: more streams with one large answer, each keeping a structure per answer (peak RSS at every size)
    large_answers: tuple[BenchStream, ...] = ()
    no_single_answer: str = ""  # why the largest stream has no single large answer (with size_setting None)
    #: how the floors (scripts/bench/floor.py) read a record answer: "data" (a JSON object's `data` list),
    #: "zip-jsonl" (a zip of JSON Lines files), "message-consents" (each element's JSON `message`, its `c`
    #: list), "fields-rows" (`fields` names the columns of each of `rows`)
    record_shape: str = "data"


@dataclass(frozen=True)
class DayWindows:
    """The tap's date-ranged streams, for the concurrent day windows benchmark (scripts/benchmark_windows.py)."""

    streams: tuple[str, ...]
    note: str  # how the tap asks for a day
    config: dict = field(default_factory=dict)  # tap settings besides the credentials and the window


@dataclass(frozen=True)
class ConcurrentPartitions:
    """A partitioned stream whose partitions are fetched `max_concurrency` at a time, for the same benchmark."""

    stream: str
    config: dict  # tap settings besides the credentials (the partitions to configure)
    note: str  # how the tap asks for a partition
    sandbox_settings: dict  # the simulator's settings that serve those partitions


@dataclass(frozen=True)
class Partitions:
    """A setting that lists partitions: each its own requests and state."""

    setting: str  # the tap setting that lists them
    stream: str  # the partitioned stream
    request_path: str  # a fragment of each partition's requests
    #: a simulator variant under which one configured partition serves nothing ("": none known)
    empty_variant: str = ""


@dataclass(frozen=True)
class FailingPart:
    """One part of a sync (a partition, or a whole stream) that a fault rule scoped to its requests makes
    fail on every try: the reliability matrix's "one partition always fails" cell and the Airbyte test.
    The tap skips it alone; every other part must sync exactly."""

    #: (sandbox, the run's input state or None) -> a fragment of that part's requests, and of no other's
    path: t.Callable[[t.Any, dict | None], str]
    named: t.Callable[[t.Any], str]  # sandbox -> how the tap's error lines name it ("domain x", a stream)
    streams: tuple[str, ...]  # the streams it fails in (INCOMPLETE in an Airbyte read)
    #: (a final STATE's value, sandbox) -> the part's saved state (None or {}: none)
    saved_state: t.Callable[[dict, t.Any], t.Any]
    #: (sandbox, config) -> rows per table (distinct keys) of every other part: what a run must still load
    healthy_rows: t.Callable[[t.Any, dict], dict[str, int]]


def partition_state(stream: str, context: t.Callable[[t.Any], dict]) -> t.Callable[[dict, t.Any], dict]:
    """`FailingPart.saved_state` of an SDK state partition: the partition's entry without its context."""

    def saved(state: dict, sandbox: t.Any) -> dict:
        for partition in state.get("bookmarks", {}).get(stream, {}).get("partitions", []):
            if partition.get("context") == context(sandbox):
                return {key: value for key, value in partition.items() if key != "context"}
        return {}

    return saved


@dataclass(frozen=True)
class VendorProfile:
    vendor: str  # the sandbox app (its URL prefix /<vendor>, its fault and variant key)
    label: str  # how the tap's messages name the vendor
    tap: str  # the tap's name: its folder taps/<tap>, console script and Meltano extractor
    tap_class: str  # "module:Class", imported only by whoever runs the tap in-process
    source: str  # the Airbyte source's console script
    order: int  # where the tap stands in tables and matrices (the order the taps joined the project)
    secrets: tuple[str, ...]  # secret settings
    auth_check: str  # what "authentication failed: check ..." names
    #: the Meltano `sandbox` environment's settings in meltano.yml (api_url and secrets aside)
    meltano_settings: dict
    #: non-secret settings of a quick first sync in which every stream loads rows, given a scratch directory
    test_settings: t.Callable[[Path], dict]
    expected_rows: ExpectedRows  # rows per table (distinct primary keys) after a first sync of a config
    records_path: str  # a fragment of a request that serves records mid-sync (where a fault cuts a sync short)
    state_bookmark: tuple[str, str]  # (stream, field) of a bookmark a final state holds
    #: settings of the Airbyte source's tests (None: the Meltano sandbox environment's)
    airbyte_settings: t.Callable[[], dict] | None = None
    per_run_snapshots: tuple[str, ...] = ()  # streams that append one snapshot per run (n runs: n times the rows)
    #: rows per table when a run reports data it could not load, given (run, sandbox, config); None: it reports none
    reported_loss: t.Callable[[t.Any, t.Any, dict], dict[str, int] | None] | None = None
    no_lookback: dict = field(default_factory=dict)  # settings with which a re-run re-reads nothing loaded
    #: a request served mid-sync whose body, broken halfway, is asked again ("": records_path)
    retried_path: str = ""
    long_sync_settings: dict = field(default_factory=dict)  # settings that make a sync long enough to stop mid-way
    #: settings naming a folder the tap writes into: each test run (and Meltano test project) gets its own
    run_folders: tuple[str, ...] = ()
    #: the path of a download the vendor serves once, then deletes ("": none): a re-run needs fresh jobs, and a
    #: slow answer there is lost when the tap gives up waiting
    served_once: str = ""
    #: (label, n) -> settings that start n new jobs at the vendor, named by label (None: no jobs to start)
    fresh_jobs: t.Callable[[str, int], dict] | None = None
    soak_sizes: dict = field(default_factory=lambda: {"small": 1, "full": 50})  # sandbox size per soak scale
    #: tap settings of every soak round besides the test settings (a narrower window where a round is slow)
    soak_settings: t.Callable[[], dict] = dict
    #: (label, change to the config, text the error line must hold); None as a value deletes the setting
    bad_configs: tuple[tuple[str, dict, str], ...] = ()
    partitions: Partitions | None = None
    failing_part: FailingPart | None = None
    credentials: Credentials | None = None
    no_error_envelope: str | None = None  # what the "envelope-error" fault sends where the API documents none
    #: reliability scenarios for this tap's own steps and state (tests/reliability/matrix.py), beyond everyone's
    own_scenarios: frozenset[str] = frozenset()
    probe: Probe | None = None
    # -- the benchmark and the main job (scripts/benchmark.py, scripts/benchmark_windows.py, scripts/main_job.py) --
    one_run_sandbox_settings: dict = field(default_factory=dict)  # sandbox switches: one run shows every stream
    benchmark: Benchmark | None = None  # None: the tap has no throughput cases
    day_windows: DayWindows | None = None  # None: no date-ranged streams to fetch concurrently
    concurrent_partitions: ConcurrentPartitions | None = None  # a partitioned stream for the same benchmark
    static_discovery: bool = False  # discovery asks nothing of the vendor: the main job reuses its catalog
    # -- the dbt staging models (scripts/generate_dbt_staging.py) --
    #: streams whose schema the tap builds at run time: the fixed columns (name -> kind) of their staging models
    staging_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    #: dbt tests beyond the key's (stream -> column -> tests): the vendor's documented states, links between records
    staging_tests: dict[str, dict[str, list]] = field(default_factory=dict)
    # -- the fan-out (orchestrate/, through scripts/generate_plugins.py) --
    #: the list setting whose values are each one Dagster partition ("": the partition setting, if any)
    fan_out: str = ""
    #: a fragment of the requests of one fan-out partition, given its value (`./orchestrate/run --fault`)
    fan_out_request: t.Callable[[str], str] = lambda value: value
    #: a secret setting that identifies an account: one Dagster partition per account (see orchestrate/)
    account_secret: str = ""
    export_benchmark: ExportBenchmark | None = None  # a stream read from bucket files (scripts/bench/exports.py)
    #: vendor URL in the sandbox -> settings besides api_url that name it (an S3 endpoint the simulator serves)
    url_settings: t.Callable[[str], dict] = lambda _vendor_url: {}

    def sandbox_config(self, base_url: str, settings: dict, secret: t.Callable[[str], str]) -> dict:
        """A config against the sandbox served at `base_url`: each secret setting `secret(name)`, then `settings`."""
        vendor_url = f"{base_url}/{self.vendor}"
        secrets = {name: secret(name) for name in self.secrets}
        return {**secrets, "api_url": vendor_url, **self.url_settings(vendor_url), **settings}

    def load_tap_class(self) -> type:
        module, name = self.tap_class.split(":")
        return getattr(importlib.import_module(module), name)

    @property
    def broken_body_path(self) -> str:
        return self.retried_path or self.records_path

    @property
    def fan_out_setting(self) -> str:
        """The setting whose values the fan-out runs one by one ("": the tap runs whole, or by account)."""
        return self.fan_out or (self.partitions.setting if self.partitions else "")

    @property
    def partitioned_state(self) -> bool:
        """Whether the state bookmark sits in partitions (one per value of the partition setting)."""
        return self.partitions is not None


def all_profiles() -> list[VendorProfile]:
    """Every vendor's profile: the `PROFILE` of each vendor module (`sandbox.discovery`), in the profiles' order."""
    return sorted(discovery.values(VendorProfile, "PROFILE"), key=lambda vendor: (vendor.order, vendor.vendor))


def profile_of(vendor: str) -> VendorProfile:
    for vendor_profile in all_profiles():
        if vendor_profile.vendor == vendor:
            return vendor_profile
    raise KeyError(f"no vendor profile {vendor!r} in sandbox/sandbox/")
