"""Read the table `tap-x --probe` prints (tapkit/probe.py) and judge it against what a variant breaks."""

from __future__ import annotations

import re
import typing as t

#: one row of the table: its verdict, then the assumption, each followed by two or more spaces
VERDICT = re.compile(r"^(holds|does not hold|could not tell)  +(.+?)  +")


def verdicts(stdout: str) -> dict[str, str]:
    """assumption -> verdict, in the table's order."""
    return {m[2]: m[1] for m in map(VERDICT.match, stdout.splitlines()) if m}


def assert_verdicts(run: t.Any, rows: list[str], broken: set[str]) -> None:
    """The table lists exactly `rows`, in order; those in `broken` do not hold, every other one holds;
    the summary line counts them, and the exit code is 1 iff one does not hold."""
    shown = verdicts(run.stdout)
    assert list(shown) == rows, run.stdout + run.stderr
    assert {row for row, verdict in shown.items() if verdict != "holds"} == broken, run.stdout
    assert all(shown[row] == "does not hold" for row in broken)
    assert run.stdout.splitlines()[-1] == f"{len(rows) - len(broken)} of {len(rows)} assumptions hold"
    assert run.returncode == (1 if broken else 0)
