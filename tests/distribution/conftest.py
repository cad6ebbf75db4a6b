"""The wheels and sdists of tapkit and every tap, built once per test process, as a user would build them."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.pipelines.meltano_project import ROOT
from tests.support.uv import uv

#: folders under taps/: the kit and every tap
PACKAGES = ["tapkit", *sorted(path.name for path in (ROOT / "taps").glob("tap-*"))]


def project(package: str) -> dict:
    return tomllib.loads((ROOT / "taps" / package / "pyproject.toml").read_text())["project"]


def dist_stem(package: str) -> str:
    """How the package's wheel and sdist file names start, e.g. consent_tapkit-0.1.0."""
    return f"{project(package)['name'].replace('-', '_')}-{project(package)['version']}"


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    """A folder with `<name>-<version>.tar.gz` and the wheel built from that sdist, for each package."""
    out = tmp_path_factory.mktemp("wheelhouse")
    for package in PACKAGES:
        subprocess.run(
            [*uv(), "build", "--package", project(package)["name"], "--out-dir", str(out), "--quiet"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    return out
