"""Each tap and tapkit is its own distribution: complete metadata, and a tap installs alone from its wheel."""

from __future__ import annotations

import json
import subprocess
import tarfile
import zipfile
from email.parser import Parser

import pytest
from packaging.specifiers import SpecifierSet

from tests.distribution.conftest import PACKAGES, dist_stem, project
from tests.pipelines.meltano_project import ROOT
from tests.support.uv import uv

TAPS = [package for package in PACKAGES if package.startswith("tap-")]


def wheel_metadata(wheelhouse, package: str):
    with zipfile.ZipFile(wheelhouse / f"{dist_stem(package)}-py3-none-any.whl") as wheel:
        info = f"{dist_stem(package)}.dist-info"
        metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        names = set(wheel.namelist())
        entry_points = wheel.read(f"{info}/entry_points.txt").decode() if f"{info}/entry_points.txt" in names else ""
    return metadata, names, entry_points


@pytest.mark.parametrize("package", PACKAGES)
def test_wheel_metadata_is_complete(wheelhouse, package):
    metadata, names, _ = wheel_metadata(wheelhouse, package)
    expected = project(package)
    assert metadata["Name"] == expected["name"]
    assert metadata["Version"] == expected["version"]
    assert metadata["Summary"] == expected["description"]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert SpecifierSet(metadata["Requires-Python"]) == SpecifierSet(expected["requires-python"])
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().startswith(f"# {package}")  # the README is the long description
    classifiers = metadata.get_all("Classifier")
    assert {"Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.13"} <= set(classifiers)
    assert f"{dist_stem(package)}.dist-info/licenses/LICENSE" in names


@pytest.mark.parametrize("tap", TAPS)
def test_tap_wheel_declares_both_console_scripts_and_tapkit(wheelhouse, tap):
    metadata, names, entry_points = wheel_metadata(wheelhouse, tap)
    vendor = tap.removeprefix("tap-")
    module = tap.replace("-", "_")
    assert f"{tap} = {module}.tap:main" in entry_points
    assert f"source-{vendor} = {module}.tap:airbyte_main" in entry_points
    # The kit, plus what the tap's own source needs beyond it (tap-didomi: boto3 for S3, its gcs extra)
    requires = {line for line in metadata.get_all("Requires-Dist") if "extra ==" not in line}
    assert f"{project('tapkit')['name']}~=0.1.0" in requires
    assert requires == set(project(tap)["dependencies"])
    assert any(name.startswith(f"{module}/schemas/") and name.endswith(".json") for name in names)


@pytest.mark.parametrize("package", PACKAGES)
def test_sdist_carries_license_readme_and_changelog(wheelhouse, package):
    with tarfile.open(wheelhouse / f"{dist_stem(package)}.tar.gz") as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml"} <= names
    if package != "tapkit":
        assert "meltano-plugin.yml" in names


@pytest.mark.parametrize("tap", TAPS)
def test_tap_installs_alone_into_a_fresh_venv(wheelhouse, tap, tmp_path):
    """Only the tap's wheel is named; tapkit comes as an ordinary dependency, found in the wheel folder."""
    venv = tmp_path / "venv"
    subprocess.run([*uv(), "venv", "--quiet", "--python", "3.11", str(venv)], check=True, capture_output=True)
    wheel = wheelhouse / f"{dist_stem(tap)}-py3-none-any.whl"
    install = subprocess.run(
        [
            *uv(),
            "pip",
            "install",
            "--python",
            str(venv / "bin" / "python"),
            "--find-links",
            str(wheelhouse),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    python = ["--python", str(venv / "bin" / "python")]
    shown = subprocess.run(
        [*uv(), "pip", "show", *python, project("tapkit")["name"]], capture_output=True, text=True, check=True
    )
    assert f"Version: {project('tapkit')['version']}" in shown.stdout.splitlines()
    check = subprocess.run([*uv(), "pip", "check", *python], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr

    about = subprocess.run(
        [str(venv / "bin" / tap), "--about", "--format=json"], capture_output=True, text=True, check=False
    )
    assert about.returncode == 0, about.stderr[-2000:]
    assert json.loads(about.stdout)["name"] == tap

    spec = subprocess.run(
        [str(venv / "bin" / f"source-{tap.removeprefix('tap-')}"), "spec"], capture_output=True, text=True, check=False
    )
    assert spec.returncode == 0, spec.stderr[-2000:]
    assert json.loads(spec.stdout.splitlines()[-1])["type"] == "SPEC"


def test_every_package_passes_twine_check(wheelhouse):
    """What PyPI will check on upload: metadata complete, the README renders as the long description."""
    dists = sorted(str(path) for pattern in ("*.whl", "*.tar.gz") for path in wheelhouse.glob(pattern))
    assert len(dists) == 2 * len(PACKAGES)  # a wheel and an sdist each
    checked = subprocess.run(
        [*uv(), "run", "--no-sync", "twine", "check", "--strict", *dists], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == len(dists), checked.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_metadata_names_no_local_path(wheelhouse, clean_clone, package):
    """Built from a clean clone, the metadata points nowhere on the build machine: no file URL, no path of the
    clone or of the working tree (the workspace's [tool.uv.sources] must not leak into Requires-Dist)."""
    metadata, _, _ = wheel_metadata(wheelhouse, package)
    with tarfile.open(wheelhouse / f"{dist_stem(package)}.tar.gz") as sdist:
        pkg_info = sdist.extractfile(f"{dist_stem(package)}/PKG-INFO").read().decode()
    for text in (metadata.as_string(), pkg_info):
        assert "file://" not in text
        assert str(clean_clone) not in text and str(ROOT) not in text
    for requirement in metadata.get_all("Requires-Dist") or []:
        assert "@" not in requirement, requirement  # a version range, never a direct reference
    assert metadata.get_all("Project-URL") == [
        "Repository, https://github.com/consent-taps/consent-taps",
        f"Changelog, https://github.com/consent-taps/consent-taps/blob/main/taps/{package}/CHANGELOG.md",
    ]
