"""Console-script entry point: a failure ends on one line a person can act on, never a bare traceback."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import traceback
import typing as t

from tapkit import config_files, probe
from tapkit.errors import TapkitError
from tapkit.secrets import scrub
from tapkit.stopping import Stopped

if t.TYPE_CHECKING:
    # Type only: cli runs a VendorTap class, and VendorTap.run_singer imports cli when the console script runs
    # (the one import circle that stays: tests/tapkit/test_import_cycles.py).
    from tapkit.tap import VendorTap


def run(tap_class: type[VendorTap]) -> t.NoReturn:
    argv = sys.argv[1:]
    try:
        if "--help" not in argv:
            check_files_and_settings(tap_class, argv)
        if wants_probe(argv):
            sys.exit(run_probe(tap_class, argv))
        tap_class.cli()
    except Stopped as stop:
        end_stopped(tap_class.name, stop)
    except TapkitError as exc:
        _die(f"{tap_class.name}: error: {exc}")
    except Exception as exc:
        sys.stderr.write(scrub(traceback.format_exc()))
        _die(f"{tap_class.name}: unexpected error: {type(exc).__name__}: {exc}")
    sys.exit(0)


def check_files_and_settings(tap_class: type[VendorTap], argv: t.Sequence[str]) -> None:
    """Before singer-sdk reads anything: every file named is JSON of the right shape. `--about` reads no
    settings, so a config file given beside it is judged here (every other mode judges the settings when
    the tap starts)."""
    config = config_files.check_singer_arguments(argv)
    arguments = config_files.singer_arguments(argv)
    if "--about" in argv and any(path != "ENV" for path in arguments.configs):
        tap_class(config=config, parse_env_config="ENV" in arguments.configs, validate_config=True, setup_mapper=False)


def wants_probe(argv: t.Sequence[str]) -> bool:
    return "--probe" in argv


def run_probe(tap_class: type[VendorTap], argv: t.Sequence[str]) -> int:
    """Parse `--config` (repeatable, a path or ENV) beside `--probe`, probe, print, return the exit code."""
    parser = argparse.ArgumentParser(prog=tap_class.name, add_help=False)
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--config", action="append", default=[])
    options, _ = parser.parse_known_args(list(argv))
    paths = [path for path in options.config if path != "ENV"]
    tap = tap_class(
        config=paths or None, parse_env_config="ENV" in options.config, validate_config=True, setup_mapper=False
    )
    results: list[probe.ProbeResult] = []
    try:
        results.extend(tap.probe())
    except TapkitError as exc:
        # A check that cannot even start (auth failed for every request): show what ran, then say why.
        print(scrub(probe.render(results)))
        raise TapkitError(f"probe stopped: {exc}") from None
    print(scrub(probe.render(results)))
    sys.stdout.flush()
    return 0 if results and all(r.verdict == probe.HOLDS for r in results) else 1


def _die(message: str) -> t.NoReturn:
    sys.stdout.flush()
    sys.stderr.write(scrub(message.replace("\n", " ")) + "\n")
    sys.stderr.flush()
    sys.exit(1)


def end_stopped(program: str, stop: Stopped) -> t.NoReturn:
    """The run was stopped by a signal: one line, exit 128 + signal (the last STATE is already out)."""
    sys.stdout.flush()
    sys.stderr.write(stop.line(program) + "\n")
    sys.stderr.flush()
    if threading.active_count() > 1:
        # Prefetch workers may be inside a request as slow as request_timeout; exiting normally would
        # wait for them, and an orchestrator's grace period is short. Everything is written out.
        os._exit(stop.exit_code)
    sys.exit(stop.exit_code)
