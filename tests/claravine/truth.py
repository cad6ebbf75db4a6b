"""What a warehouse holds after a first full sync of tap-claravine, computed from the simulator's ground truth."""

from __future__ import annotations

import datetime as dt

from tap_claravine.streams import dataset_stream_names

# The Meltano `sandbox` environment's settings (api_url and the secrets aside): a week of
# submissions, so that every stream, each dataset's table included, loads rows.
SANDBOX_CONFIG: dict = {
    "start_date": (dt.date.today() - dt.timedelta(days=7)).isoformat(),
    "lookback_days": 1,
}


def expected_table_rows(sandbox, config: dict) -> dict[str, int]:
    """Rows per table (distinct primary keys, upserted) after a first sync with `config`."""
    truth = sandbox.app("claravine").ground_truth(
        start=config["start_date"], end=config.get("end_date"), datasets=config.get("datasets")
    )
    counts = {
        "datasets": len({dataset["uuid"] for dataset in truth["datasets"]}),
        "transactions": len({(tx["datasetUuid"], tx["uuid"]) for tx in truth["transactions"]}),
        "transaction_rows": len(
            {(row["datasetUuid"], row["transactionUuid"], row["rowNumber"]) for row in truth["transaction_rows"]}
        ),
    }
    names = dataset_stream_names(truth["datasets"])
    id_fields = {entry["datasetUuid"]: entry["name"] for entry in truth["id_fields"]}
    for dataset in truth["datasets"]:
        rows = [row for row in truth["transaction_rows"] if row["datasetUuid"] == dataset["uuid"]]
        keyed_by_cvid = id_fields[dataset["uuid"]] is not None
        keys = {row["cvid"] for row in rows} if keyed_by_cvid else {(row["transactionUuid"], row["rowNumber"]) for row in rows}
        counts[names[dataset["uuid"]]] = len(keys)
    return counts
