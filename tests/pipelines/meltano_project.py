"""Run the project's real Meltano against the live sandbox, isolated per test.

Each `MeltanoRun` has its own system database (so its own state), its own DuckDB file and, for
PostgreSQL, its own database; the plugins themselves are installed once, in the project.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox.profiles import VendorProfile, all_profiles
from tests.support.live import clock_env, today

ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "meltano")


def sandbox_start_date() -> str:
    """A week before the simulators' today: what the project's sandbox environment reads."""
    return (today() - dt.timedelta(days=7)).isoformat()


def extractors() -> list[str]:
    """Every tap of the project: the tap of each vendor profile (sandbox/sandbox/<vendor>.py), by name."""
    return sorted(profile.tap for profile in all_profiles())


def tap_profile(tap: str) -> VendorProfile:
    (profile,) = [profile for profile in all_profiles() if profile.tap == tap]
    return profile


def truth_module(tap: str):
    """tests/<vendor>/truth.py: a vendor's own ground-truth helpers beyond its profile's."""
    return importlib.import_module(f"tests.{tap_profile(tap).vendor}.truth")


def resolved_sandbox_config(tap: str) -> dict:
    """The Meltano `sandbox` environment's settings of the tap (its profile's), environment templates filled in."""
    config = dict(tap_profile(tap).meltano_settings)
    return {
        key: sandbox_start_date() if value == "${CONSENT_SANDBOX_START_DATE}" else value
        for key, value in config.items()
    }


@dataclass
class MeltanoRun:
    workdir: Path
    sandbox_url: str
    extra_env: dict

    @property
    def duckdb_path(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    def env(self) -> dict:
        return {
            **os.environ,
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "1",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DATABASE_URI": f"sqlite:///{self.workdir / 'meltano.db'}",
            "CONSENT_SANDBOX_URL": self.sandbox_url,
            "CONSENT_SANDBOX_START_DATE": sandbox_start_date(),
            **clock_env(),  # the taps' today is the simulators' (tapkit/clock.py)
            "TARGET_DUCKDB_FILEPATH": str(self.duckdb_path),
            "TARGET_JSONL_DESTINATION_PATH": str(self.workdir / "jsonl"),
            **{
                f"{profile.tap.upper().replace('-', '_')}_{setting.upper()}": str(
                    self.workdir / f"{profile.vendor}-{setting}"
                )
                for profile in all_profiles()
                for setting in profile.run_folders
            },
            **self.extra_env,
        }

    def run(self, *blocks: str, timeout: float = 600) -> subprocess.CompletedProcess:
        with project_lock():
            proc = subprocess.run(
                [MELTANO, "run", *blocks],
                cwd=ROOT,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        (self.workdir / "meltano.log").write_text(proc.stdout + proc.stderr)
        return proc

    def command(self, *args: str, timeout: float = 120, locked: bool = False) -> subprocess.CompletedProcess:
        """Another meltano command (`config`, `state get`, `invoke`) in the project, with this run's
        environment; `locked`: taking turns with every other test's Meltano commands (project_lock)."""
        with project_lock() if locked else contextlib.nullcontext():
            return subprocess.run(
                [MELTANO, *args], cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
            )


@contextlib.contextmanager
def project_lock() -> Iterator[None]:
    """One Meltano command at a time in the project, across test workers.

    Every run of a plugin rewrites its files under .meltano/run/<plugin>/ (config, logging config): a
    second run of the same target truncates the logging file the first one is still reading.
    """
    (ROOT / ".meltano").mkdir(exist_ok=True)
    with open(ROOT / ".meltano" / "project.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def install_plugins() -> None:
    """Install the plugins into the project once; test workers running in parallel take turns."""
    env = {**os.environ, "MELTANO_CLI_DISABLE_VERSION_CHECK": "1"}
    with project_lock():
        for args in (["--plugin-type", "extractor"], ["target-duckdb", "target-postgres", "target-jsonl"]):
            subprocess.run([MELTANO, "install", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)


def install_loader(name: str) -> None:
    """Install one more loader into the project (a failed install fails the test that needs it, loudly)."""
    env = {**os.environ, "MELTANO_CLI_DISABLE_VERSION_CHECK": "1"}
    with project_lock():
        installed = subprocess.run([MELTANO, "install", name], cwd=ROOT, env=env, capture_output=True, text=True)
    assert installed.returncode == 0, (
        f"meltano install {name} failed:\n{installed.stdout[-2000:]}{installed.stderr[-3000:]}"
    )


#: the dbt transformers the tests run (each its own virtualenv under .meltano/transformers, built once)
TRANSFORMERS = ("dbt-duckdb", "dbt-postgres")


def install_transformers() -> None:
    env = {**os.environ, "MELTANO_CLI_DISABLE_VERSION_CHECK": "1"}
    with project_lock():
        subprocess.run(
            [MELTANO, "install", *TRANSFORMERS], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
