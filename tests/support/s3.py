"""A local S3 for Meltano's state backend: moto's server on an ephemeral loopback port.

`S3Emulator.meltano_env(prefix)` gives the environment that points Meltano's S3 state backend at
it (the settings `state_backend.uri`, `state_backend.s3.endpoint_url`,
`state_backend.s3.aws_access_key_id`, `state_backend.s3.aws_secret_access_key`). Meltano passes the
endpoint to boto3 only when the key pair is set through those settings, so the emulator's dummy keys
are always given too. Meltano keeps each state id's state at `<prefix>/<state_id>/state.json`,
next to a `lock` object while a run holds it (docs: concepts/state_backends).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import boto3
from moto.server import ThreadedMotoServer

BUCKET = "consent-taps-state"
ACCESS_KEY_ID = "emulator-access-key"
SECRET_ACCESS_KEY = "emulator-secret-key"
REGION = "us-east-1"


@dataclass
class S3Emulator:
    host: str = "127.0.0.1"
    bucket: str = BUCKET
    _server: ThreadedMotoServer | None = field(default=None, repr=False)

    def start(self) -> S3Emulator:
        self._server = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self._server.start()
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        )

    def meltano_env(self, prefix: str) -> dict[str, str]:
        return {
            "MELTANO_STATE_BACKEND_URI": f"s3://{self.bucket}/{prefix}",
            "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": self.endpoint_url,
            "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def keys(self, prefix: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix + "/")
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def read_json(self, key: str) -> dict:
        return json.loads(self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def delete(self, key: str) -> None:
        self.client().delete_object(Bucket=self.bucket, Key=key)
