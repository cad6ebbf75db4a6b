"""The sandbox's HTTP machinery: one loopback server, one simulator per vendor under /<vendor>/.

A simulator is a `VendorApp`: it turns a `Request` into a `Response` and knows the ground truth
(what each stream must yield). Faults are injected per test through `Sandbox.faults` (or
`POST /_sandbox/faults`): each rule matches a vendor and a path fragment and fires a given number
of times. Every request is logged, so tests can count them. A vendor can be given a request budget per
window (`settings["<vendor>.rate_budget"]`, see `RequestBudgets`): beyond it, 429; within it, the
rate-limit headers of the chosen style.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import socket
import struct
import threading
import time
import typing as t
from dataclasses import dataclass, field
from email.message import Message
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from typing_extensions import override

from sandbox import discovery

FAULT_KINDS = (
    "429",  # Too Many Requests with Retry-After in seconds (retry_after)
    "429-date",  # Too Many Requests with Retry-After as an HTTP date
    "500",
    "502",
    "503",
    "reset",  # the connection is reset before any response
    "slow",  # the response starts after `delay` seconds (longer than the tap's timeout)
    "truncate",  # a 200 whose JSON body is cut in half
    "html",  # a 200 whose body is an HTML error page
    "empty",  # a 200 with an empty body
    "401",
    "403",
    "envelope-error",  # a 200 whose envelope carries the vendor's error status (vendor-specific)
    "break-body",  # a 200 whose connection breaks halfway through the body (Content-Length promised it all)
    "stall-body",  # a 200 whose body stops halfway for `delay` seconds, then ends normally (`pad`: JSON
    # bodies get that many bytes of leading whitespace, so that even a small one is large when it stalls)
)


#: the environment variable that pins the taps' today (tapkit/clock.py); the sandbox's clock follows it too,
#: so that a test run pinned to one day sees the same day in the simulators and in the taps
PIN_VARIABLE = "CONSENT_TAPS_TODAY"


def pinned_day() -> dt.date | None:
    """The day `CONSENT_TAPS_TODAY` pins (None when unset)."""
    value = os.environ.get(PIN_VARIABLE, "").strip()
    return dt.date.fromisoformat(value) if value else None


def default_today() -> dt.date:
    """Today for a simulator whose day no test pinned: `CONSENT_TAPS_TODAY`, else the UTC date."""
    return pinned_day() or dt.datetime.now(dt.UTC).date()


#: the value of every credential-named field a simulator's "credentials" variant adds to its records;
#: a tap must never store it (tests look for it in tables, logs and state)
VENDOR_CREDENTIAL = "VENDOR-CREDENTIAL-SENTINEL-7d41"


@dataclass
class Request:
    method: str
    path: str  # below the vendor prefix, e.g. /api/data.php
    query: dict[str, list[str]]
    headers: Message  # the handler's own: looked up case-insensitively, as HTTP headers are
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes | t.Iterable[bytes] = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None  # for streamed bodies, when known

    @classmethod
    def json(cls, payload: t.Any, status: int = 200) -> Response:
        return cls(status=status, body=json.dumps(payload, separators=(",", ":")).encode())

    def with_headers(self, **headers: str) -> Response:
        self.headers.update({name.replace("_", "-"): value for name, value in headers.items()})
        return self


class VendorApp:
    """One vendor's simulator."""

    name: str = "vendor"
    #: readings of the vendor's docs that are still open: variant name -> what it switches on.
    #: The default (no variant on) is what the docs say; each variant is the other plausible reading
    #: (often the one newer public evidence shows). Switch them with `Sandbox.set_variants`.
    VARIANTS: t.ClassVar[dict[str, str]] = {}

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    @property
    def seed(self) -> int:
        return self.sandbox.seed

    @property
    def size(self) -> int:
        return self.sandbox.size

    def today(self) -> dt.date:
        return self.sandbox.today()

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def variant(self, name: str) -> bool:
        """Whether variant `name` (one of `VARIANTS`) is switched on for this simulator."""
        if name not in self.VARIANTS:
            raise KeyError(f"{self.name} has no variant {name!r}; known: {', '.join(self.VARIANTS) or 'none'}")
        return name in self.sandbox.settings.get(f"{self.name}.variants", ())

    def envelope_error(self, request: Request) -> Response:
        return Response.json({"error": "simulated vendor error"}, status=200)

    def ground_truth(self, *args: t.Any, **kwargs: t.Any) -> dict[str, list[dict]]:  # each vendor has its own arguments
        raise NotImplementedError


@dataclass
class FaultRule:
    kind: str
    vendor: str | None = None
    path: str = ""  # substring of path+query
    times: int = 1  # -1: forever
    retry_after: float = 1.0
    delay: float = 3.0
    pad: int = 0  # stall-body: leading whitespace bytes
    credential: str = ""  # only requests carrying this value (in the query, a header or the body): a refused key

    def matches(self, vendor: str, target: str, carried: str = "") -> bool:
        wanted = self.credential in carried if self.credential else True
        return self.times != 0 and (self.vendor in (None, vendor)) and self.path in target and wanted


class Faults:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self, kind: str, *, vendor: str | None = None, path: str = "", times: int = 1, **options: t.Any
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        rule = FaultRule(kind=kind, vendor=vendor, path=path, times=times, **options)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, vendor: str, target: str, carried: str = "", *, named_only: bool = False) -> FaultRule | None:
        """The first live rule for this request (`named_only`: only rules whose path it contains)."""
        with self._lock:
            for rule in self._rules:
                if named_only and not rule.path:
                    continue
                if rule.matches(vendor, target, carried):
                    if rule.times > 0:
                        rule.times -= 1
                    return rule
        return None


#: how a vendor under a request budget (`Sandbox.settings["<vendor>.rate_budget"]`) announces it
BUDGET_HEADER_STYLES = (
    "ietf",  # IETF draft 7: `RateLimit: limit=L, remaining=R, reset=S` and `RateLimit-Policy: L;w=W`
    "ietf-split",  # the older drafts: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (+ policy)
    "x",  # `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` in seconds
    "x-epoch",  # the same with `X-RateLimit-Reset` as the Unix time the window ends
    "none",  # the budget is enforced with 429 + Retry-After only
)


class RequestBudgets:
    """Per-vendor fixed windows of at most `limit` requests, switched on per vendor with
    `Sandbox.settings["<vendor>.rate_budget"] = {"limit": 10, "window": 1.0, "headers": "ietf"}`.
    A window starts with its first request; a request beyond the budget gets 429 with `Retry-After`."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}  # vendor -> (window start, requests in it)
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()

    def take(self, vendor: str, budget: t.Mapping[str, t.Any]) -> tuple[bool, dict[str, str]]:
        """Whether this request is within the budget, and the headers its answer carries."""
        limit, window = int(budget["limit"]), float(budget.get("window", 1.0))
        style = budget.get("headers", "ietf")
        if style not in BUDGET_HEADER_STYLES:
            raise ValueError(f"unknown rate budget headers {style!r}; known: {', '.join(BUDGET_HEADER_STYLES)}")
        with self._lock:
            now = time.monotonic()
            start, used = self._windows.get(vendor, (now, 0))
            if now >= start + window:
                start, used = now, 0
            allowed = used < limit
            used += 1 if allowed else 0
            self._windows[vendor] = (start, used)
        left = start + window - now
        reset = max(1, math.ceil(left))  # whole seconds, rounded up: waiting that long always suffices
        headers = _budget_headers(style, limit, limit - used, reset, window, time.time() + left)
        if not allowed:
            headers["Retry-After"] = str(reset)
        return allowed, headers


def _budget_headers(
    style: str, limit: int, remaining: int, reset: int, window: float, ends_at: float
) -> dict[str, str]:
    policy = {"RateLimit-Policy": f"{limit};w={_seconds_text(window)}"}
    if style == "ietf":
        return {"RateLimit": f"limit={limit}, remaining={remaining}, reset={reset}", **policy}
    if style == "ietf-split":
        limits = {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(remaining), "RateLimit-Reset": str(reset)}
        return {**limits, **policy}
    if style in ("x", "x-epoch"):
        reset_text = str(math.ceil(ends_at)) if style == "x-epoch" else str(reset)
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset_text,
        }
    return {}


@dataclass
class LoggedRequest:
    vendor: str
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    received_at: float = 0.0  # time.time() when the request arrived (benchmarks time sync phases)


class Sandbox:
    """All simulators behind one loopback HTTP server."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 42,
        size: int = 1,
        today: dt.date | None = None,
        latency: float = 0.0,
    ) -> None:
        self.host = host
        self.seed = seed
        self.size = size
        self._today = today
        self.latency = latency
        self.faults = Faults()
        self.budgets = RequestBudgets()
        self.requests: list[LoggedRequest] = []
        self._log_since = 0.0  # requests received before the last reset are not logged (see dispatch)
        self.settings: dict[str, t.Any] = {}  # vendor switches, e.g. {"consentmanager.drift": "add"}
        self._apps: dict[str, VendorApp] = {}
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        for app_class in discovery.classes(VendorApp):
            self.mount(app_class(self))

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, vendor: str) -> str:
        return f"{self.base_url}/{vendor}"

    def mount(self, app: VendorApp) -> None:
        self._apps[app.name] = app

    def app(self, vendor: str) -> VendorApp:
        return self._apps[vendor]

    def today(self) -> dt.date:
        """The simulators' today: the day `set_today` pinned, else `CONSENT_TAPS_TODAY`, else the UTC date."""
        return self._today or default_today()

    def set_today(self, day: dt.date | None) -> None:
        self._today = day

    def start(self) -> Sandbox:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a clean slate between tests: no faults, no log, no switches."""
        self.faults.clear()
        self._log_since = time.time()
        self.requests.clear()
        self.settings.clear()
        self.budgets.clear()
        self.latency = 0.0
        for app in self._apps.values():
            reset = getattr(app, "reset", None)
            if reset:
                reset()

    def set_variants(self, vendor: str, *names: str) -> None:
        """Switch on exactly `names` (from the vendor's `VARIANTS`); no names: the documented default."""
        app = self.app(vendor)
        unknown = [name for name in names if name not in app.VARIANTS]
        if unknown:
            raise KeyError(f"{vendor} has no variant {', '.join(unknown)}; known: {', '.join(app.VARIANTS) or 'none'}")
        self.settings[f"{vendor}.variants"] = list(names)

    def count(self, vendor: str, path: str = "") -> int:
        return sum(1 for r in list(self.requests) if r.vendor == vendor and path in r.path)

    # -- control API over HTTP (for the main job, benchmarks and other processes) ----------------

    def control(self, request: Request) -> Response:
        action = request.path.strip("/")
        payload = json.loads(request.body or b"{}")
        if action == "faults" and request.method == "POST":
            self.faults.add(**payload)
            return Response.json({"ok": True})
        if action == "faults" and request.method == "DELETE":
            self.faults.clear()
            return Response.json({"ok": True})
        if action == "reset" and request.method == "POST":
            self.reset()
            return Response.json({"ok": True})
        if action == "settings" and request.method == "POST":
            self.latency = float(payload.pop("latency", self.latency))
            if "size" in payload:
                self.size = int(payload.pop("size"))
            self.settings.update(payload)
            return Response.json({"ok": True})
        if action == "requests":
            return Response.json([r.__dict__ for r in list(self.requests)])
        if action.startswith("truth/"):
            vendor = action.split("/", 1)[1]
            kwargs = {k: v[0] for k, v in request.query.items()}
            return Response.json(self.app(vendor).ground_truth(**kwargs))
        return Response.json({"error": "unknown control action"}, status=404)

    # -- dispatch -------------------------------------------------------------------------------

    def dispatch(self, handler: BaseHTTPRequestHandler, request_body: bytes) -> None:
        parts = urlsplit(handler.path)
        segments = parts.path.split("/", 2)
        vendor = segments[1] if len(segments) > 1 else ""
        rest = "/" + (segments[2] if len(segments) > 2 else "")
        request = Request(
            method=handler.command,
            path=rest,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=handler.headers,
            body=request_body,
        )
        if vendor == "_sandbox":
            _send(handler, self.control(request))
            return
        app = self._apps.get(vendor)
        if app is None:
            _send(handler, Response.json({"error": f"no simulator named {vendor!r}"}, status=404))
            return
        received_at = time.time()
        if self.latency:
            time.sleep(self.latency)
        # Requests a simulator serves beside the vendor's API (Didomi's export bucket: S3, not Didomi) are outside
        # the vendor's request budget, and only a fault rule that names their path reaches them.
        beside_api = bool(getattr(app, "beside_api", lambda _request: False)(request))
        budget = None if beside_api else self.settings.get(f"{vendor}.rate_budget")
        allowed, budget_headers = self.budgets.take(vendor, budget) if budget else (True, {})
        # a credential travels in the query, a header, or a body (Didomi's POST /sessions takes the key as JSON)
        carried = "\n".join([parts.query, *handler.headers.values(), request_body.decode("utf-8", "replace")])
        target = rest + "?" + parts.query
        rule = self.faults.take(vendor, target, carried, named_only=beside_api) if allowed else None
        if not allowed:
            response: Response | None = Response.json({"error": "request budget exceeded"}, status=429)
        else:
            response = self._fault_response(rule, app, request, handler) if rule else app.handle(request)
        if response is not None:
            response.headers.update(budget_headers)
        # A delayed answer to a request from before the last reset (a tap that gave up waiting, in an
        # earlier test) must not land in the fresh log.
        if received_at >= self._log_since:
            self.requests.append(
                LoggedRequest(
                    vendor, request.method, rest, request.query, response.status if response else 0, received_at
                )
            )
        if response is not None:
            midway = rule.kind if rule is not None and rule.kind in ("break-body", "stall-body") else None
            _send(handler, response, truncate=rule is not None and rule.kind == "truncate", midway=midway, fault=rule)

    def _fault_response(
        self, rule: FaultRule, app: VendorApp, request: Request, handler: BaseHTTPRequestHandler
    ) -> Response | None:
        kind = rule.kind
        if kind == "429":
            return Response.json({"error": "rate limited"}, status=429).with_headers(
                Retry_After=_seconds_text(rule.retry_after)
            )
        if kind == "429-date":
            when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=rule.retry_after)
            return Response.json({"error": "rate limited"}, status=429).with_headers(
                Retry_After=format_datetime(when, usegmt=True)
            )
        if kind in ("500", "502", "503"):
            return Response(status=int(kind), body=b"<html><body>Server error</body></html>", content_type="text/html")
        if kind in ("401", "403"):
            return Response.json({"error": "not authorized", "status": int(kind)}, status=int(kind))
        if kind == "reset":
            _reset_connection(handler)
            return None
        if kind == "slow":
            time.sleep(rule.delay)
            return app.handle(request)
        if kind in ("truncate", "break-body", "stall-body"):
            return app.handle(request)
        if kind == "html":
            return Response(
                body=b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>", content_type="text/html"
            )
        if kind == "empty":
            return Response(body=b"")
        if kind == "envelope-error":
            return app.envelope_error(request)
        raise AssertionError(kind)


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _reset_connection(handler: BaseHTTPRequestHandler) -> None:
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


def _send(
    handler: BaseHTTPRequestHandler,
    response: Response,
    *,
    truncate: bool = False,
    midway: str | None = None,
    fault: FaultRule | None = None,
) -> None:
    body = response.body
    if truncate:
        data = body if isinstance(body, bytes) else b"".join(body)
        body = data[: max(1, len(data) // 2)]
    if midway is not None and fault is not None:
        _send_midway_fault(handler, response, fault)
        return
    try:
        handler.send_response(response.status)
        handler.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        if isinstance(body, bytes):
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        elif response.length is not None:
            handler.send_header("Content-Length", str(response.length))
            handler.end_headers()
            for chunk in body:
                handler.wfile.write(chunk)
        else:
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for chunk in body:
                if chunk:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


def _send_midway_fault(handler: BaseHTTPRequestHandler, response: Response, fault: FaultRule) -> None:
    """The whole body announced, half of it sent; then the connection breaks, or the rest follows after `delay`."""
    body = response.body
    data = body if isinstance(body, bytes) else b"".join(body)
    if fault.pad:
        data = b" " * fault.pad + data
    half = max(1, len(data) // 2)
    try:
        handler.send_response(response.status)
        handler.send_header("Content-Type", response.content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data[:half])
        handler.wfile.flush()
        if fault.kind == "break-body":
            _reset_connection(handler)
            return
        time.sleep(fault.delay)
        handler.wfile.write(data[half:])
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


def _make_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without TCP_NODELAY, Nagle's algorithm and delayed ACKs add ~40 ms to every keep-alive response.
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request_body = self.rfile.read(length) if length else b""
            sandbox.dispatch(self, request_body)

        do_GET = do_POST = do_DELETE = do_PUT = _handle

        @override
        def log_message(self, format: str, *args: t.Any) -> None:
            pass  # the request log is `Sandbox.requests`

    return Handler
