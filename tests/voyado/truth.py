"""What a warehouse holds after a first full sync of tap-voyado, from the simulator's ground truth."""

from __future__ import annotations

from pathlib import Path

from sandbox.voyado import outcome_of

#: Settings (minus api_url and api_key) of the Meltano `sandbox` environment: "instant-" keys are done
#: on their first poll, so one run loads customer_data; the plain key shows a job still waiting.
#: api_version is left unset: the default (admin-v4) is what a new user gets, so that is what runs.
SANDBOX_CONFIG: dict = {
    "customer_keys": [
        "instant-0b7e1c52-4f0e-4d7a-9a51-3d2f6c1e8a01",
        "instant-5a9d3e27-8c41-4b6f-a0d2-7e9b1f3c6d45",
        "instant-c2e8f4a1-96b3-4d7e-8f05-2a6c9d1e7b38",
        "9c1f6a3b-2d4e-4f5a-8b7c-1e2d3f4a5b6c",
    ],
}


def _keys(config: dict) -> list[str]:
    keys = [str(key).strip() for key in config.get("customer_keys") or []]
    if config.get("customer_keys_file"):
        lines = Path(config["customer_keys_file"]).read_text(encoding="utf-8").splitlines()
        keys += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return list(dict.fromkeys(key for key in keys if key))


def done_on_first_poll(sandbox, customer_key: str) -> bool:
    return outcome_of(customer_key) == "instant" or bool(sandbox.settings.get("voyado.instant"))


def expected_table_rows(sandbox, config: dict) -> dict[str, int]:
    """Rows per table after one first sync (no state): a job row per key, the lines of jobs done at once."""
    keys = _keys(config)
    app = sandbox.app("voyado")
    truth = app.ground_truth(customer_keys=[key for key in keys if done_on_first_poll(sandbox, key)])
    return {"export_jobs": len(keys), "customer_data": len(truth["customer_data"])}
