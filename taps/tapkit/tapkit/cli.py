"""Console-script entry point: a failure ends on one line a person can act on, never a bare traceback."""

from __future__ import annotations

import os
import sys
import threading
import traceback
import typing as t

from tapkit.errors import TapkitError
from tapkit.secrets import scrub
from tapkit.stopping import Stopped

if t.TYPE_CHECKING:
    from tapkit.tap import VendorTap


def run(tap_class: type[VendorTap]) -> t.NoReturn:
    from tapkit import probe

    try:
        if probe.wants_probe(sys.argv[1:]):
            sys.exit(probe.run(tap_class, sys.argv[1:]))
        tap_class.cli()
    except Stopped as stop:
        end_stopped(tap_class.name, stop)
    except TapkitError as exc:
        _die(f"{tap_class.name}: error: {exc}")
    except Exception as exc:
        sys.stderr.write(scrub(traceback.format_exc()))
        _die(f"{tap_class.name}: unexpected error: {type(exc).__name__}: {exc}")
    sys.exit(0)


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
