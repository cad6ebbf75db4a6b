"""Every source speaks the Airbyte protocol: spec, check, discover, read, state and errors.

Counts are checked against each simulator's ground truth (tests/<vendor>/truth.py); resuming is
checked against the Singer tap itself, since "resumes as the Singer state does" is the contract.
"""

from __future__ import annotations

import jsonschema
import pytest

from tapkit.tap import secret_setting_names
from tests.airbyte.protocol import configured_catalog, run_in_process, run_source
from tests.airbyte.sources import SECRET, SOURCE_IDS, SOURCES, Source
from tests.support.singer import run_tap

pytestmark = pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)


def all_streams(source: Source, sandbox, mode: str | None = None) -> dict[str, str]:
    """Every discovered stream, incremental where it can be (or `mode` for all)."""
    catalog = run_in_process(source.tap_class, "discover", config=source.config(sandbox)).catalog
    return {
        name: mode
        or ("incremental" if "incremental" in [m.value for m in stream.supported_sync_modes] else "full_refresh")
        for name, stream in catalog.items()
    }


def test_spec_is_the_taps_settings_with_secrets_marked(source: Source) -> None:
    run = run_in_process(source.tap_class, "spec")
    assert run.returncode == 0
    spec = run.spec.connectionSpecification
    tap_schema = source.tap_class.config_jsonschema
    shared = {
        "api_url",
        "request_timeout",
        "max_requests_per_second",
        "max_concurrency",
        "retry_max_attempts",
        "retry_backoff_seconds",
    }
    assert shared | set(tap_schema.get("required", [])) <= spec["properties"].keys() <= tap_schema["properties"].keys()
    assert not {"stream_maps", "flattening_enabled", "batch_config"} & spec["properties"].keys(), "Singer-only settings"
    for name, prop in spec["properties"].items():
        assert prop == tap_schema["properties"][name] | ({"airbyte_secret": True} if prop.get("secret") else {})
    assert spec["required"] == tap_schema.get("required", [])
    secret = {name for name, prop in spec["properties"].items() if prop.get("airbyte_secret")}
    assert secret == set(secret_setting_names(tap_schema))
    assert secret, "every tap has a credential"
    jsonschema.Draft7Validator.check_schema(spec)


def test_discover_describes_every_stream(source: Source, sandbox) -> None:
    run = run_in_process(source.tap_class, "discover", config=source.config(sandbox))
    assert run.returncode == 0
    tap = source.tap_class(config=source.config(sandbox), validate_config=False, setup_mapper=False)
    assert run.catalog.keys() == tap.streams.keys()
    for name, stream in tap.streams.items():
        discovered = run.catalog[name]
        assert discovered.json_schema == stream.schema
        assert discovered.source_defined_primary_key == [[key] for key in stream.primary_keys]
        assert stream.primary_keys, f"{name} has no primary key"
        modes = [mode.value for mode in discovered.supported_sync_modes]
        if stream.replication_key:
            assert modes == ["full_refresh", "incremental"]
            assert discovered.source_defined_cursor is True
            assert discovered.default_cursor_field == [stream.replication_key]
        else:
            assert modes == ["full_refresh"]
            assert not discovered.source_defined_cursor


def test_check_succeeds_against_the_sandbox(source: Source, sandbox) -> None:
    run = run_in_process(source.tap_class, "check", config=source.config(sandbox))
    assert run.returncode == 0
    assert run.connection_status.status.value == "SUCCEEDED"
    assert sandbox.count(source.vendor) >= 1


def test_check_fails_with_the_kits_message_on_a_refused_key(source: Source, sandbox) -> None:
    sandbox.faults.add("401", vendor=source.vendor, times=-1)
    run = run_in_process(source.tap_class, "check", config=source.config(sandbox))
    assert run.returncode == 0
    status = run.connection_status
    assert status.status.value == "FAILED"
    auth = " and ".join(source.tap_class.auth_settings)
    assert status.message.startswith(f"authentication failed: check {auth}")
    assert SECRET not in run.stdout + run.stderr


def test_check_fails_on_bad_config_before_any_request(source: Source, sandbox) -> None:
    config = source.config(sandbox, request_timeout=-1)
    run = run_in_process(source.tap_class, "check", config=config)
    assert run.connection_status.status.value == "FAILED"
    assert run.connection_status.message == "setting request_timeout must be a positive number, got -1"
    assert sandbox.count(source.vendor) == 0


def test_a_refused_key_ends_the_read_with_a_config_error_trace_and_exit_1(source: Source, sandbox) -> None:
    catalog = configured_catalog(all_streams(source, sandbox))  # before the fault: some taps discover over HTTP
    sandbox.faults.add("401", vendor=source.vendor, times=-1)
    run = run_source(source.vendor, "read", config=source.config(sandbox), catalog=catalog)
    assert run.returncode == 1
    (error,) = run.errors()
    assert error.failure_type.value == "config_error"
    assert error.message.startswith("authentication failed: check ")
    assert SECRET not in run.stdout + run.stderr
    assert run.counts() == {}


def test_read_emits_ground_truth_and_resumes_like_the_singer_tap(source: Source, sandbox) -> None:
    config = source.config(sandbox)
    streams = all_streams(source, sandbox)
    first = run_source(source.vendor, "read", config=config, catalog=configured_catalog(streams))
    assert first.returncode == 0, first.stdout[-2000:]
    assert SECRET not in first.stdout + first.stderr

    # Rows: exactly the ground truth (distinct primary keys per stream), each fitting its schema.
    expected = source.expected_rows(sandbox, config)
    tap = source.tap_class(config=config, validate_config=False, setup_mapper=False)
    distinct = {}
    for name, stream in tap.streams.items():
        records = first.records(name)
        validator = jsonschema.Draft7Validator(stream.schema)
        for record in records:
            validator.validate(record)
        distinct[name] = len({tuple(record[key] for key in stream.primary_keys) for record in records})
    assert distinct == expected

    # Every selected stream ends COMPLETE with a final per-stream STATE.
    for name in streams:
        assert first.statuses(name) == ["STARTED", "COMPLETE"]
    assert first.bookmarks().keys() == streams.keys()

    # Resume: the Airbyte state holds the Singer bookmarks, and a second read emits what a second Singer run does.
    singer_first = run_tap(source.profile.tap, config)
    assert singer_first.returncode == 0
    incremental = {name for name, mode in streams.items() if mode == "incremental"}
    singer_bookmarks = singer_first.last_state["bookmarks"]
    for name in incremental:  # same shape; values may hold clocks and job ids, so they differ between runs
        assert first.bookmarks()[name].keys() == singer_bookmarks[name].keys()

    second = run_in_process(
        source.tap_class, "read", config=config, catalog=configured_catalog(streams), state=first.final_state()
    )
    singer_second = run_tap(source.profile.tap, config, state=singer_first.last_state)
    assert second.returncode == 0
    assert second.counts() == singer_second.counts()
    if incremental:
        assert sum(second.counts().values()) < sum(first.counts().values())


def test_a_bad_bookmark_ends_the_read_before_any_request(source: Source, sandbox) -> None:
    """A hand-edited state (an integer where a date belongs, a stream the source lacks) is a config_error trace."""
    config = source.config(sandbox)
    streams = all_streams(source, sandbox)
    first = run_in_process(source.tap_class, "read", config=config, catalog=configured_catalog(streams))
    assert first.returncode == 0
    state = first.final_state()
    name = state[0]["stream"]["stream_descriptor"]["name"]
    state[0]["stream"]["stream_descriptor"]["name"] = name + "_typo"
    sandbox.requests.clear()
    run = run_source(source.vendor, "read", config=config, catalog=configured_catalog(streams), state=state)
    assert run.returncode == 1
    (error,) = run.errors()
    assert error.failure_type.value == "config_error"
    assert error.message.startswith(f"invalid state: stream {name}_typo is not a stream of {source.profile.tap}")
    assert run.counts() == {}
    assert sandbox.count(source.vendor) == 0
