"""`tap-x --probe`: check, against a live account, each assumption the tap makes about its vendor.

A tap lists its assumptions (`VendorTap.probe`, usually in the tap's `probe.py`); each one makes a
few read-only requests through the tap's own client (so rate limit, retries and secret scrubbing
apply) and yields a `ProbeResult`. The kit (`tapkit.cli.run_probe`) prints one row per assumption and
exits 0 when all hold, 1 otherwise. A probe never writes or deletes anything at the vendor.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass

from tapkit.secrets import scrub

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
COULD_NOT_TELL = "could not tell"
VERDICTS = (HOLDS, DOES_NOT_HOLD, COULD_NOT_TELL)

#: how much of a vendor's answer a row shows
ANSWER_WIDTH = 100


@dataclass(frozen=True)
class ProbeResult:
    assumption: str  # what the tap assumes, one line ("segment scan pages hold at most 100 rows")
    asked: str  # the request(s) made, without secrets ("GET /api/segment/{id}/scan?limit=200")
    answered: str  # what the vendor answered, shortened
    verdict: str  # one of VERDICTS

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def verdict(holds: bool | None) -> str:
    """True -> holds, False -> does not hold, None -> could not tell."""
    return COULD_NOT_TELL if holds is None else HOLDS if holds else DOES_NOT_HOLD


def result(assumption: str, asked: str, answered: t.Any, holds: bool | None) -> ProbeResult:
    return ProbeResult(assumption, asked, shorten(answered), verdict(holds))


def could_not_tell(assumption: str, asked: str, error: BaseException | str) -> ProbeResult:
    """A check whose request failed (auth, network, an unexpected body): the assumption is untested."""
    return ProbeResult(assumption, asked, shorten(str(error)), COULD_NOT_TELL)


def shorten(answer: t.Any, width: int = ANSWER_WIDTH) -> str:
    """One scrubbed line of at most `width` characters: JSON for structured answers."""
    if isinstance(answer, (bytes, bytearray)):
        text = bytes(answer[: width * 4]).decode("utf-8", "replace")
    elif isinstance(answer, str):
        text = answer
    else:
        try:
            text = json.dumps(answer, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            text = repr(answer)
    text = scrub(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def render(results: t.Sequence[ProbeResult]) -> str:
    """A plain-text table, one row per assumption; the verdict first so a person scans it."""
    header = ("verdict", "assumption", "asked", "answered")
    rows = [(r.verdict, r.assumption, r.asked, r.answered) for r in results]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) if rows else len(header[i]) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)
    held = sum(r.verdict == HOLDS for r in results)
    lines.append(f"{held} of {len(results)} assumptions hold")
    return "\n".join(lines)
