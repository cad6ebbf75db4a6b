"""Console-script entry point: a failure ends on one line a person can act on, never a bare traceback."""

from __future__ import annotations

import sys
import traceback
import typing as t

from tapkit.errors import TapkitError
from tapkit.secrets import scrub

if t.TYPE_CHECKING:
    from tapkit.tap import VendorTap


def run(tap_class: type[VendorTap]) -> t.NoReturn:
    from tapkit import probe

    try:
        if probe.wants_probe(sys.argv[1:]):
            sys.exit(probe.run(tap_class, sys.argv[1:]))
        tap_class.cli()
    except TapkitError as exc:
        _die(f"{tap_class.name}: error: {exc}")
    except Exception as exc:  # noqa: BLE001 - the last line must explain, the traceback helps a bug report
        sys.stderr.write(scrub(traceback.format_exc()))
        _die(f"{tap_class.name}: unexpected error: {type(exc).__name__}: {exc}")
    sys.exit(0)


def _die(message: str) -> t.NoReturn:
    sys.stdout.flush()
    sys.stderr.write(scrub(message.replace("\n", " ")) + "\n")
    sys.stderr.flush()
    sys.exit(1)
