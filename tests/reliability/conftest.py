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
