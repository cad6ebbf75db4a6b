"""The release workflow cannot run here (no GitHub, no PyPI): it is checked against GitHub's workflow schema
(check-jsonschema's bundled copy), its shape is asserted, and the script it runs is run for every package."""

from __future__ import annotations

import fnmatch
import subprocess
import sys

import pytest
import yaml

from tests.distribution.conftest import PACKAGES, project
from tests.pipelines.meltano_project import ROOT
from tests.support.uv import uv

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
SCRIPT = ROOT / "scripts" / "release_package.py"


def workflow() -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    loaded = yaml.safe_load(WORKFLOW.read_text())
    loaded["on"] = loaded.pop(True)
    return loaded


def release_package(tag: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), tag], capture_output=True, text=True, check=False)


def test_workflow_is_valid_against_githubs_schema():
    checked = subprocess.run(
        [*uv(), "run", "--no-sync", "check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_workflow_publishes_through_trusted_publishing_only():
    jobs = workflow()["jobs"]
    assert workflow()["permissions"] == {"contents": "read"}  # the build job cannot write anything
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"}  # the OIDC token PyPI trusts; nothing else
    assert publish["environment"]["name"] == "pypi"
    assert publish["needs"] == "build"
    (step,) = [s for s in publish["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert "with" not in step  # no password, no token, no repository override
    assert "secrets." not in WORKFLOW.read_text()


@pytest.mark.parametrize("package", PACKAGES)
def test_one_tag_per_package_triggers_the_workflow_and_names_its_folder(package):
    tag = f"{project(package)['name']}-v{project(package)['version']}"
    patterns = workflow()["on"]["push"]["tags"]
    assert [pattern for pattern in patterns if fnmatch.fnmatchcase(tag, pattern)], (tag, patterns)
    found = release_package(tag)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == f"taps/{package}"


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("tap-gravito-v9.9.9", "but taps/tap-gravito/pyproject.toml says"),
        ("tap-unknown-v0.1.0", "names no package"),
        ("v0.1.0", "is not <package>-v<version>"),
    ],
)
def test_a_tag_that_does_not_match_a_package_stops_the_release_with_one_line(tag, reason):
    found = release_package(tag)
    assert found.returncode == 1 and found.stdout == ""
    (line,) = found.stderr.splitlines()
    assert line.startswith(f"release: tag {tag!r}") and reason in line
