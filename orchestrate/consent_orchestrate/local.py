"""Run partitions of the Meltano project once, in this process, and report each (`./orchestrate/run`).

    python -m consent_orchestrate.local [--select tap-gravito,tap-consentmanager] [--report report.json]

Partitions run one after another: one Meltano project directory cannot run the same plugin twice at once
(Meltano rewrites each plugin's files under .meltano/run/ on every run). On a cluster, give each partition
its own container (Dagster's Docker or Kubernetes run launcher) and they run side by side.
Exit status 0 only if every selected partition materialised.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import typing as t

import dagster as dg

from consent_orchestrate.definitions import defs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--select", default="", help="comma-separated taps or assets, e.g. tap-x,tap_y/partition (default: all)"
    )
    parser.add_argument("--report", help="write {asset: {status, attempts, records, state_id}} as JSON here")
    args = parser.parse_args(argv)

    wanted = {name.strip().replace("-", "_") for name in args.select.split(",") if name.strip()}
    job = defs.resolve_job_def("all_partitions")
    selection = [
        key
        for key in defs.resolve_all_asset_keys()
        if not wanted or key.path[0] in wanted or "/".join(key.path) in wanted
    ]
    if not selection:
        parser.error(f"--select {args.select!r} matches no partition")
    started = time.monotonic()
    result = job.execute_in_process(
        asset_selection=selection, raise_on_error=False, instance=dg.DagsterInstance.ephemeral()
    )
    report = _report(result, selection)
    report_seconds = round(time.monotonic() - started, 1)
    for name, row in report.items():
        print(f"{row['status']:<12} {name:<45} attempts={row['attempts']} records={row['records']} {row['state_id']}")
    print(
        f"{sum(r['status'] == 'materialized' for r in report.values())}/{len(report)} "
        f"partitions materialised in {report_seconds} s"
    )
    if args.report:
        with open(args.report, "w") as out:
            json.dump(report, out, indent=2)
    return 0 if all(row["status"] == "materialized" for row in report.values()) else 1


def _report(result: dg.ExecuteInProcessResult, selection: list[dg.AssetKey]) -> dict[str, dict]:
    report: dict[str, dict[str, t.Any]] = {
        "/".join(key.path): {"status": "failed", "attempts": 0, "records": None, "state_id": ""} for key in selection
    }
    for event in result.all_events:
        name = "/".join(event.asset_key.path) if event.asset_key else None
        if event.is_step_start or event.is_step_restarted:
            step_asset = _step_asset(event.step_key)
            if step_asset in report:
                report[step_asset]["attempts"] += 1
        if event.event_type_value == "ASSET_MATERIALIZATION" and name in report:
            metadata = event.event_specific_data.materialization.metadata
            report[name].update(
                status="materialized", records=metadata["records"].value, state_id=metadata["state_id"].value
            )
    return report


def _step_asset(step_key: str | None) -> str | None:
    # the step of asset ["tap_gravito", "shop_example_com"] is "tap_gravito__shop_example_com"
    return step_key.replace("__", "/", 1) if step_key else None


if __name__ == "__main__":
    sys.exit(main())
