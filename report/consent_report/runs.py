"""What Meltano knows of the last runs: its system database (`runs`: each job's state and end time)
and the run logs (the taps' warnings, one per line when the taps log with SINGER_SDK_LOG_CONFIG=
report/tap-logging.yml, which prefixes each tap line with its level)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

#: a Meltano log line of a plugin's output: time, Meltano's level, the plugin, the plugin's own line
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+)Z \[\w+\s*\] (\S+)\s+(.*)$")
TAP_WARNING = re.compile(r"^(WARNING|ERROR|CRITICAL) (.*)$")
SHOWN = 200  # characters of a warning kept in the page


@dataclass
class SourceRuns:
    last_success: dt.datetime | None = None
    last_state: str | None = None
    warnings: list[str] = field(default_factory=list)


def last_runs(meltano_db: Path | None) -> dict[str, SourceRuns]:
    """tap name -> its latest successful run's end and its latest run's state (SUCCESS, FAIL, RUNNING)."""
    found: dict[str, SourceRuns] = {}
    if meltano_db is None or not meltano_db.exists():
        return found
    with sqlite3.connect(f"file:{meltano_db}?mode=ro", uri=True) as conn:
        rows = conn.execute("select job_name, state, ended_at, started_at from runs order by started_at").fetchall()
    for job_name, state, ended_at, _ in rows:
        match = re.search(r"(tap-[a-z0-9]+)-to-", job_name or "")
        if not match:
            continue
        source = found.setdefault(match.group(1), SourceRuns())
        source.last_state = state
        if state == "SUCCESS" and ended_at:
            source.last_success = dt.datetime.fromisoformat(str(ended_at)).replace(tzinfo=dt.UTC)
    return found


def warnings(logs: list[Path], runs: dict[str, SourceRuns]) -> None:
    """Add each tap's warnings from the logs of its last run (a log per run, as the main job writes)."""
    for log in logs:
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            match = LOG_LINE.match(line)
            if not match or not match.group(2).startswith("tap-"):
                continue
            warning = TAP_WARNING.match(match.group(3))
            if warning:
                text = f"{warning.group(1).lower()}: {warning.group(2)}"
                runs.setdefault(match.group(2), SourceRuns()).warnings.append(text[:SHOWN])
