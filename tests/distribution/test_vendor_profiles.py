"""Each vendor in one place: what the tests, plugin generation and the pipelines know about a vendor
comes from its profile (sandbox/sandbox/<vendor>.py), so a sixth tap needs no edit elsewhere. These
checks fail when a consumer names a vendor or a tap itself, or a profile disagrees with the project."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
import yaml

from sandbox.core import VendorApp
from sandbox.discovery import classes
from sandbox.profiles import all_profiles

ROOT = Path(__file__).resolve().parents[2]
PROFILES = all_profiles()

#: the files that serve every tap alike: each reads the profiles and names no vendor itself. Every Python file
#: of scripts/ and orchestrate/ (the benchmarks, the main job, the soak, the dbt staging and plugin generators, the
#: Dagster fan-out) is one, and so are these tests:
SHARED_FOLDERS = ("scripts", "orchestrate")
CONSUMERS = [
    *sorted(
        str(path.relative_to(ROOT))
        for folder in SHARED_FOLDERS
        for path in (ROOT / folder).rglob("*.py")
        if ".venv" not in path.parts
    ),
    "tests/airbyte/sources.py",
    "tests/airbyte/test_pyairbyte.py",
    "tests/airbyte/test_sources.py",
    "tests/airbyte/test_stop_signals.py",
    "tests/airbyte/test_vendor_credentials.py",
    "tests/distribution/test_new_user.py",
    "tests/pipelines/meltano_project.py",
    "tests/pipelines/test_meltano_pipelines.py",
    "tests/pipelines/test_probe_meltano.py",
    "tests/reliability/matrix.py",
    "tests/reliability/runner.py",
    "tests/reliability/taps.py",
    "tests/reliability/test_config.py",
    "tests/reliability/test_drift.py",
    "tests/reliability/test_faults.py",
    "tests/reliability/test_meltano_secrets.py",
    "tests/reliability/test_soak.py",
    "tests/reliability/test_spool_files.py",
    "tests/reliability/test_vendor_credentials.py",
]


def vendor_words() -> set[str]:
    """Every name that stands for one vendor: its sandbox key, tap, tap package, Airbyte source, tap class."""
    words = set()
    for profile in PROFILES:
        module, tap_class = profile.tap_class.split(":")
        words |= {profile.vendor, profile.tap, profile.source, module.split(".")[0], tap_class}
    return {word.lower() for word in words}


def named_in_code(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each string constant and identifier, docstrings and comments left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.alias):
            found.append((node.lineno, node.name))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_a_consumer_reads_the_profiles_instead_of_naming_a_vendor(consumer):
    pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, sorted(vendor_words()))) + r")(?![a-z0-9])")
    literal = [
        f"{consumer}:{line}: {text!r}" for line, text in named_in_code(ROOT / consumer) if pattern.search(text.lower())
    ]
    assert literal == [], "names a vendor itself; read it from sandbox.profiles instead:\n" + "\n".join(literal)


def test_the_guard_sees_a_vendor_named_in_code(tmp_path):
    """The check above can fail: a literal tap name, an identifier and an import are each found."""
    sample = tmp_path / "sample.py"
    profile = PROFILES[0]
    package = profile.tap_class.split(".")[0]
    sample.write_text(
        f'"""A docstring may name {profile.tap}."""\nimport {package}\n# so may a comment: {profile.vendor}\n'
        f'TAP = "{profile.tap}"\n{profile.vendor}_rows = 1\n'
    )
    pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, sorted(vendor_words()))) + r")(?![a-z0-9])")
    hits = [line for line, text in named_in_code(sample) if pattern.search(text.lower())]
    assert hits == [2, 4, 5]


def test_the_shared_folders_are_all_read():
    """The guard reads the files of scripts/ and orchestrate/ themselves, the dbt staging generator among them."""
    assert {"scripts/generate_dbt_staging.py", "scripts/benchmark.py", "scripts/bench/floor.py"} <= set(CONSUMERS)
    assert "orchestrate/consent_orchestrate/partitions.py" in CONSUMERS


def test_the_sandbox_imports_no_tap():
    """The simulators and profiles name each tap by strings (`tap_class`): serving the sandbox needs no tap."""
    packages = {profile.tap_class.split(".")[0] for profile in PROFILES} | {"tapkit"}
    imported = [
        f"{path.name}:{node.lineno}: {name}"
        for path in sorted((ROOT / "sandbox" / "sandbox").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        if name.split(".")[0] in packages
    ]
    assert imported == []


def test_every_simulator_has_a_profile_and_every_profile_a_simulator():
    assert sorted(profile.vendor for profile in PROFILES) == sorted(app.name for app in classes(VendorApp))
    assert len({profile.order for profile in PROFILES}) == len(PROFILES), "two profiles share an order"


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.vendor)
def test_a_profile_names_its_tap_folder_scripts_and_class(profile):
    pyproject = (ROOT / "taps" / profile.tap / "pyproject.toml").read_text()
    module, tap_class = profile.tap_class.split(":")
    assert f'{profile.tap} = "{module}:main"' in pyproject
    assert f'{profile.source} = "{module}:airbyte_main"' in pyproject
    assert profile.load_tap_class().__name__ == tap_class
    assert profile.load_tap_class().name == profile.tap
    assert set(profile.secrets) == set(
        name for name, prop in profile.load_tap_class().config_jsonschema["properties"].items() if prop.get("secret")
    )


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.vendor)
def test_a_profiles_meltano_settings_are_the_sandbox_environments(profile):
    """meltano.yml's `sandbox` environment is the one place a tap's Meltano settings are written by hand."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (environment,) = [env for env in project["environments"] if env["name"] == "sandbox"]
    (declared,) = [p["config"] for p in environment["config"]["plugins"]["extractors"] if p["name"] == profile.tap]
    assert declared["api_url"] == f"${{CONSENT_SANDBOX_URL}}/{profile.vendor}"
    settings = {name: value for name, value in declared.items() if name != "api_url" and name not in profile.secrets}
    assert settings == profile.meltano_settings


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.vendor)
def test_a_profiles_day_windows_are_the_taps_date_ranged_streams(profile):
    """The window benchmark (scripts/benchmark_windows.py) times exactly the streams the tap reads day by day."""
    from tapkit import DayWindowStream

    streams = importlib.import_module(profile.tap_class.split(".")[0] + ".streams")
    windowed = {
        getattr(value, "name", None)
        for value in vars(streams).values()
        if isinstance(value, type)
        and issubclass(value, DayWindowStream)
        and isinstance(getattr(value, "name", None), str)
    }
    assert set(profile.day_windows.streams if profile.day_windows else ()) == windowed
