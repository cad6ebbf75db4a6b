"""The shell blocks of a Markdown document, and running them in sequence as a reader would.

A block is a fenced ```bash, ```sh or ```shell block (indented ones in lists too). A block right after an HTML
comment `<!-- illustrative: <why> -->` is not run, by design (it needs real vendor credentials, or CI runs it).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

SHELLS = {"bash", "sh", "shell"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*$")
ILLUSTRATIVE = re.compile(r"^<!--\s*illustrative:\s*(?P<why>.+?)\s*-->$")


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    text: str
    illustrative: str | None  # why it is not run, or None


def shell_blocks(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening or not opening["lang"]:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if opening["lang"] in SHELLS:
            body = textwrap.dedent("\n".join(lines[index + 1 : end]))
            previous = next((line.strip() for line in reversed(lines[:index]) if line.strip()), "")
            marker = ILLUSTRATIVE.match(previous)
            found.append(Block(index + 1, body, marker["why"] if marker else None))
        index = end + 1
    return found


def run_in_sequence(
    blocks: list[Block], *, cwd: Path, env: dict, log: Path, replace: dict[str, str], timeout: float
) -> int:
    """Every runnable block, in order, in one bash (`set -euo pipefail`), so an `export` or a `cd` carries on as
    it does for a reader. Processes the blocks leave in the background (`... &`) are stopped afterwards: the
    script runs in its own process group. Returns bash's exit status; stdout and stderr go to `log`."""
    script = "set -euo pipefail\n"
    for block in blocks:
        text = block.text
        for old, new in replace.items():
            text = text.replace(old, new)
        script += f"echo '>>> block at line {block.line}' >&2\n{text}\n"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", script], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return proc.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the group this test started: bash and its background jobs
