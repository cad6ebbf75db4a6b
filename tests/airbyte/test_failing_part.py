"""Every source, one part failing on every try (tapkit.isolation): the read goes on without it, the failed
stream ends INCOMPLETE and every other stream COMPLETE with its final STATE, one TRACE error lists the
failed part, and the source exits 1."""

from __future__ import annotations

import pytest

from tests.airbyte.protocol import configured_catalog, run_source
from tests.airbyte.sources import SECRET, SOURCE_IDS, SOURCES, Source
from tests.airbyte.test_sources import all_streams


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_one_failing_part_ends_its_stream_incomplete_and_the_others_complete(source: Source, sandbox) -> None:
    part = source.profile.failing_part
    assert part is not None, f"{source.vendor}'s profile names no failing part"
    config = source.config(sandbox, retry_max_attempts=2)
    streams = all_streams(source, sandbox)
    sandbox.faults.add("500", vendor=source.vendor, path=part.path(sandbox, None), times=-1)
    run = run_source(source.vendor, "read", config=config, catalog=configured_catalog(streams))
    assert run.returncode == 1
    assert SECRET not in run.stdout + run.stderr

    (error,) = run.errors()
    assert error.failure_type.value == "transient_error"
    assert error.message.startswith("1 part(s) failed, every other part synced: "), error.message
    assert part.named(sandbox) in error.message
    assert "failed after 2 attempts: HTTP 500" in error.message

    # Rows: every other part's, exactly (distinct primary keys per stream).
    tap = source.tap_class(config=config, validate_config=False, setup_mapper=False)
    distinct = {
        name: len({tuple(record[key] for key in stream.primary_keys) for record in run.records(name)})
        for name, stream in tap.streams.items()
    }
    assert {name: count for name, count in distinct.items() if count} == {
        name: count for name, count in part.healthy_rows(sandbox, config).items() if count
    }
    for name in streams:
        assert run.statuses(name)[-1] == ("INCOMPLETE" if name in part.streams else "COMPLETE"), name
    assert run.bookmarks().keys() == streams.keys()
