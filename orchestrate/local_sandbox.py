"""`./orchestrate/run`: the fan-out against the local sandbox, state in a local S3, into output/orchestrate/.

Runs in the repository's environment (it has the sandbox and moto); Dagster runs in orchestrate/'s own
environment, as a subprocess, exactly as on a real deployment. Both servers live only as long as this
command: `--runs 2` shows the second, incremental run per partition within one invocation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from sandbox.core import Sandbox
from sandbox.profiles import all_profiles

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "output" / "orchestrate"
BUCKET, KEY_ID, SECRET = "consent-taps-state", "emulator", "emulator"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="run the fan-out this many times (2: see it incremental)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="TAP:PARTITION",
        help="the first request of this partition gets a 401 (Dagster retries it); repeatable",
    )
    parser.add_argument("--select", default="", help="comma-separated taps or assets (default: every partition)")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(port=0).start()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3.start()
    endpoint = "http://{}:{}".format(*s3.get_host_and_port())
    boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1"
    ).create_bucket(Bucket=BUCKET)
    env = {
        **os.environ,
        "CONSENT_SANDBOX_URL": sandbox.base_url,
        "CONSENT_SANDBOX_START_DATE": (sandbox.today() - dt.timedelta(days=7)).isoformat(),
        "MELTANO_STATE_BACKEND_URI": f"s3://{BUCKET}/consent-taps",
        "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": endpoint,
        "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": KEY_ID,
        "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": SECRET,
        "MELTANO_DATABASE_URI": f"sqlite:///{OUT / 'meltano.db'}",
        "TARGET_DUCKDB_FILEPATH": str(OUT / "warehouse.duckdb"),
        "MELTANO_BIN": str(ROOT / ".venv" / "bin" / "meltano"),
    }
    try:
        for args_ in (["--plugin-type", "extractor"], ["target-duckdb"]):
            subprocess.run([env["MELTANO_BIN"], "install", *args_], cwd=ROOT, env=env, check=True, capture_output=True)
        for fault in args.fault:
            tap, _, partition = fault.partition(":")
            (vendor,) = [vendor for vendor in all_profiles() if vendor.tap == tap]
            sandbox.faults.add("401", vendor=vendor.vendor, path=vendor.fan_out_request(partition), times=1)
        status = 0
        for run in range(1, args.runs + 1):
            print(f"== run {run} of {args.runs}", flush=True)
            status |= subprocess.run(
                [
                    str(ROOT / "orchestrate" / ".venv" / "bin" / "python"),
                    "-m",
                    "consent_orchestrate.local",
                    "--select",
                    args.select,
                    "--report",
                    str(OUT / f"report-{run}.json"),
                ],
                cwd=ROOT / "orchestrate",
                env=env,
                check=False,
            ).returncode
        keys = (
            boto3.client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id=KEY_ID,
                aws_secret_access_key=SECRET,
                region_name="us-east-1",
            )
            .list_objects_v2(Bucket=BUCKET)
            .get("Contents", [])
        )
        print("state objects:", *sorted(obj["Key"] for obj in keys), sep="\n  ")
        print(f"warehouse: {OUT / 'warehouse.duckdb'}")
        return status
    finally:
        s3.stop()
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
