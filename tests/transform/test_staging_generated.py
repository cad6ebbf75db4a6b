"""The dbt staging models are generated from the taps' stream definitions and must be current."""

from __future__ import annotations

import importlib.util

from tests.pipelines.meltano_project import ROOT

spec = importlib.util.spec_from_file_location("generate_dbt_staging", ROOT / "scripts" / "generate_dbt_staging.py")
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)


def test_staging_models_are_current():
    expected = generator.expected_files()
    stale = [
        str(path.relative_to(ROOT)) for path, text in expected.items() if not path.exists() or path.read_text() != text
    ]
    extra = [str(path.relative_to(ROOT)) for path in generator.STAGING.glob("*/*") if path not in expected]
    assert (stale, extra) == ([], []), "run: uv run python scripts/generate_dbt_staging.py"


def test_every_stream_with_a_schema_file_has_a_staging_model():
    for vendor in generator.VENDORS:
        tap = generator.VENDORS[vendor].tap
        for schema in (ROOT / "taps" / tap / generator.tap_package(vendor) / "schemas").glob("*.json"):
            assert (generator.STAGING / vendor / f"stg_{vendor}__{schema.stem}.sql").exists()


def test_staging_columns_take_the_schema_types():
    assert generator.column_kind({"type": ["string", "null"], "format": "date-time"}) == "timestamp"
    assert generator.column_kind({"type": ["integer", "null"]}) == "bigint"
    assert generator.column_kind({"type": ["array", "null"], "items": {"type": ["integer"]}}) == "json"
    assert generator.column_kind({"type": ["string", "integer"]}) == "string"
