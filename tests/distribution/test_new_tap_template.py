"""CONTRIBUTING.md's "Add a tap" list is the whole truth: a throwaway tap (tests/distribution/template_tap/),
added to a copy of the repository by writing only the files that list names, is picked up by the suite's
discovery, plugin generation, the benchmark's case table, the main job and the Dagster fan-out, and the
generators change no file outside the list.

Fast: the copy holds the repository's files (no environment), and everything runs with this environment's Python,
the copy's sandbox package and the throwaway tap put first on PYTHONPATH."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).with_name("template_tap")
NEW = "tap-new"

#: what the copy's shared code sees of the new tap, printed as JSON (run in the copy, see `probe`)
PROBE = """
import json, sys
from pathlib import Path
root = Path.cwd()
sys.path[:0] = [str(root / "scripts"), str(root / "orchestrate")]
from sandbox.core import Sandbox
from sandbox.profiles import all_profiles
import benchmark, main_job
from consent_orchestrate.partitions import partitions
print(json.dumps({
    "profiles": [vendor.tap for vendor in all_profiles()],
    "simulators": sorted(Sandbox(port=0)._apps),
    "benchmark": sorted(
        {(case.vendor, case.stream, case.label) for case in benchmark.cases([5.0], list(benchmark.VENDOR_PROFILES))}
    ),
    "static_discovery": list(main_job.STATIC_DISCOVERY),
    "partitions": [[p.tap, p.name, p.env] for p in partitions(root, "sandbox")],
}))
"""


def listed_paths() -> list[str]:
    """The paths of the first code block under CONTRIBUTING.md's "## Add a tap": a folder ends with '/'."""
    section = (ROOT / "CONTRIBUTING.md").read_text().split("## Add a tap", 1)[1]
    block = section.split("```", 2)[1]
    return [line.split()[0] for line in block.splitlines() if line.strip() and not line.startswith(" ")]


def is_listed(path: str, listed: list[str]) -> bool:
    return any(path == entry or (entry.endswith("/") and path.startswith(entry)) for entry in listed)


def repository_files() -> list[str]:
    """The repository's files as a clone has them (tracked, or new and not ignored), this test's own aside."""
    found = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return [path for path in found if path and (ROOT / path).is_file()]


def digests(root: Path) -> dict[str, str]:
    skipped = {"__pycache__", ".ruff_cache", ".pytest_cache"}
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and not skipped & set(path.parts)
    }


def add_the_tap(copy: Path) -> None:
    """What a contributor writes by hand: the template's files, the meltano.yml entry, the two pyproject lines."""
    shutil.copytree(TEMPLATE / "taps", copy / "taps", dirs_exist_ok=True)
    shutil.copytree(TEMPLATE / "sandbox", copy / "sandbox", dirs_exist_ok=True)
    meltano = copy / "meltano.yml"
    project = yaml.safe_load(meltano.read_text())
    (sandbox_env,) = [env for env in project["environments"] if env["name"] == "sandbox"]
    sandbox_env["config"]["plugins"]["extractors"].append(
        {
            "name": NEW,
            "config": {"api_url": "${CONSENT_SANDBOX_URL}/new", "api_key": "sandbox-key", "lists": ["red", "green"]},
        }
    )
    meltano.write_text(yaml.safe_dump(project, sort_keys=False))
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text()
    text = text.replace("dependencies = [\n", f'dependencies = [\n    "{NEW}",\n', 1)
    text = text.replace("[tool.uv.sources]\n", f"[tool.uv.sources]\n{NEW} = {{ workspace = true }}\n", 1)
    pyproject.write_text(text)


def run(copy: Path, *argv: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy / "sandbox"), str(copy / "taps" / NEW)])}
    done = subprocess.run([sys.executable, *argv], cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(argv[:2])}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def copy_with_the_tap(tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, str]]:
    copy = tmp_path_factory.mktemp("repository")
    for path in repository_files():
        if not path.startswith("tests/distribution/template_tap/"):
            (copy / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, copy / path)
    before = digests(copy)
    add_the_tap(copy)
    run(copy, "scripts/generate_plugins.py")
    run(copy, "scripts/generate_dbt_staging.py")
    return copy, before, digests(copy)


def test_the_list_names_the_template_taps_files():
    listed = listed_paths()
    assert {"taps/tap-new/", "sandbox/sandbox/new.py", "meltano.yml", "pyproject.toml", "uv.lock"} <= set(listed)
    template = [str(path.relative_to(TEMPLATE)) for path in TEMPLATE.rglob("*") if path.is_file()]
    assert [path for path in template if path != "README.md" and not is_listed(path, listed)] == []


def test_no_file_outside_the_list_had_to_change(copy_with_the_tap):
    _copy, before, after = copy_with_the_tap
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    assert changed, "adding the tap changed nothing"
    assert [path for path in changed if not is_listed(path, listed_paths())] == []


def test_plugin_generation_the_fan_out_table_and_the_staging_models_take_the_tap(copy_with_the_tap):
    copy, before, after = copy_with_the_tap
    plugins = yaml.safe_load((copy / "plugins" / "extractors.meltano.yml").read_text())["plugins"]["extractors"]
    assert NEW in [plugin["name"] for plugin in plugins]
    assert "taps/tap-new/meltano-plugin.yml" in after
    fan_out = json.loads((copy / "orchestrate" / "consent_orchestrate" / "fan_out.json").read_text())
    assert fan_out[NEW] == {"setting": "lists", "account_secret": ""}
    assert "transform/models/staging/new/stg_new__items.sql" in after
    # the other taps' generated files are as committed
    for path in ("transform/models/staging/gravito/_gravito__models.yml", "taps/tap-gravito/meltano-plugin.yml"):
        assert before[path] == after[path]


def test_discovery_the_benchmark_the_main_job_and_the_fan_out_take_the_tap(copy_with_the_tap):
    copy, _before, _after = copy_with_the_tap
    seen = json.loads(run(copy, "-c", PROBE).splitlines()[-1])
    assert seen["profiles"][-1] == NEW and len(seen["profiles"]) == len(set(seen["profiles"]))
    assert "new" in seen["simulators"]
    assert [case for case in seen["benchmark"] if case[0] == "new"] == [["new", "items", "many pages"]]
    assert NEW in seen["static_discovery"]
    assert [p for p in seen["partitions"] if p[0] == NEW] == [
        [NEW, "red", {"TAP_NEW_LISTS": '["red"]'}],
        [NEW, "green", {"TAP_NEW_LISTS": '["green"]'}],
    ]
