"""Tag every reliability test with its cell of the matrix (its `scenario` and `vendor` parameters)."""

from __future__ import annotations

import pytest

# helpers that assert, outside test modules: show their values on failure
pytest.register_assert_rewrite("tests.reliability.runner")

from tests.reliability.matrix_report import CELL  # noqa: E402 - after the rewrite registration


@pytest.fixture(autouse=True)
def _matrix_cell(request):
    params = getattr(request.node, "callspec", None)
    if params is not None and {"scenario", "vendor"} <= set(params.params):
        request.node.user_properties.append((CELL, (params.params["scenario"], params.params["vendor"])))


#: bodies past this many bytes are spooled to disk in the matrix's tap runs, so that every fault also
#: goes through the spool files (a real run's threshold is 4 MiB: tapkit.body)
SPOOL_MAX_MEMORY = "1024"


@pytest.fixture(autouse=True)
def spool_dir(tmp_path_factory, monkeypatch):
    """Each test's tap runs spool large bodies into a directory of their own (TMPDIR), which must be
    empty when the test ends: whatever the exit path (success, error, retries, signals), no spool
    file is left behind."""
    import tempfile

    tempfile.gettempdir()  # this process keeps its own temporary directory
    directory = tmp_path_factory.mktemp("spool")
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setenv("TAPKIT_SPOOL_MAX_MEMORY", SPOOL_MAX_MEMORY)
    yield directory
    left = sorted(path.name for path in directory.iterdir())
    assert left == [], f"spool files left behind in {directory}: {left}"
