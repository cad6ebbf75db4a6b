"""Bad configuration: for every tap and every mode (Singer sync, `--discover`, `--about`, `--probe`;
Airbyte `spec`, `check`, `discover`, `read`), a bad config, catalog or state file, a required setting
absent, a setting of the wrong type, an `api_url` that is no http(s) URL, a `start_date` in the future,
and each profile's own bad configs end the run non-zero, with no traceback, on one last line that
names the file or the setting and what is wrong, before any request reaches the vendor. An unknown
setting is named in a warning, with the closest known name. A connection that cannot be made names
the host and `api_url`.

Faults are derived from each tap's own settings schema and its vendor profile: no vendor is named here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.config_faults import setting_faults
from tests.reliability.runner import assert_no_secret
from tests.reliability.taps import TAPS, TapProfile
from tests.support.singer import tap_executable

#: mode -> (how the program is called, whether it is the Airbyte source)
SINGER_MODES = {"sync": [], "--discover": ["--discover"], "--about": ["--about"], "--probe": ["--probe"]}
AIRBYTE_MODES = ("spec", "check", "discover", "read")
MODES = [*SINGER_MODES, *(f"airbyte {command}" for command in AIRBYTE_MODES)]

#: file fault -> (the file's text, None: no file at all; a fragment of the error line)
FILE_FAULTS: dict[str, tuple[str | None, str]] = {
    "missing": (None, "does not exist"),
    "empty": ("", "is empty"),
    "not JSON": ("{not json", "is not JSON"),
    "a list": ("[]", "holds a list; expected an object"),
}
AIRBYTE_STATE_FAULTS: dict[str, tuple[str | None, str]] = {
    **{label: fault for label, fault in FILE_FAULTS.items() if label != "a list"},  # a list is Airbyte's state
    "a number": ("42", "holds a number; expected a list or an object"),
}
CATALOG_NO_STREAMS = ('{"type": "CATALOG"}', "has no list of streams")
#: Each case runs in every mode when CONSENT_TAPS_FULL_MATRIX=1 (the whole matrix: about 600 processes, some 15
#: minutes on two free cores). Otherwise in MODES_PER_CASE modes, rotated so that every vendor meets every mode
#: across its cases and every case meets every mode across the vendors (all pairs covered, about 170 processes):
#: the files and settings are read by the kit's one code path, which differs per mode, not per vendor.
FULL_MATRIX = os.environ.get("CONSENT_TAPS_FULL_MATRIX") == "1"
MODES_PER_CASE = 2


def covering_modes(vendor: str, case: int) -> list[str]:
    """The modes case number `case` of `vendor` runs in (see FULL_MATRIX)."""
    if FULL_MATRIX:
        return MODES
    start = MODES_PER_CASE * (list(TAPS).index(vendor) + case * len(TAPS))
    return [MODES[(start + n) % len(MODES)] for n in range(MODES_PER_CASE)]


def covering_cases(vendor: str, count: int) -> list[int]:
    """Which of `count` cases (shared by every vendor) `vendor` runs: all, or every len(TAPS)-th."""
    if FULL_MATRIX:
        return list(range(count))
    return [n for n in range(count) if n % len(TAPS) == list(TAPS).index(vendor)]


#: a close misspelling of a setting every tap has
MISSPELT, MEANT = "retry_max_attempt", "retry_max_attempts"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


#: a file's content meaning: its path is given, but no file is there
MISSING = object()


def write_file(path: Path, content: t.Any) -> str:
    """`content`: text written as is, MISSING for no file, anything else as JSON."""
    if content is not MISSING:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def run_mode(
    profile: TapProfile, mode: str, folder: Path, config: t.Any, *, catalog: t.Any = None, state: t.Any = None
) -> Run:
    """Run the tap (or its Airbyte source) in `mode` as a process, with its files written in `folder`
    (None: not given; an Airbyte read always gets a catalog, an empty one unless told)."""
    if mode.startswith("airbyte "):
        command = mode.removeprefix("airbyte ")
        argv = [tap_executable(profile.source), command]
        if command == "read" and catalog is None:
            catalog = {"streams": []}
    else:
        command = ""
        argv = [tap_executable(profile.name), *SINGER_MODES[mode]]
    argv += ["--config", write_file(folder / "config.json", config)]
    for option, content in (("catalog", catalog), ("state", state)):
        if content is not None:
            argv += [f"--{option}", write_file(folder / f"{option}.json", content)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert_no_secret(proc.stdout, proc.stderr)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_one_clear_line(run: Run, profile: TapProfile, mode: str, *fragments: str) -> str:
    """Non-zero exit, no traceback anywhere, and the last line names what is wrong. An Airbyte source's
    last stdout message is the TRACE error with the same text, a config_error."""
    assert run.returncode != 0, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    program = profile.source if mode.startswith("airbyte ") else profile.name
    line = run.last_line
    assert line.startswith(f"{program}: error: "), run.output[-3000:]
    for fragment in fragments:
        assert fragment in line, line
    if mode.startswith("airbyte "):
        last = json.loads(run.stdout.splitlines()[-1])
        assert last["type"] == "TRACE", last
        assert last["trace"]["error"]["failure_type"] == "config_error"
        assert f"{program}: error: {last['trace']['error']['message']}" == line
    return line


# -- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["config: bad config file"])
@pytest.mark.parametrize("fault", list(FILE_FAULTS))
@pytest.mark.parametrize("vendor", list(TAPS))
def test_a_bad_config_file_is_one_line_naming_the_file(sandbox, tmp_path, vendor, fault, scenario):
    profile = TAPS[vendor]
    text, problem = FILE_FAULTS[fault]
    for mode in covering_modes(vendor, list(FILE_FAULTS).index(fault)):
        folder = tmp_path / mode.replace(" ", "-")
        folder.mkdir()
        run = run_mode(profile, mode, folder, MISSING if text is None else text)
        try:
            assert_one_clear_line(run, profile, mode, f"config file {folder / 'config.json'}", problem)
        except AssertionError as exc:
            raise AssertionError(f"{mode}: {exc}") from None
    assert sandbox.count(vendor) == 0


SETTING_CASES = [
    pytest.param(vendor, scenario, id=f"{vendor}-{scenario.removeprefix('config: ')}")
    for vendor, profile in TAPS.items()
    for scenario in setting_faults(profile)
]


@pytest.mark.parametrize(("vendor", "scenario"), SETTING_CASES)
def test_a_bad_setting_is_one_line_naming_the_setting(sandbox, tmp_path, vendor, scenario):
    """Each fault of the scenario, in every mode (a process each)."""
    profile = TAPS[vendor]
    first = sum(len(faults) for name, faults in setting_faults(profile).items() if name < scenario)
    for number, fault in enumerate(setting_faults(profile)[scenario]):
        change, fragments = fault(sandbox)
        for mode in covering_modes(vendor, first + number):
            folder = tmp_path / f"{number}-{mode}".replace(" ", "-")
            folder.mkdir()
            run = run_mode(profile, mode, folder, profile.config(sandbox, folder, **change))
            try:
                assert_one_clear_line(run, profile, mode, *fragments)
            except AssertionError as exc:
                raise AssertionError(f"{mode}, {change}: {exc}") from None
            for value in change.values():
                if isinstance(value, int) and value > 1000:  # a secret's value is never shown
                    assert str(value) not in run.output
            assert sandbox.count(vendor) == 0, (mode, change)


@pytest.mark.parametrize("scenario", ["config: unknown setting"])
@pytest.mark.parametrize("vendor", list(TAPS))
def test_an_unknown_setting_is_named_in_a_warning_with_the_closest_name(sandbox, tmp_path, vendor, scenario):
    """Beside a bad api_url (so no sync runs): the warning comes first, then the one-line error."""
    profile = TAPS[vendor]
    for mode in covering_modes(vendor, 0):
        folder = tmp_path / mode.replace(" ", "-")
        folder.mkdir()
        config = profile.config(sandbox, folder, api_url="127.0.0.1", **{MISSPELT: 3})
        run = run_mode(profile, mode, folder, config)
        warning = f"setting {MISSPELT} is not a setting of {profile.name} and is ignored; did you mean {MEANT}?"
        assert warning in run.output, (mode, run.output[-2000:])
        assert_one_clear_line(run, profile, mode, "setting api_url must be an http(s) URL")


@pytest.mark.parametrize("scenario", ["config: bad catalog or state file"])
@pytest.mark.parametrize("vendor", list(TAPS))
def test_a_bad_catalog_or_state_file_is_one_line_naming_the_file(sandbox, tmp_path, vendor, scenario):
    """Singer sync and Airbyte read, each file fault of the catalog and of the state (a process each)."""
    profile = TAPS[vendor]
    catalog_faults = {**FILE_FAULTS, "no streams": CATALOG_NO_STREAMS}
    cases = [
        *(("sync", "catalog", label, fault) for label, fault in catalog_faults.items()),
        *(("sync", "state", label, fault) for label, fault in FILE_FAULTS.items()),
        *(("airbyte read", "catalog", label, fault) for label, fault in catalog_faults.items()),
        *(("airbyte read", "state", label, fault) for label, fault in AIRBYTE_STATE_FAULTS.items()),
    ]
    for mode, what, label, (text, problem) in [cases[n] for n in covering_cases(vendor, len(cases))]:
        folder = tmp_path / f"{mode}-{what}-{label}".replace(" ", "-")
        folder.mkdir()
        content = MISSING if text is None else text
        files = {"catalog": content} if what == "catalog" else {"state": content}
        run = run_mode(profile, mode, folder, profile.config(sandbox, folder), **files)
        try:
            assert_one_clear_line(run, profile, mode, f"{what} file {folder / (what + '.json')}", problem)
        except AssertionError as exc:
            raise AssertionError(f"{mode}, {what} {label}: {exc}") from None
        assert sandbox.count(vendor) == 0, (mode, what, label)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("scenario", ["config: cannot connect"])
@pytest.mark.parametrize("mode", ["sync", "airbyte check"])
@pytest.mark.parametrize("vendor", list(TAPS))
def test_a_connection_that_cannot_be_made_names_the_host_and_api_url(sandbox, tmp_path, vendor, mode, scenario):
    """A sync ends on that line; an Airbyte check reports it as the failed connection status."""
    profile = TAPS[vendor]
    port = closed_port()
    api_url = f"http://127.0.0.1:{port}/{vendor}"
    run = run_mode(profile, mode, tmp_path, profile.config(sandbox, tmp_path, api_url=api_url, retry_max_attempts=1))
    expected = f"could not connect to 127.0.0.1:{port} (api_url={api_url})"
    assert "Traceback" not in run.output, run.output[-3000:]
    if mode == "sync":
        assert run.returncode != 0, run.output[-3000:]
        assert expected in run.last_line, run.last_line
    else:
        (status,) = [json.loads(line) for line in run.stdout.splitlines() if '"CONNECTION_STATUS"' in line]
        assert status["connectionStatus"]["status"] == "FAILED"
        assert expected in status["connectionStatus"]["message"], status


def test_help_lists_probe() -> None:
    for profile in TAPS.values():
        proc = subprocess.run([tap_executable(profile.name), "--help"], capture_output=True, text=True, check=False)
        assert proc.returncode == 0
        assert "--probe" in proc.stdout, proc.stdout
        assert "assumptions" in proc.stdout.split("--probe", 1)[1][:200]


@pytest.mark.parametrize("vendor", list(TAPS))
def test_an_api_url_made_from_an_unset_variable_says_so(sandbox, tmp_path, vendor):
    """What Meltano passes when `${CONSENT_SANDBOX_URL}/<vendor>` is used with the variable unset."""
    profile = TAPS[vendor]
    run = run_mode(profile, "sync", tmp_path, profile.config(sandbox, tmp_path, api_url=f"/{vendor}"))
    assert_one_clear_line(
        run,
        profile,
        "sync",
        "setting api_url must be an http(s) URL with a host",
        f"got '/{vendor}' (is an environment variable it is made from unset?)",
    )
    assert sandbox.count(vendor) == 0
