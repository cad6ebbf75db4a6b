"""tap-didomi's export streams from a GCS bucket: gcp-storage-emulator (PyPI) serving the simulator's objects."""

from __future__ import annotations

import socket

import pytest

from sandbox.didomi import BUCKET, PREFIX
from tests.didomi.support import TAP, config, truth
from tests.didomi.test_sync import assert_exact
from tests.support.singer import run_tap

EXPORT_STREAMS = ("export_users", "export_events", "export_proofs", "cmp_hourly_metrics")


@pytest.fixture
def gcs_bucket(sandbox):
    """An emulated GCS server holding exactly what the simulator's S3 bucket holds; yields its URL."""
    emulator = pytest.importorskip("gcp_storage_emulator.server")
    storage = pytest.importorskip("google.cloud.storage")
    from google.auth.credentials import AnonymousCredentials

    with socket.socket() as probe_socket:  # the emulator takes no port 0: borrow a free one
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        client = storage.Client(
            project="local", credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
        )
        bucket = client.bucket(BUCKET)
        for key, data in sandbox.app("didomi").bucket_objects().items():
            bucket.blob(key).upload_from_string(data)
        yield url
    finally:
        server.stop()


def test_export_streams_read_a_gcs_bucket_exactly(sandbox, gcs_bucket):
    settings = config(
        sandbox,
        export_bucket_url=f"gs://{BUCKET}/{PREFIX}",
        gcs_endpoint_url=gcs_bucket,
        s3_endpoint_url=None,
        consents_api=False,
    )
    run = run_tap(TAP, {key: value for key, value in settings.items() if value is not None})
    assert run.returncode == 0, run.stderr[-2000:]
    expected = truth(sandbox, start_date=settings["start_date"])
    assert_exact(run, expected, EXPORT_STREAMS)
    assert sandbox.count("didomi", "/s3") == 0  # every export row came from GCS
