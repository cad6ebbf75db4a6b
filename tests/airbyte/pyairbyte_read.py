"""Run by PyAirbyte's own Python (not the project's): one source, as a local executable, through
PyAirbyte's check and a read of every stream into its DuckDB cache; the cached rows are written as JSON.

    python pyairbyte_read.py <source executable> <config.json> <cache dir> <rows.json>
"""

import json
import sys
from pathlib import Path

import airbyte as ab

executable, config_path, cache_dir, rows_path = sys.argv[1:5]
source = ab.get_source(
    "source-under-test", local_executable=executable, config=json.loads(Path(config_path).read_text())
)
source.check()
source.select_all_streams()
result = source.read(cache=ab.new_local_cache(cache_name="pyairbyte_test", cache_dir=cache_dir))
rows = {name: [dict(row) for row in dataset] for name, dataset in result.streams.items()}
Path(rows_path).write_text(json.dumps(rows, default=str))
