"""Bad state: a real final state from a sync against the sandbox, edited as a person might, ends the
next run with one line naming the stream, the partition (where there is one) and the bookmark,
before any request; the unedited state (bare or in Meltano's wrapper) resumes."""

from __future__ import annotations

import copy
import json
import subprocess
import typing as t
from pathlib import Path

import pytest

from tests.reliability.runner import assert_no_secret, sync
from tests.reliability.taps import TAPS, TapProfile
from tests.support.singer import tap_executable

#: the bookmark each case edits: (stream, field), in the stream's first partition where it has partitions
BOOKMARKS: dict[str, tuple[str, str]] = {vendor: profile.state_bookmark for vendor, profile in TAPS.items()}
PARTITIONED = tuple(vendor for vendor, profile in TAPS.items() if profile.partitioned_state)
FUTURE = "2099-01-01T00:00:00+00:00"

_final_states: dict[str, dict] = {}


def final_state(profile: TapProfile, sandbox: t.Any, scratch: Path) -> dict:
    """The last STATE of a complete sync against the sandbox (once per test process)."""
    if profile.vendor not in _final_states:
        run = sync(profile, profile.config(sandbox, scratch / "first"))
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.last_state and run.last_state["bookmarks"]
        _final_states[profile.vendor] = run.last_state
        sandbox.reset()
    return copy.deepcopy(_final_states[profile.vendor])


def bookmark_holder(state: dict, vendor: str) -> tuple[dict, str, str]:
    """(the dict that holds the edited bookmark, the fragment naming its place, the field)."""
    stream, name = BOOKMARKS[vendor]
    holder = state["bookmarks"][stream]
    place = f"stream {stream}"
    if vendor in PARTITIONED:
        holder = holder["partitions"][0]
        place += ", partition " + ", ".join(f"{key}={value}" for key, value in holder["context"].items())
    assert name in holder, (vendor, holder)
    return holder, place, name


def set_value(value: t.Any) -> t.Callable[[dict, str], list[str]]:
    def edit(state: dict, vendor: str) -> list[str]:
        holder, place, name = bookmark_holder(state, vendor)
        holder[name] = value
        return [place, f"bookmark {name}"]

    return edit


def misspelt_field(state: dict, vendor: str) -> list[str]:
    holder, place, name = bookmark_holder(state, vendor)
    holder[name + "_typo"] = holder.pop(name)
    return [place, f"bookmark {name}_typo", "does not keep"]


def unknown_stream(state: dict, vendor: str) -> list[str]:
    stream, _ = BOOKMARKS[vendor]
    state["bookmarks"][stream + "s"] = state["bookmarks"].pop(stream)
    return [f"stream {stream}s ", "is not a stream of"]


def bookmark_outside_partition(state: dict, vendor: str) -> list[str]:
    """A partitioned stream's bookmark at the stream level: singer-sdk would ignore it and start over."""
    stream, name = BOOKMARKS[vendor]
    holder, _, _ = bookmark_holder(state, vendor)
    state["bookmarks"][stream][name] = holder[name]
    return [f"stream {stream}, bookmark {name}", "under partitions"]


def voyado_job_missing_field(state: dict, _vendor: str) -> list[str]:
    key, job = next(iter(state["bookmarks"]["export_jobs"]["jobs"].items()))
    del job["requested_at"]
    return ["stream export_jobs", f"bookmark jobs.{key}", "has no requested_at"]


def voyado_job_future_request(state: dict, _vendor: str) -> list[str]:
    key, job = next(iter(state["bookmarks"]["export_jobs"]["jobs"].items()))
    job["requested_at"] = FUTURE
    return ["stream export_jobs", f"bookmark jobs.{key}.requested_at", "in the future"]


def voyado_job_unknown_version(state: dict, _vendor: str) -> list[str]:
    key, job = next(iter(state["bookmarks"]["export_jobs"]["jobs"].items()))
    job["api_version"] = "v9"
    return ["stream export_jobs", f"bookmark jobs.{key}.api_version", '"v9" is not an API version']


def claravine_pending_bad_day(state: dict, _vendor: str) -> list[str]:
    partition = state["bookmarks"]["transactions"]["partitions"][0]
    partition["pending_transactions"] = [{"uuid": "0f6c7b1e-0000-4000-8000-000000000001", "day": "26/11/2026"}]
    context = ", ".join(f"{k}={v}" for k, v in partition["context"].items())
    return [f"stream transactions, partition {context}", "bookmark pending_transactions.1.day", "26/11/2026"]


def lytics_cursor_number(state: dict, _vendor: str) -> list[str]:
    partition = state["bookmarks"]["audience_members"]["partitions"][0]
    partition["next"] = 42
    context = ", ".join(f"{k}={v}" for k, v in partition["context"].items())
    return [f"stream audience_members, partition {context}", "bookmark next", "42 (a number)"]


#: label -> (the reliability matrix's scenario, the edit)
COMMON = {
    "integer": ("state: wrong type", set_value(20261201)),
    "list": ("state: wrong type", set_value(["2026-12-01"])),
    "object": ("state: wrong type", set_value({"value": "2026-12-01"})),
    "unparsable date": ("state: unparsable date", set_value("yesterday")),
    "future": ("state: bookmark in the future", set_value(FUTURE)),
    "unknown stream": ("state: unknown stream", unknown_stream),
    "misspelt field": ("state: unknown bookmark field", misspelt_field),
}
OUTSIDE = {"bookmark outside its partition": ("state: bookmark outside its partition", bookmark_outside_partition)}
#: the edits of each tap's own state fields (its profile's own_scenarios holds "state: tap's own fields")
OWN = {
    "claravine": {"pending transaction day": ("state: tap's own fields", claravine_pending_bad_day)},
    "lytics": {"cursor a number": ("state: tap's own fields", lytics_cursor_number)},
    "voyado": {
        "job missing a field": ("state: tap's own fields", voyado_job_missing_field),
        "job requested in the future": ("state: tap's own fields", voyado_job_future_request),
        "job on an unknown api_version": ("state: tap's own fields", voyado_job_unknown_version),
    },
}
CASES = [
    pytest.param(vendor, scenario, label, edit, id=f"{vendor}-{label}")
    for vendor in TAPS
    for label, (scenario, edit) in {
        **COMMON,
        **(OUTSIDE if vendor in PARTITIONED else {}),
        **OWN.get(vendor, {}),
    }.items()
]


@pytest.mark.parametrize(("vendor", "scenario", "label", "edit"), CASES)
def test_bad_state_is_one_line_naming_stream_and_bookmark_before_any_request(
    sandbox, tmp_path, vendor, scenario, label, edit
):
    profile = TAPS[vendor]
    state = final_state(profile, sandbox, tmp_path)
    fragments = edit(state, vendor)
    run = sync(profile, profile.config(sandbox, tmp_path / "edited"), state=state)
    line = run.last_stderr_line
    assert run.returncode == 1, run.stderr[-2000:]
    assert line.startswith(f"{profile.name}: error: invalid state: "), run.stderr[-2000:]
    for fragment in fragments:
        assert fragment in line, line
    if label == "future":
        assert "in the future" in line
    assert "Traceback" not in run.stderr
    assert [m for m in run.messages if m["type"] in ("RECORD", "STATE")] == []
    assert sandbox.count(vendor) == 0


def non_empty(bookmarks: dict) -> dict:
    return {stream: bookmark for stream, bookmark in bookmarks.items() if bookmark}


@pytest.mark.parametrize("scenario", ["state: the tap's own, bare or wrapped"])
@pytest.mark.parametrize("vendor", list(TAPS))
def test_the_final_state_resumes_bare_and_in_meltanos_wrapper(sandbox, tmp_path, vendor, scenario):
    """The check accepts what the tap itself wrote; Meltano's {"singer_state": ...} form is unwrapped, not ignored."""
    profile = TAPS[vendor]
    config = profile.config(sandbox, tmp_path)
    first = sync(profile, config)
    assert first.returncode == 0, first.stderr[-2000:]
    for given in (first.last_state, {"singer_state": first.last_state}):
        run = sync(profile, config, state=given)
        assert run.returncode == 0, run.stderr[-2000:]
        # singer-sdk writes the state it loaded before the first stream: the bookmarks were taken
        loaded = next(m["value"] for m in run.messages if m["type"] == "STATE")
        assert non_empty(loaded["bookmarks"]) == non_empty(first.last_state["bookmarks"])
    assert "state-store form" in run.stderr


@pytest.mark.parametrize("scenario", ["state: not a state object"])
@pytest.mark.parametrize("vendor", list(TAPS))
@pytest.mark.parametrize(
    ("text", "fragment"),
    [("{not json", "is not JSON"), ("[]", "holds a list; expected an object")],
    ids=["not JSON", "a list"],
)
def test_a_state_file_that_is_no_singer_state_is_one_line_before_any_request(
    sandbox, tmp_path, vendor, scenario, text, fragment
):
    profile = TAPS[vendor]
    (tmp_path / "config.json").write_text(json.dumps(profile.config(sandbox, tmp_path)))
    (tmp_path / "state.json").write_text(text)
    proc = subprocess.run(
        [
            tap_executable(profile.name),
            "--config",
            str(tmp_path / "config.json"),
            "--state",
            str(tmp_path / "state.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert_no_secret(proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert lines[-1].startswith(f"{profile.name}: error: state file {tmp_path / 'state.json'} "), lines[-1]
    assert fragment in lines[-1]
    assert "Traceback" not in proc.stderr
    assert sandbox.count(vendor) == 0
