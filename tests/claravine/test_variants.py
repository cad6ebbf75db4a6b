"""tap-claravine against every reading of the docs the simulator serves (its VARIANTS): exact output, or one
clear line."""

from __future__ import annotations

import pytest

from sandbox.claravine import ClaravineApp
from tap_claravine.tap import TapClaravine
from tests.claravine.test_sync import (
    DISCOVERED_KEYS,
    STREAM_OF,
    TAP,
    app,
    assert_clean,
    config,
    expected_dataset_record,
    truth_for,
)
from tests.support.singer import run_tap

# Every variant alone, and the id-field name variants combined with the two unlisted readings.
VARIANT_SETS = [
    (),
    *((name,) for name in ClaravineApp.VARIANTS),
    ("id-field-claravine-id", "id-field-unlisted"),
    ("id-field-other-casing", "fields-unlisted"),
    ("id-field-claravine-id", "fields-unlisted", "top-level-data-path"),
    ("list-by-row-creation", "data-row-metadata", "singular-data-path"),
]
TOP_LEVEL_REFUSALS = {"top-level-data-path": 404, "top-level-data-path-400": 400, "top-level-data-path-403": 403}
TOP_LEVEL = tuple(TOP_LEVEL_REFUSALS)


def with_metadata(record: dict, row: dict) -> dict:
    """The record the tap emits for a truth row: under data-row-metadata, the row's metadata is in `_extra`."""
    return {**record, "_extra": {"rowMetadata": row["rowMetadata"]}} if "rowMetadata" in row else record


def test_every_variant_is_exercised():
    assert {name for names in VARIANT_SETS for name in names} == set(ClaravineApp.VARIANTS)


@pytest.mark.parametrize("variants", VARIANT_SETS, ids=lambda v: "+".join(v) or "default")
def test_first_sync_is_exact_under_every_variant(sandbox, variants):
    sandbox.set_variants("claravine", *variants)
    cfg = config(sandbox)
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    assert "authentication failed" not in run.stderr
    truth = truth_for(sandbox, cfg)
    id_names = {entry["datasetUuid"]: entry["name"] for entry in truth["id_fields"]}
    assert sum(name is not None for name in id_names.values()) == 2  # two datasets carry a row id

    # datasets: each with every field of its definition, the read-only id field included.
    assert sorted(run.records("datasets"), key=lambda r: r["uuid"]) == sorted(
        ({**d, "stream_name": STREAM_OF[d["name"]]} for d in truth["datasets"]), key=lambda r: r["uuid"]
    )
    assert sorted((r["dataset_uuid"], r["uuid"], r["status"]) for r in run.records("transactions")) == sorted(
        (tx["datasetUuid"], tx["uuid"], tx["status"]) for tx in truth["transactions"]
    )
    key = lambda r: (r["dataset_uuid"], r["transaction_uuid"], r["row_number"])  # noqa: E731
    assert sorted(run.records("transaction_rows"), key=key) == sorted(
        (
            with_metadata(
                {
                    "dataset_uuid": row["datasetUuid"],
                    "transaction_uuid": row["transactionUuid"],
                    "row_number": row["rowNumber"],
                    "cvid": row["cvid"],
                    "values": row["values"],
                },
                row,
            )
            for row in truth["transaction_rows"]
        ),
        key=key,
    )
    assert all(row["cvid"] for row in truth["transaction_rows"] if id_names[row["datasetUuid"]])

    # Each dataset's table: keyed by cvid exactly where the dataset has a row id field.
    keys = {m["stream"]: m["key_properties"] for m in run.messages if m["type"] == "SCHEMA"}
    for dataset in truth["datasets"]:
        stream, id_name = STREAM_OF[dataset["name"]], id_names[dataset["uuid"]]
        assert keys[stream] == (["cvid"] if id_name else ["transaction_uuid", "row_number"]), stream
        expected = [
            with_metadata(expected_dataset_record(dataset, r, id_name), r)
            for r in truth["transaction_rows"]
            if r["datasetUuid"] == dataset["uuid"]
        ]
        by_position = lambda r: (r["transaction_uuid"], r["row_number"])  # noqa: E731
        assert sorted(run.records(stream), key=by_position) == sorted(expected, key=by_position), stream


@pytest.mark.parametrize("variants", VARIANT_SETS, ids=lambda v: "+".join(v) or "default")
def test_discovery_keys_follow_the_row_id_field_under_every_variant(sandbox, variants):
    sandbox.set_variants("claravine", *variants)
    catalog = TapClaravine(config=config(sandbox)).catalog_dict
    keys = {entry["tap_stream_id"]: list(entry["key_properties"]) for entry in catalog["streams"]}
    assert keys == DISCOVERED_KEYS
    paid = next(e for e in catalog["streams"] if e["tap_stream_id"] == "dataset_paid_media_campaigns")["schema"][
        "properties"
    ]
    # The id field is the cvid column, never a column of its own as well.
    assert set(paid) == {
        "cvid",
        "transaction_uuid",
        "row_number",
        "campaign_name",
        "site_id",
        "country",
        "launch_date",
        "budget",
        "_extra",
    }


def test_definitions_are_read_only_where_the_list_lacks_the_id_field(sandbox):
    sandbox.set_variants("claravine")
    run = run_tap(TAP, config(sandbox, datasets=[d.uuid for d in app(sandbox).datasets()[:2]]))
    assert run.returncode == 0, run.stderr
    assert sandbox.count("claravine", "/definition") == 0  # both list their CVID

    sandbox.requests.clear()
    sandbox.set_variants("claravine", "id-field-unlisted")
    run = run_tap(TAP, config(sandbox, datasets=[d.uuid for d in app(sandbox).datasets()[:2]]))
    assert run.returncode == 0, run.stderr
    # One definition per dataset (the list is read once per run).
    assert sandbox.count("claravine", "/definition") == 2


@pytest.mark.parametrize("variant", TOP_LEVEL)
def test_top_level_data_path_is_found_once_and_kept(sandbox, variant):
    sandbox.set_variants("claravine", variant)
    cfg = config(sandbox, datasets=[app(sandbox).datasets()[2].uuid])
    run = run_tap(TAP, cfg)
    assert run.returncode == 0, run.stderr
    assert run.counts()["transaction_rows"] == len(truth_for(sandbox, cfg)["transaction_rows"]) > 0
    data = [r for r in sandbox.requests if r.path.endswith("/data")]
    singular = [r for r in data if "/transaction/" in r.path]
    scoped_plural = [r for r in data if r.path.startswith("/v1/datasets/") and "/transactions/" in r.path]
    top_level = [r for r in data if r.path.startswith("/v1/transactions/")]
    # Each wrong path is asked once (the nested plural first); every other data request goes to the top-level one.
    assert len(singular) == len(scoped_plural) == 1
    assert scoped_plural[0].status == TOP_LEVEL_REFUSALS[variant]
    assert singular[0].status == 404
    assert len(top_level) == len(data) - 2
    assert all(r.status == 200 for r in top_level)
    assert "authentication failed" not in run.stderr


@pytest.mark.parametrize("kind", ["401", "403"])
def test_every_data_path_refusing_credentials_is_an_auth_error(sandbox, kind):
    sandbox.faults.add(kind, vendor="claravine", path="/data?", times=-1)  # the data paths, not /datasets
    run = run_tap(TAP, config(sandbox, datasets=[app(sandbox).datasets()[2].uuid]))
    assert run.returncode == 1
    line = run.last_stderr_line
    assert line.startswith("tap-claravine: error: authentication failed: check api_key and api_secret")
    assert line.count(f"answered HTTP {kind}") == 3  # the three candidate paths
    assert_clean(run)


def test_no_data_path_is_one_line_naming_the_assumption_not_an_auth_error(sandbox):
    sandbox.set_variants("claravine", "top-level-data-path")
    sandbox.faults.add("401", vendor="claravine", path="/v1/transactions/", times=-1)
    run = run_tap(TAP, config(sandbox, datasets=[app(sandbox).datasets()[2].uuid]))
    assert run.returncode == 1
    line = run.last_stderr_line
    assert "authentication failed" not in run.stderr
    assert "no transaction data path serves complete transaction" in line
    assert "answered HTTP 404" in line
    assert "answered HTTP 401" in line
    assert "assumption 'data path'" in line
    assert_clean(run)
