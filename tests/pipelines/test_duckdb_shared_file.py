"""target-duckdb and dbt-duckdb each bring their own duckdb (in their own Meltano virtualenvs): both must
read and write the one warehouse file, whichever writes first, run after run.

Each step runs in one plugin's virtualenv with that plugin's duckdb: it reads every table the steps
before it wrote (exact rows) and adds its own, then the next plugin takes the file.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.pipelines.meltano_project import ROOT

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]

PYTHONS = {
    "target-duckdb": ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python",
    "dbt-duckdb": ROOT / ".meltano" / "transformers" / "dbt-duckdb" / "venv" / "bin" / "python",
}

STEP = r"""
import json, sys
import duckdb
path, plugin, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
with duckdb.connect(path) as conn:
    conn.execute("create schema if not exists shared")
    seen = {
        name: conn.execute(f'select writer, version, n from shared."{name}" order by n').fetchall()
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'shared' order by 1"
        ).fetchall()
    }
    conn.execute(
        f'create table shared.step_{step} as select ? as writer, ? as version, range as n from range(?)',
        [plugin, duckdb.__version__, step],
    )
    conn.execute("checkpoint")
print(json.dumps({"version": duckdb.__version__, "seen": seen}))
"""


def run_step(plugin: str, path, step: int) -> dict:
    proc = subprocess.run(
        [str(PYTHONS[plugin]), "-c", STEP, str(path), plugin, str(step)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"{plugin}'s duckdb could not use the file at step {step}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


@pytest.mark.usefixtures("dbt_plugins")
@pytest.mark.parametrize("first", ["target-duckdb", "dbt-duckdb"])
def test_both_duckdbs_read_and_write_one_file_in_either_order(first, tmp_path):
    second = next(plugin for plugin in PYTHONS if plugin != first)
    order = [first, second, first, second]  # two runs: load, transform, load, transform
    path = tmp_path / "warehouse.duckdb"
    versions: dict[str, str] = {}
    for step, plugin in enumerate(order, start=1):
        result = run_step(plugin, path, step)
        versions[plugin] = result["version"]
        expected = {f"step_{n}": [[order[n - 1], versions[order[n - 1]], i] for i in range(n)] for n in range(1, step)}
        assert result["seen"] == expected
    # the versions meltano.yml pins for both (target-duckdb 0.8.0 loses rows with duckdb >= 1.3)
    assert versions == {"target-duckdb": "1.2.2", "dbt-duckdb": "1.2.2"}
