"""A local Google Cloud Storage that wants a service account's token, as Google's does.

Three pieces on 127.0.0.1, all real HTTP:
- `ServiceAccount`: a throwaway RSA key (made per test, never written to disk) and the JSON key file a
  user would download from Google, its `token_uri` pointing at the token endpoint below.
- `TokenEndpoint`: Google's OAuth 2.0 token endpoint for service accounts (RFC 7523 JWT-bearer grant),
  served at the key's `token_uri`: it checks the grant type, the assertion's RS256 signature against the
  account's public key, `iss` (the account's email), `aud` (Google's token URL, which Google documents as
  the audience whatever the endpoint, and google-auth always signs), the key id, the scope and the times,
  then answers an access token. Every call is counted; `refuse_with` makes it answer an OAuth error instead,
  `refuse_after` after that many grants (a key revoked mid-run).
- `BearerGate`: a front for gcp-storage-emulator (which ignores credentials and logs no headers) that
  answers 401 to any request without `Authorization: Bearer <the token issued>`, records what it saw,
  and forwards the rest unchanged; `expire_after_reads` ends the token's life after that many object reads,
  and the objects named in `gone` answer 404.
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gcp_storage_emulator.server import create_server  # type: ignore[import-untyped]
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage  # type: ignore[import-untyped]
from typing_extensions import override

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: the assertion's audience: "always https://oauth2.googleapis.com/token" (Google, "Using OAuth 2.0 for Server to
#: Server Applications"), whatever token_uri the request goes to; google-auth signs exactly that
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
CLOCK_SKEW_SECONDS = 300  # what Google tolerates between the signer's clock and its own
PROJECT = "consent-taps-test"


def free_port() -> int:
    """A free loopback port, for servers that take no port 0 (gcp-storage-emulator)."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


def unpadded_b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class ServiceAccount:
    """A service account with a fresh 2048-bit RSA key; `key_json(token_uri)` is its JSON key file."""

    email: str = f"didomi-reader@{PROJECT}.iam.gserviceaccount.com"
    key_id: str = field(default_factory=lambda: secrets.token_hex(20))
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), repr=False
    )

    @property
    def private_key_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @property
    def pem_body(self) -> str:
        """The key's base64 body as one text (its PEM lines joined), what a leak would most likely show."""
        return "".join(line for line in self.private_key_pem.splitlines() if not line.startswith("-----"))

    def key_info(self, token_uri: str) -> dict[str, str]:
        return {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": self.key_id,
            "private_key": self.private_key_pem,
            "client_email": self.email,
            "client_id": "104729",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }

    def key_json(self, token_uri: str) -> str:
        return json.dumps(self.key_info(token_uri))


@dataclass
class Grant:
    """One call to the token endpoint and what it decided."""

    status: int
    claims: dict
    error: str = ""


class TokenEndpoint:
    """Google's token endpoint for one service account, on an ephemeral loopback port."""

    def __init__(self, account: ServiceAccount) -> None:
        self.account = account
        self.access_token = "ya29.local-" + secrets.token_urlsafe(32)
        self.grants: list[Grant] = []
        self.refuse_with: int | None = None  # an HTTP status (400, 401): the key is refused
        self.refuse_after: int | None = None  # grants answered before every later one is refused (key revoked)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/token"

    @property
    def issued(self) -> int:
        """How many access tokens were answered."""
        return sum(1 for grant in self.grants if grant.status == 200)

    def __enter__(self) -> TokenEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def decide(self, body: bytes) -> tuple[int, dict, dict]:
        """(status, answer, claims) for one token request's form body."""
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type"}, {}
        try:
            claims = self.verified_claims(form.get("assertion", ""))
        except ValueError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}, {}
        revoked = self.refuse_after is not None and self.issued >= self.refuse_after
        if self.refuse_with or revoked:
            return (
                self.refuse_with or 400,
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                claims,
            )
        return 200, {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}, claims

    def verified_claims(self, assertion: str) -> dict:
        """The claims of a JWT signed RS256 by the account's key for this endpoint; ValueError otherwise."""
        parts = assertion.split(".")
        if len(parts) != 3:
            raise ValueError("assertion is not a JWT")
        header, claims = (json.loads(unpadded_b64decode(part)) for part in parts[:2])
        if header.get("alg") != "RS256":
            raise ValueError(f"alg is {header.get('alg')!r}, not RS256")
        if header.get("kid") != self.account.key_id:
            raise ValueError("kid is not the key's private_key_id")
        try:
            self.account.private_key.public_key().verify(
                unpadded_b64decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            raise ValueError("Invalid JWT Signature.") from None
        now = time.time()
        if claims.get("iss") != self.account.email:
            raise ValueError("iss is not the service account's email")
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            raise ValueError(f"aud is not {GOOGLE_TOKEN_AUDIENCE}")
        if not claims.get("scope"):
            raise ValueError("no scope asked")
        if not (
            claims.get("iat", now + 1e9) <= now + CLOCK_SKEW_SECONDS < claims.get("exp", 0) + 2 * CLOCK_SKEW_SECONDS
        ):
            raise ValueError("iat/exp do not hold the present")
        return claims

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer, claims = endpoint.decide(body)
                with endpoint._lock:
                    endpoint.grants.append(Grant(status, claims, answer.get("error", "")))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            @override
            def log_message(self, format: str, *args: t.Any) -> None:  # quiet
                pass

        return Handler


class BearerGate:
    """Forwards to `upstream` only the requests that carry `Authorization: Bearer <token>`; 401 otherwise."""

    def __init__(self, upstream: str, token: str) -> None:
        self.upstream = urlsplit(upstream)
        self.token = token
        self.seen: list[str] = []  # the Authorization header of every request ("" when none)
        #: object reads (`alt=media`) the token serves; then it is past its lifetime: 401, as Google answers
        self.expire_after_reads: int | None = None
        self.reads = 0  # object reads admitted
        self.gone: set[str] = set()  # object names whose reads answer 404 (deleted after the listing)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def admitted(self) -> int:
        return sum(1 for header in self.seen if header == f"Bearer {self.token}")

    def __enter__(self) -> BearerGate:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def relay(self) -> None:
                authorization = self.headers.get("Authorization", "")
                with gate._lock:
                    gate.seen.append(authorization)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with gate._lock:
                    expired = gate.expire_after_reads is not None and gate.reads >= gate.expire_after_reads
                    if authorization == f"Bearer {gate.token}" and not expired and "alt=media" in self.path:
                        gate.reads += 1
                if authorization != f"Bearer {gate.token}" or expired:
                    self.answer(401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, b'{"error": {"code": 401}}')
                    return
                if "alt=media" in self.path and any(quote(name, safe="") in self.path for name in gate.gone):
                    self.answer(404, {}, b'{"error": {"code": 404, "message": "No such object"}}')
                    return
                upstream = http.client.HTTPConnection(gate.upstream.hostname, gate.upstream.port, timeout=30)
                try:
                    headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    reply = upstream.getresponse()
                    data = reply.read()
                    passed = {
                        name: value
                        for name, value in reply.getheaders()
                        if name.lower() not in ("content-length", "transfer-encoding", "connection")
                    }
                    self.answer(reply.status, passed, data)
                finally:
                    upstream.close()

            def answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay

            @override
            def log_message(self, format: str, *args: t.Any) -> None:  # quiet
                pass

        return Handler


class GcsEmulator:
    """gcp-storage-emulator on a free loopback port, holding one bucket filled with `objects`."""

    def __init__(self, bucket: str, objects: dict[str, bytes]) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        self._server = create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
        self.bucket = bucket
        self.objects = objects

    def __enter__(self) -> GcsEmulator:
        self._server.start()
        client = storage.Client(
            project="local", credentials=AnonymousCredentials(), client_options={"api_endpoint": self.url}
        )
        bucket = client.bucket(self.bucket)
        for key, data in self.objects.items():
            bucket.blob(key).upload_from_string(data)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.stop()
