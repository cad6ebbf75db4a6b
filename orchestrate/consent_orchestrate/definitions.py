"""Dagster definitions: one asset and one job per (tap, partition) of the Meltano project.

    CONSENT_PROJECT_ROOT      the Meltano project (default: this repository)
    MELTANO_ENVIRONMENT       its environment (default: the project's default_environment)
    CONSENT_ORCHESTRATE_LOADER             the loader every partition runs into (default target-duckdb)
    CONSENT_ORCHESTRATE_RETRIES            retries per partition, from Dagster's RetryPolicy (default 2)
    CONSENT_ORCHESTRATE_RETRY_DELAY        seconds between them (default 5)
    CONSENT_ORCHESTRATE_TIMEOUT            seconds one `meltano run` may take (default 1800)

State goes wherever the Meltano project's state backend says (S3 in production, see docs/how-to-scale-out.md):
each partition has its own state id, `<environment>:<tap>-to-<loader>:<partition>`.
"""

import os
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext  # a real class here: Dagster checks the annotation at definition time

from consent_orchestrate.meltano_run import run_partition
from consent_orchestrate.partitions import Partition, default_environment, partitions

PROJECT_ROOT = Path(os.environ.get("CONSENT_PROJECT_ROOT") or Path(__file__).resolve().parents[2])


def partition_asset(partition: Partition, *, loader: str, environment: str, retry: dg.RetryPolicy, timeout: float):
    @dg.asset(
        name=partition.asset_name,
        key_prefix=[partition.group],
        group_name=partition.group,
        retry_policy=retry,
        description=f"`meltano run --state-id-suffix={partition.name} {partition.tap} {loader}`",
        tags={"tap": partition.tap, "partition": partition.asset_name},
    )
    def _asset(context: AssetExecutionContext) -> dg.MaterializeResult:
        result = run_partition(
            partition, project_root=PROJECT_ROOT, loader=loader, environment=environment, timeout=timeout
        )
        if result.returncode != 0:
            # Dagster's RetryPolicy re-runs this partition; the other partitions go on regardless.
            raise dg.Failure(
                description=f"{partition.tap} partition {partition.name!r}: meltano run exited {result.returncode} "
                f"(attempt {context.retry_number + 1})",
                metadata={"log_tail": dg.MetadataValue.text(result.log_tail)},
            )
        return dg.MaterializeResult(
            metadata={"state_id": result.state_id, "records": result.records, "attempt": context.retry_number + 1}
        )

    return _asset


def build_definitions() -> dg.Definitions:
    environment = default_environment(PROJECT_ROOT)
    loader = os.environ.get("CONSENT_ORCHESTRATE_LOADER", "target-duckdb")
    retry = dg.RetryPolicy(
        max_retries=int(os.environ.get("CONSENT_ORCHESTRATE_RETRIES", "2")),
        delay=float(os.environ.get("CONSENT_ORCHESTRATE_RETRY_DELAY", "5")),
    )
    timeout = float(os.environ.get("CONSENT_ORCHESTRATE_TIMEOUT", "1800"))
    found = partitions(PROJECT_ROOT, environment)
    assets = [partition_asset(p, loader=loader, environment=environment, retry=retry, timeout=timeout) for p in found]
    jobs = [
        dg.define_asset_job(f"{p.group}__{p.asset_name}_job", selection=dg.AssetSelection.assets(a.key))
        for p, a in zip(found, assets, strict=True)
    ]
    jobs.append(dg.define_asset_job("all_partitions", selection=dg.AssetSelection.all()))
    return dg.Definitions(assets=assets, jobs=jobs)


defs = build_definitions()
