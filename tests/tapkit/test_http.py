"""The kit's HTTP client against a scripted HTTP server on 127.0.0.1: retries (python-backoff with the
kit's wait generator), Retry-After, error mapping, tolerated statuses, checks inside the attempt and
singer-sdk's request metrics. Every answer is a real HTTP exchange; nothing in `requests` is mocked."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typing_extensions import override

from tapkit import retry
from tapkit.errors import AuthenticationError, RetriesExhaustedError, VendorResponseError
from tapkit.http import HttpClient, Request, RetriableResponseError, VendorApi, VendorResponse
from tapkit.settings import KitSettings

#: the kit's settings as a run without a config file would have them
SETTINGS = KitSettings(
    api_url=None,
    request_timeout=5,
    max_requests_per_second=None,
    max_concurrency=1,
    retry_max_attempts=3,
    retry_backoff_seconds=0.01,
)

Answer = tuple[int, dict[str, str], bytes]


class ScriptedServer:
    """Answers each request to a path with the next scripted answer (the last one repeats)."""

    def __init__(self) -> None:
        self.script: dict[str, list[Answer]] = {}
        self.seen: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append(self.path)
                path = self.path.split("?")[0]
                answers = server.script[path]
                status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            @override
            def log_message(self, *args: t.Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> t.Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


def client(server: ScriptedServer, **overrides: t.Any) -> HttpClient:
    settings: dict[str, t.Any] = {
        "vendor": "Vendor",
        "base_url": server.url,
        "user_agent": "tap-test/1",
        "logger": logging.getLogger("tap-test"),
        "max_attempts": 3,
        "backoff_base": 0.01,
        "auth_settings": ("api_key",),
    }
    return HttpClient(**{**settings, **overrides})


OK_BODY = json.dumps({"status": "ok", "data": [{"id": 1}, {"id": 2}]}).encode()


def test_an_answer_is_typed_and_its_body_read_by_prefix(server):
    server.script["/items"] = [(200, {}, OK_BODY)]
    answer = client(server).send(Request("/items", {"page": 1}), metric_stream="items")
    assert isinstance(answer, VendorResponse)
    assert answer.status == 200 and answer.ok
    assert list(answer.items("data.item")) == [{"id": 1}, {"id": 2}]
    assert answer.scalars(["status"]) == {"status": "ok"}
    assert answer.described == "GET /items?page=1"
    assert server.seen == ["/items?page=1"]


def test_retry_after_is_waited_exactly_and_pauses_the_whole_client(server, caplog):
    server.script["/items"] = [(429, {"Retry-After": "0.4"}, b"{}"), (200, {}, OK_BODY)]
    http = client(server)
    caplog.set_level(logging.WARNING, logger="tap-test")
    started = time.monotonic()
    answer = http.send(Request("/items"), metric_stream="items")
    elapsed = time.monotonic() - started
    assert answer.status == 200
    assert 0.4 <= elapsed < 2.0
    assert server.seen == ["/items", "/items"]
    assert [r.getMessage() for r in caplog.records] == [
        "Vendor: GET /items: HTTP 429 Too Many Requests; attempt 1 of 3, retrying in 0.4 s"
    ]


def test_transient_faults_end_after_max_attempts_with_one_clear_error(server, caplog):
    server.script["/items"] = [(503, {}, b"down")]
    caplog.set_level(logging.WARNING, logger="tap-test")
    with pytest.raises(RetriesExhaustedError) as failure:
        client(server).send(Request("/items"), metric_stream="items")
    assert str(failure.value) == "Vendor: GET /items failed after 3 attempts: HTTP 503 Service Unavailable"
    assert len(server.seen) == 3
    assert len(caplog.records) == 2  # one warning per retry, none for the last attempt


def test_401_names_the_settings_and_is_not_retried(server):
    server.script["/items"] = [(401, {}, b"{}")]
    with pytest.raises(AuthenticationError) as failure:
        client(server, auth_settings=("api_key", "api_secret")).send(Request("/items"), metric_stream="items")
    assert str(failure.value) == (
        "authentication failed: check api_key and api_secret (Vendor answered HTTP 401 to GET /items)"
    )
    assert len(server.seen) == 1


def test_a_4xx_shows_the_body_start_unless_tolerated(server):
    server.script["/items"] = [(404, {}, b'{"error": "no such item"}')]
    with pytest.raises(VendorResponseError) as failure:
        client(server).send(Request("/items"), metric_stream="items")
    assert str(failure.value) == (
        "Vendor: GET /items returned HTTP 404 with an error (HTTP 404); "
        'the body starts with: \'{"error": "no such item"}\''
    )
    answer = client(server).send(Request("/items"), metric_stream="items", tolerate=(404,))
    assert answer.status == 404 and answer.document() == {"error": "no such item"}


def test_a_bad_body_is_a_clear_error_naming_the_request(server):
    server.script["/items"] = [(200, {}, b"<html>maintenance</html>")]
    answer = client(server).send(Request("/items"), metric_stream="items")
    with pytest.raises(VendorResponseError) as failure:
        list(answer.items("data.item"))
    assert str(failure.value).startswith("Vendor: GET /items returned HTTP 200 with the body is not valid JSON")
    assert str(failure.value).endswith("the body starts with: '<html>maintenance</html>'")


class EnvelopeApi(VendorApi):
    @override
    def check(self, answer: VendorResponse) -> None:
        status = answer.scalars(["status"])["status"]
        if status == "busy":
            raise RetriableResponseError("the vendor is busy", answer)
        if status != "ok":
            raise answer.error(f"status {status!r}")

    @override
    def auth_params(self) -> dict[str, t.Any]:
        return {"key": "k"}

    @override
    def auth_headers(self) -> dict[str, str]:
        return {"X-Api-Key": "h"}


def test_a_check_inside_the_attempt_is_retried_and_auth_travels_with_every_request(server):
    busy = json.dumps({"status": "busy"}).encode()
    server.script["/items"] = [(200, {}, busy), (200, {}, OK_BODY)]
    api = EnvelopeApi(client(server), SETTINGS).for_stream("items")
    answer = api.get("/items", {"page": 2})
    assert list(answer.items("data.item")) == [{"id": 1}, {"id": 2}]
    assert server.seen == ["/items?key=k&page=2", "/items?key=k&page=2"]


def test_every_attempt_counts_in_the_sdk_request_metrics_of_the_asking_stream(server, caplog):
    server.script["/items/7"] = [(500, {}, b"{}"), (200, {}, OK_BODY)]
    caplog.set_level(logging.INFO, logger="singer_sdk.metrics")
    api = EnvelopeApi(client(server), SETTINGS).for_stream("things")
    api.get("/items/7", endpoint="/items/{id}")
    points = [json.loads(r.getMessage().removeprefix("METRIC: ")) for r in caplog.records if "METRIC" in r.getMessage()]
    counts = [p for p in points if p["metric"] == "http_request_count"]
    durations = [p for p in points if p["metric"] == "http_request_duration"]
    assert sum(p["value"] for p in counts) == 2
    assert {(p["tags"]["stream"], p["tags"]["endpoint"]) for p in counts} == {("things", "/items/{id}")}
    assert [(p["tags"]["http_status_code"], p["tags"]["status"]) for p in durations] == [
        (500, "failed"),
        (200, "succeeded"),
    ]


def test_the_wait_generator_yields_retry_after_exactly_else_full_jitter():
    limiter = retry.RateLimiter(None)
    waits = retry.waits(base=1.0, limiter=limiter, rng=random.Random(3))
    next(waits)  # python-backoff primes it

    class Answer:
        headers: t.ClassVar[dict[str, str]] = {"Retry-After": "7"}

    class WithAnswer(Exception):
        answer = Answer()

    assert waits.send(WithAnswer()) == 7.0
    assert limiter._next >= time.monotonic() + 6.5  # the whole client holds back
    jittered = waits.send(ConnectionResetError())
    assert 0 <= jittered <= 2.0  # second failure: uniform(0, base * 2**1)
