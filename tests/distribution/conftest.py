"""A clean clone of HEAD, and the wheels and sdists of tapkit and every tap built from it once per test process,
as a user (or the release workflow) would build them."""

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


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="session")
def clean_clone(tmp_path_factory) -> Path:
    """A clone of the committed HEAD (nothing uncommitted, nothing ignored), its HEAD commit on branch `main`,
    so that a `git+file://` URL of it installs exactly HEAD."""
    clone = tmp_path_factory.mktemp("clone") / "consent-taps"
    head = git("rev-parse", "HEAD")
    git("clone", "--quiet", "--no-checkout", str(ROOT), str(clone))
    git("checkout", "--quiet", "-B", "main", head, cwd=clone)
    return clone


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory, clean_clone) -> Path:
    """A folder with `<name>-<version>.tar.gz` and the wheel built from that sdist, for each package."""
    out = tmp_path_factory.mktemp("wheelhouse")
    for package in PACKAGES:
        subprocess.run(
            [*uv(), "build", "--package", project(package)["name"], "--out-dir", str(out), "--quiet"],
            cwd=clean_clone,
            check=True,
            capture_output=True,
            text=True,
        )
    return out
