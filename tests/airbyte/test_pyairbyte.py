"""Every source runs through PyAirbyte as a local executable: check, then a read of every stream into
PyAirbyte's DuckDB cache holding exactly the ground truth.

PyAirbyte cannot share the project's environment (its pins conflict with Meltano's), so it gets its
own virtual environment, made once per test run with uv. It runs offline: no connector registry and
no telemetry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.airbyte.sources import SECRET, SOURCE_IDS, SOURCES, Source
from tests.support.uv import uv

PYAIRBYTE = "airbyte==0.71.3"
READ_SCRIPT = Path(__file__).with_name("pyairbyte_read.py")
SOURCE_BIN = Path(sys.executable).parent

pytestmark = pytest.mark.xdist_group("pyairbyte")  # one PyAirbyte environment, built once


@pytest.fixture(scope="module")
def pyairbyte_python(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("pyairbyte") / "venv"
    subprocess.run([*uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [*uv(), "pip", "install", "--quiet", "--python", str(python), PYAIRBYTE], capture_output=True, text=True
    )
    assert installed.returncode == 0, f"PyAirbyte did not install:\n{installed.stderr[-3000:]}"
    return python


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_pyairbyte_reads_every_stream_of_the_ground_truth(source: Source, sandbox, pyairbyte_python, tmp_path):
    config = source.config(sandbox)
    if "download_dir" in config:  # a folder of this test's own
        config["download_dir"] = str(tmp_path / f"{source.vendor}-downloads")
    (tmp_path / "config.json").write_text(json.dumps(config))
    env = {
        **os.environ,
        "AIRBYTE_OFFLINE_MODE": "1",
        "DO_NOT_TRACK": "1",
        "AIRBYTE_LOGGING_ROOT": str(tmp_path / "logs"),
        "NO_COLOR": "1",
    }
    run = subprocess.run(
        [
            str(pyairbyte_python),
            str(READ_SCRIPT),
            str(SOURCE_BIN / source.executable),
            str(tmp_path / "config.json"),
            str(tmp_path / "cache"),
            str(tmp_path / "rows.json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert SECRET not in run.stdout + run.stderr

    rows = json.loads((tmp_path / "rows.json").read_text())
    tap = source.tap_class(config=config, validate_config=False, setup_mapper=False)
    loaded = {
        name: len({tuple(str(row[key]) for key in tap.streams[name].primary_keys) for row in rows.get(name, [])})
        for name in tap.streams
    }
    expected = source.expected_rows(sandbox, config)
    assert loaded == expected
