"""Every shell block of README.md and docs/how-to-*.md runs as written, in a scratch folder, against a sandbox the
blocks start themselves, so a document cannot drift from the code.

Each document's runnable blocks run in sequence in one bash (what a reader types, in order), in a folder made for it:
a fresh clone of HEAD where the document works in the repository, or an empty Meltano project where it works in the
reader's own project. Two things are swapped, and only these: the repository's git URL for a `git+file://` URL of the
clone (nothing is pushed anywhere), and the fixed ports the documents name (8765, 5000) for free ones, since other
runs share this machine. Blocks marked `<!-- illustrative: ... -->` are not run; how many each document has is
asserted, so that skipping cannot grow silently.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.docs.blocks import run_in_sequence, shell_blocks
from tests.pipelines.meltano_project import ROOT

REPOSITORY_GIT_URL = "git+https://github.com/consent-taps/consent-taps.git"

#: every document in scope -> how many of its shell blocks are illustrative (need real credentials, or CI runs them)
ILLUSTRATIVE = {
    "README.md": 3,  # ./scripts/main-job and ./scripts/test (CI); the probe with real credentials; prod secrets
    "docs/how-to-add-a-tap.md": 1,  # a real Gravito account
    "docs/how-to-add-a-target.md": 0,
    "docs/how-to-run-in-ci.md": 0,
    "docs/how-to-scale-out.md": 0,
    "docs/how-to-schedule.md": 0,
}


def documents() -> list[str]:
    return sorted(["README.md", *(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("how-to-*.md"))])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clone_of_head(path: Path) -> Path:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(path)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "-B", "main", head.strip()], cwd=path, check=True)
    return path


def reader_env(tmp_path: Path) -> dict:
    """A reader's shell: uv, uvx and Meltano on PATH; nothing of this test run's Meltano, taps or sandbox."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    uv = shutil.which("uv")
    (bin_dir / "uv").write_text(f'#!/bin/sh\nexec {f"{uv!r}" if uv else f"{sys.executable!r} -m uv"} "$@"\n')
    (bin_dir / "uvx").write_text(f'#!/bin/sh\nexec "{bin_dir / "uv"}" tool run "$@"\n')
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    meltano_bin = Path(sys.executable).parent  # the dev environment's Meltano 4.4.1, as the reader's
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MELTANO_", "TAP_", "TARGET_", "DBT_", "CONSENT_SANDBOX", "VIRTUAL_ENV", "UV_PROJECT"))
    }
    env.update(
        PATH=f"{bin_dir}:{meltano_bin}:{os.environ['PATH']}",
        MELTANO_CLI_DISABLE_VERSION_CHECK="1",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        HOME=os.environ.get("HOME", str(tmp_path)),
    )
    return env


def run_document(doc: str, cwd: Path, env: dict, replace: dict[str, str], tmp_path: Path) -> str:
    runnable = [block for block in shell_blocks(ROOT / doc) if block.illustrative is None]
    log = tmp_path / "blocks.log"
    status = run_in_sequence(runnable, cwd=cwd, env=env, log=log, replace=replace, timeout=1500)
    output = log.read_text()
    assert status == 0, f"{doc}: a block failed (exit {status}):\n{output[-6000:]}"
    assert "Traceback" not in without_shutdown_noise(output), output[-6000:]
    return output


#: Python's own report of a thread still running while an interpreter exits (seen once, after Meltano's
#: "Run completed" with the S3 state backend: its exit code was 0). Not a failure of a block: left out of
#: the traceback check, every other traceback still fails the test.
SHUTDOWN_NOISE = re.compile(
    r"Exception ignored in: <module 'threading' from [^\n]*\nTraceback \(most recent call last\):\n"
    r"(?:  [^\n]*\n)*?[A-Za-z]+(?:Error|Interrupt|Exception)?[^\n]*\n?"
)


def without_shutdown_noise(output: str) -> str:
    return SHUTDOWN_NOISE.sub("", output)


def sandbox_ports() -> dict[str, str]:
    return {"8765": str(free_port()), "5000": str(free_port())}


def test_every_document_in_scope_is_listed_with_its_illustrative_blocks():
    assert sorted(ILLUSTRATIVE) == documents()
    counts = {doc: sum(block.illustrative is not None for block in shell_blocks(ROOT / doc)) for doc in documents()}
    assert counts == ILLUSTRATIVE


def test_the_readmes_ci_commands_are_marked_not_run_here():
    (quickstart,) = [block for block in shell_blocks(ROOT / "README.md") if "./scripts/test" in block.text]
    assert quickstart.illustrative and "CI" in quickstart.illustrative
    runnable = [block for block in shell_blocks(ROOT / "README.md") if block.illustrative is None]
    assert not [block for block in runnable if "./scripts/" in block.text]  # no recursion into the suite


# -- the documents that work in a clone of the repository ---------------------------------------------------------


@pytest.mark.pipeline
def test_readme_blocks_run_in_a_fresh_clone(tmp_path):
    clone = clone_of_head(tmp_path / "consent-taps")
    output = run_document("README.md", clone, reader_env(tmp_path), sandbox_ports(), tmp_path)
    assert "meltano run dbt-duckdb:build" not in output or "ERROR=0" in output
    with duckdb.connect(str(clone / "output" / "warehouse.duckdb"), read_only=True) as conn:
        tables = {row[0] for row in conn.execute("select table_schema from information_schema.tables").fetchall()}
        (marts,) = conn.execute("select count(*) from analytics.consent_daily").fetchone()
    assert {"tap_consentmanager", "analytics"} <= tables
    assert marts > 0


@pytest.mark.pipeline
def test_how_to_run_in_ci_blocks_run_in_a_fresh_clone(tmp_path):
    clone = clone_of_head(tmp_path / "consent-taps")
    output = run_document("docs/how-to-run-in-ci.md", clone, reader_env(tmp_path), sandbox_ports(), tmp_path)
    assert "['consent-taps/sandbox:tap-consentmanager-to-target-duckdb/state.json']" in output
    assert '"singer_state"' in output  # the second runner read the state from the bucket


@pytest.mark.pipeline
def test_how_to_schedule_blocks_run_in_a_fresh_clone(tmp_path):
    clone = clone_of_head(tmp_path / "consent-taps")
    output = run_document("docs/how-to-schedule.md", clone, reader_env(tmp_path), {}, tmp_path)
    assert "gravito-daily" in output


# -- the documents that work in the reader's own Meltano project --------------------------------------------------


def doc_yaml_blocks(doc: str) -> list[dict]:
    text = (ROOT / doc).read_text()
    found = []
    for part in text.split("```yaml")[1:]:
        body = part.split("```", 1)[0]
        lines = body.splitlines()
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        found.append(yaml.safe_load("\n".join(line[indent:] for line in lines)))
    return found


def doc_loaders(doc: str) -> list[dict]:
    return [
        loader for block in doc_yaml_blocks(doc) if "plugins" in (block or {}) for loader in block["plugins"]["loaders"]
    ]


def reader_project(path: Path, clone: Path, loaders: list[dict]) -> Path:
    """An empty Meltano project with tap-gravito pasted from its plugin file (URL -> the clone) and the loaders
    pasted from the how-to's yaml blocks."""
    (extractor,) = yaml.safe_load((ROOT / "taps" / "tap-gravito" / "meltano-plugin.yml").read_text())["plugins"][
        "extractors"
    ]
    assert extractor["pip_url"].count(REPOSITORY_GIT_URL) == 2
    extractor["pip_url"] = extractor["pip_url"].replace(REPOSITORY_GIT_URL, f"git+file://{clone}")
    project = {
        "version": 1,
        "project_id": "reader-project",
        "send_anonymous_usage_stats": False,
        "venv": {"backend": "uv"},
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "plugins": {"extractors": [extractor], "loaders": loaders},
    }
    path.mkdir()
    (path / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    return path


@pytest.mark.pipeline
def test_how_to_add_a_tap_blocks_run_in_an_empty_meltano_project(tmp_path):
    clone = clone_of_head(tmp_path / "consent-taps")
    (loader,) = doc_loaders("docs/how-to-add-a-tap.md")
    assert loader["name"] == "target-jsonl"
    project = reader_project(tmp_path / "my-meltano-project", clone, [loader])
    replace = {REPOSITORY_GIT_URL: f"git+file://{clone}", **sandbox_ports()}
    output = run_document("docs/how-to-add-a-tap.md", project, reader_env(tmp_path), replace, tmp_path)
    assert "Plugin configuration is valid" in output
    assert "ACTIVATE_VERSION" not in output
    written = {path.name: len(path.read_text().splitlines()) for path in (project / "output").glob("*.jsonl")}
    assert sorted(written) == [
        "consents.jsonl",
        "keyring.jsonl",
        "microprofiles.jsonl",
        "non_tcf_vendor_consents.jsonl",
        "tcf_consents.jsonl",
    ]
    assert all(count > 0 for count in written.values()), written


@pytest.mark.pipeline
def test_how_to_add_a_target_blocks_run_after_the_tap_how_to(tmp_path, sandbox):
    """Its reader has done how-to-add-a-tap: tap-gravito is pasted and configured (here through the environment,
    pointing at the test's sandbox), and the how-to's DuckDB loader is pasted too."""
    clone = clone_of_head(tmp_path / "consent-taps")
    loaders = doc_loaders("docs/how-to-add-a-target.md")
    project = reader_project(tmp_path / "my-meltano-project", clone, loaders)
    (project / "output").mkdir()  # target-jsonl made it in the tap how-to; target-duckdb 0.8.0 makes no folder
    env = reader_env(tmp_path)
    env.update(
        TAP_GRAVITO_API_URL=sandbox.url("gravito"),
        TAP_GRAVITO_ACCESS_TOKEN="sandbox-token",
        TAP_GRAVITO_DOMAINS=json.dumps(["shop.example.com", "news.example.org", "travel.example.net"]),
    )
    runnable = [block for block in shell_blocks(ROOT / "docs/how-to-add-a-target.md") if block.illustrative is None]
    log = tmp_path / "blocks.log"
    status = run_in_sequence(runnable, cwd=project, env=env, log=log, replace={}, timeout=1500)
    output = log.read_text()
    assert status == 0, output[-6000:]
    assert "tap_gravito" in output
