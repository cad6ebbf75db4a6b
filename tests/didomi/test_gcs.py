"""tap-didomi's export streams from a GCS bucket: gcp-storage-emulator (PyPI) serving the simulator's objects,
read anonymously and with a service account's JSON key (a local token endpoint checks the signed grant, and a
gate before the emulator admits only the token it issued); bad keys and refused keys end on one line."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from google.auth import crypt, jwt

from sandbox.didomi import BATCH_EXPORT, BUCKET, PREFIX
from tests.didomi.support import TAP, config, truth
from tests.didomi.test_sync import app, assert_exact, by_key
from tests.support.gcs import GOOGLE_TOKEN_AUDIENCE, JWT_BEARER, BearerGate, GcsEmulator, ServiceAccount, TokenEndpoint
from tests.support.singer import TapRun, run_tap

EXPORT_STREAMS = ("export_users", "export_events", "export_proofs", "cmp_hourly_metrics")
SETTING = "gcs_service_account_json"


@pytest.fixture
def gcs_bucket(sandbox):
    """An emulated GCS server holding exactly what the simulator's S3 bucket holds; yields its URL."""
    with GcsEmulator(BUCKET, sandbox.app("didomi").bucket_objects()) as emulator:
        yield emulator.url


@pytest.fixture
def account() -> ServiceAccount:
    return ServiceAccount()


@pytest.fixture
def token_endpoint(account):
    with TokenEndpoint(account) as endpoint:
        yield endpoint


@pytest.fixture
def gated_bucket(gcs_bucket, token_endpoint):
    """The emulator behind a gate that wants `Authorization: Bearer <the token endpoint's token>`."""
    with BearerGate(gcs_bucket, token_endpoint.access_token) as gate:
        yield gate


def gcs_settings(sandbox, endpoint: str, **overrides) -> dict:
    settings = config(
        sandbox,
        export_bucket_url=f"gs://{BUCKET}/{PREFIX}",
        gcs_endpoint_url=endpoint,
        s3_endpoint_url=None,
        consents_api=False,
        **overrides,
    )
    return {key: value for key, value in settings.items() if value is not None}


def assert_one_clear_line(run: TapRun, *words: str) -> str:
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    line = run.last_stderr_line
    assert line.startswith(f"{TAP}: error:"), run.stderr[-2000:]
    for word in words:
        assert word in line, line
    return line


def assert_nothing_shows(run: TapRun, *secret_texts: str) -> None:
    outputs = {"stdout": run.stdout, "stderr": run.stderr, "state": json.dumps(run.last_state)}
    for secret_text in secret_texts:
        for where, text in outputs.items():
            assert secret_text not in text, f"a secret shows in the tap's {where}"


def test_export_streams_read_a_gcs_bucket_exactly(sandbox, gcs_bucket):
    settings = gcs_settings(sandbox, gcs_bucket)
    run = run_tap(TAP, settings)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = truth(sandbox, start_date=settings["start_date"])
    assert_exact(run, expected, EXPORT_STREAMS)
    assert sandbox.count("didomi", "/s3") == 0  # every export row came from GCS


def test_a_service_account_key_reads_the_bucket_with_the_token_it_is_granted(
    sandbox, account, token_endpoint, gated_bucket
):
    key = account.key_json(token_endpoint.url)
    settings = gcs_settings(sandbox, gated_bucket.url, **{SETTING: key})
    # DEBUG: google-auth and urllib3 log what they send and receive; none of it may show a secret either
    run = run_tap(TAP, settings, env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 0, run.stderr[-2000:]

    expected = truth(sandbox, start_date=settings["start_date"])
    assert_exact(run, expected, EXPORT_STREAMS)
    assert sandbox.count("didomi", "/s3") == 0

    # Every grant was a valid RS256 JWT-bearer assertion of this account for this endpoint (else it would be 400),
    # and one token (an hour long) serves the whole run, its parallel listings included.
    grants = token_endpoint.grants
    assert [grant.status for grant in grants] == [200], [grant.error for grant in grants]
    assert {(grant.claims["iss"], grant.claims["aud"]) for grant in grants} == {(account.email, GOOGLE_TOKEN_AUDIENCE)}
    assert grants[0].claims["scope"] == "https://www.googleapis.com/auth/devstorage.read_only"  # reading is all it asks
    # Every request to the bucket carried that token (the gate answers 401 to any other).
    assert gated_bucket.seen and gated_bucket.admitted == len(gated_bucket.seen)
    assert gated_bucket.admitted > token_endpoint.issued

    assert "POST /token" in run.stderr  # the DEBUG log really shows the HTTP traffic it is searched for
    assert_nothing_shows(
        run,
        account.private_key_pem,
        account.pem_body,
        account.pem_body[200:240],  # a distinctive slice, as a partial quote would show it
        token_endpoint.access_token,
        key,
    )


@pytest.mark.parametrize("status", [400, 401])
def test_a_key_the_token_endpoint_refuses_ends_on_one_authentication_line(
    sandbox, account, token_endpoint, gated_bucket, status
):
    token_endpoint.refuse_with = status
    key = account.key_json(token_endpoint.url)
    run = run_tap(TAP, gcs_settings(sandbox, gated_bucket.url, **{SETTING: key}))
    assert_one_clear_line(run, f"gs://{BUCKET}", SETTING, "refused", "invalid_grant")
    assert [grant.status for grant in token_endpoint.grants] == [status]  # the first refusal stops the run
    assert gated_bucket.admitted == 0  # no token, no request got through
    assert not any(run.records(stream) for stream in EXPORT_STREAMS)  # no export row without the token
    assert_nothing_shows(run, account.private_key_pem, account.pem_body, account.pem_body[200:240], key)


def test_a_key_that_is_not_json_ends_on_one_line_without_its_text(sandbox, gcs_bucket):
    key = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ-unclosed-2f9c'
    run = run_tap(TAP, gcs_settings(sandbox, gcs_bucket, **{SETTING: key}))
    assert_one_clear_line(run, SETTING, "not JSON")
    assert_nothing_shows(run, key, "MIIEvQ-unclosed-2f9c")


def test_a_key_without_its_private_key_and_email_names_what_it_lacks(sandbox, account, gcs_bucket):
    info = account.key_info("http://127.0.0.1:9/token")
    del info["private_key"], info["client_email"]
    key = json.dumps(info)
    line = assert_one_clear_line(run_tap(TAP, gcs_settings(sandbox, gcs_bucket, **{SETTING: key})), SETTING)
    assert line.endswith("it lacks client_email, private_key")
    assert account.key_id not in line


def test_a_key_whose_private_key_is_no_key_ends_on_one_line_without_it(sandbox, account, gcs_bucket):
    info = account.key_info("http://127.0.0.1:9/token")
    info["private_key"] = "-----BEGIN PRIVATE KEY-----\nbm90LWEta2V5LTdlMWE=\n-----END PRIVATE KEY-----\n"
    key = json.dumps(info)
    run = run_tap(TAP, gcs_settings(sandbox, gcs_bucket, **{SETTING: key}))
    assert_one_clear_line(run, SETTING, "private_key is not a PEM private key")
    assert_nothing_shows(run, key, "bm90LWEta2V5LTdlMWE")


def signed(account: ServiceAccount, claims: dict) -> str:
    """A JWT of `claims` signed RS256 with the account's key (google-auth's signer), valid for an hour from now."""
    now = int(time.time())
    signer = crypt.RSASigner.from_string(account.private_key_pem, key_id=account.key_id)
    return jwt.encode(signer, {"iat": now, "exp": now + 3600, **claims}).decode()


def grant_form(grant_type: str, assertion: str) -> bytes:
    return urlencode({"grant_type": grant_type, "assertion": assertion}).encode()


def test_the_token_endpoint_refuses_what_google_refuses(account, token_endpoint):
    """The endpoint the tests above lean on: a wrong grant type, another key's signature, another issuer or
    audience are each refused; the right assertion is granted."""
    claims = {"iss": account.email, "aud": GOOGLE_TOKEN_AUDIENCE, "scope": "https://www.googleapis.com/auth/devstorage"}
    impostor = ServiceAccount(key_id=account.key_id)  # same key id, another key

    def status(grant_type: str, assertion: str) -> int:
        return token_endpoint.decide(grant_form(grant_type, assertion))[0]

    assert status(JWT_BEARER, signed(account, claims)) == 200
    assert status("client_credentials", signed(account, claims)) == 400
    assert status(JWT_BEARER, signed(impostor, claims)) == 400
    assert status(JWT_BEARER, signed(account, {**claims, "iss": "someone@example.com"})) == 400
    assert status(JWT_BEARER, signed(account, {**claims, "aud": token_endpoint.url})) == 400
    assert status(JWT_BEARER, signed(account, {**claims, "exp": int(time.time()) - 3600})) == 400


def test_a_token_renewal_refused_mid_run_ends_on_one_line_and_keeps_what_was_read(
    sandbox, account, token_endpoint, gated_bucket
):
    """The hour-long token runs out between two files of one partition (the gate answers 401 to it, as Google
    does past its lifetime; google-auth renews any token with less than 3m45s left before each request, so a
    short expires_in would renew at the first listing, not mid-read), and the renewal is refused: the run stops
    on one authentication line naming the bucket, the key being read and the setting. What was written before
    is exact, and the state covers only whole days."""
    batch_days = sorted(day for day in app(sandbox).export_days() if app(sandbox).complete(day))
    first_day, failing_day = batch_days[0], batch_days[1]
    files_of = {day: app(sandbox).partition_files(BATCH_EXPORT, day, "users") for day in batch_days}
    assert len(files_of[first_day]) == len(files_of[failing_day]) == 2  # the test reads 3 files, then the 4th fails
    # export_users (the first export stream) reads its files day by day, each in two ranged reads (its bytes, then
    # the 416 that ends it): the token serves the first day's two files and the failing day's first
    gated_bucket.expire_after_reads = 6
    token_endpoint.refuse_after = 1
    key = account.key_json(token_endpoint.url)
    settings = gcs_settings(sandbox, gated_bucket.url, **{SETTING: key})
    run = run_tap(TAP, settings)

    failing_key = f"{PREFIX}/export-id={BATCH_EXPORT}/date={failing_day.isoformat()}/users/"
    line = assert_one_clear_line(run, f"gs://{BUCKET}", SETTING, "refused", "invalid_grant", "while reading")
    assert failing_key in line
    assert [grant.status for grant in token_endpoint.grants] == [200, 400]  # one renewal asked, refused, no retry
    assert gated_bucket.reads == 6

    expected = truth(sandbox, start_date=settings["start_date"])
    written = by_key("export_users", run.records("export_users"))
    truth_users = by_key("export_users", expected["export_users"])
    assert written.items() <= truth_users.items()  # every record written is exact
    whole_day = {key: row for key, row in truth_users.items() if row["partition_date"] == first_day.isoformat()}
    assert whole_day.items() <= written.items()  # the first day whole, and of the failing day its first file only
    assert len(written) == len(whole_day) + len(app(sandbox).export_records("users", failing_day, 0))
    bookmarks = {
        entry["context"]["export_id"]: entry.get("replication_key_value")
        for entry in run.last_state["bookmarks"]["export_users"]["partitions"]
    }
    assert bookmarks[BATCH_EXPORT] == first_day.isoformat()  # the failing day is read again next run
    assert not any(run.records(stream) for stream in ("export_events", "export_proofs", "cmp_hourly_metrics"))
    assert_nothing_shows(
        run, account.private_key_pem, account.pem_body, account.pem_body[200:240], token_endpoint.access_token, key
    )


def test_a_gcs_file_gone_between_listing_and_read_fails_its_export_id_alone(
    sandbox, account, token_endpoint, gated_bucket
):
    days = sorted(day for day in app(sandbox).export_days() if app(sandbox).complete(day))
    failing_day = days[1]
    _first, (name, _index) = app(sandbox).partition_files(BATCH_EXPORT, failing_day, "users")
    key = f"{PREFIX}/export-id={BATCH_EXPORT}/date={failing_day.isoformat()}/users/{name}"
    gated_bucket.gone = {key}
    settings = gcs_settings(sandbox, gated_bucket.url, **{SETTING: account.key_json(token_endpoint.url)})
    run = run_tap(TAP, settings)

    line = assert_one_clear_line(run, f"gs://{BUCKET}", key, "was listed but is gone", "HTTP 404")
    assert "1 part(s) failed" in line
    expected = truth(sandbox, start_date=settings["start_date"])
    assert_exact(run, expected, ("export_events", "export_proofs", "cmp_hourly_metrics"))
    written = by_key("export_users", run.records("export_users"))
    before = {
        key: row
        for key, row in by_key("export_users", expected["export_users"]).items()
        if row["partition_date"] < failing_day.isoformat()
    }
    assert before and before.items() <= written.items()
    bookmarks = {
        entry["context"]["export_id"]: entry.get("replication_key_value")
        for entry in run.last_state["bookmarks"]["export_users"]["partitions"]
    }
    assert bookmarks[BATCH_EXPORT] == days[0].isoformat()
