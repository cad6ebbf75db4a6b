"""The environment's proxy settings (HTTP_PROXY, NO_PROXY) still apply: the kit reads them once per host
instead of on every request, and must not lose them doing so."""

from __future__ import annotations

import threading
import typing as t
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typing_extensions import override

from tap_gravito.tap import TapGravito
from tests.gravito.truth import SANDBOX_CONFIG


class ForwardingProxy:
    """A plain HTTP proxy on loopback that forwards GETs and counts them."""

    def __init__(self) -> None:
        self.forwarded: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.forwarded.append(self.path)  # a proxy receives the absolute URL
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")}
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(urllib.request.Request(self.path, headers=headers), timeout=30) as upstream:
                    body = upstream.read()
                    self.send_response(upstream.status)
                    self.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            @override
            def log_message(self, *args: t.Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CollectingWriter:
    def __init__(self) -> None:
        self.records = 0

    def write_message(self, message: t.Any) -> None:
        self.records += getattr(message, "type", None) == "RECORD"


@pytest.fixture
def proxy():
    server = ForwardingProxy()
    yield server
    server.close()


def sync(sandbox) -> int:
    writer = CollectingWriter()
    config = {**SANDBOX_CONFIG, "access_token": "gravito-token", "api_url": sandbox.url("gravito")}
    TapGravito(config=config, message_writer=writer).sync_all()
    return writer.records


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_every_request_goes_through_the_proxy_the_environment_names(sandbox, proxy, monkeypatch, variable):
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    direct = sync(sandbox)
    requests_direct = sandbox.count("gravito")
    assert proxy.forwarded == []

    sandbox.reset()
    monkeypatch.setenv(variable, proxy.url)
    assert sync(sandbox) == direct > 0
    assert len(proxy.forwarded) == sandbox.count("gravito") == requests_direct
    assert all(path.startswith(sandbox.url("gravito")) for path in proxy.forwarded)


def test_no_proxy_sends_the_requests_direct(sandbox, proxy, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert sync(sandbox) > 0
    assert sandbox.count("gravito") > 0
    assert proxy.forwarded == []
