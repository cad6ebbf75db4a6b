"""Pre-built answers: record every answer a tap gets from the sandbox once, then serve the same bytes
from memory to the tap and to the floors, so that neither waits for the simulator building pages.

A recording is a directory: `index.json` (each request in order: method, target, status, headers,
the body's file) and one file per answer body. The replay server (`python -m bench.replay DIR PORT`,
its own process) loads every body into memory before it says it is ready, answers a request by
(method, target) with the recorded status, headers and bytes (`Content-Length` set), and serves
the answers of a key that was asked several times (a job polled) in their recorded order;
`POST /_replay/reset` starts every key's order again before each timed run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from typing_extensions import override

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


# -- recording ---------------------------------------------------------------------------------------


class Recorder:
    """A forwarding proxy in front of the sandbox that writes each answer's body to `directory`."""

    def __init__(self, upstream: str, directory: Path) -> None:
        self.upstream = upstream.rstrip("/")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.entries: list[dict] = []
        self._lock = threading.Lock()
        self._session = requests.Session()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            @override
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sent = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                with recorder._lock:
                    number = len(recorder.entries)
                    recorder.entries.append({})
                answer = recorder._session.request(
                    self.command, recorder.upstream + self.path, data=sent or None, headers=headers, stream=True
                )
                name = f"{number:05d}.body"
                size = 0
                with (recorder.directory / name).open("wb") as out:
                    for chunk in answer.raw.stream(1024 * 1024, decode_content=False):
                        out.write(chunk)
                        size += len(chunk)
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                recorder.entries[number] = {
                    "method": self.command,
                    "target": self.path,
                    "sent": sent.decode("latin-1"),
                    "status": answer.status_code,
                    "headers": kept,
                    "body": name,
                    "size": size,
                }
                self.send_response(answer.status_code)
                for key, value in kept.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                with (recorder.directory / name).open("rb") as body:
                    while chunk := body.read(1024 * 1024):
                        self.wfile.write(chunk)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def save(self) -> list[dict]:
        self._server.shutdown()
        self._server.server_close()
        (self.directory / "index.json").write_text(json.dumps(self.entries, indent=1))
        return self.entries


# -- replaying -----------------------------------------------------------------------------------------


def serve(directory: Path, port: int) -> None:
    entries = json.loads((directory / "index.json").read_text())
    answers: dict[tuple[str, str], list[tuple[int, dict, bytes]]] = {}
    for entry in entries:
        body = (directory / entry["body"]).read_bytes()  # every byte in memory before the first request
        answers.setdefault((entry["method"], entry["target"]), []).append((entry["status"], entry["headers"], body))
    served: dict[tuple[str, str], int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall between

        @override
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if self.path == "/_replay/reset":
                with lock:
                    served.clear()
                self._send(200, {}, b"{}")
                return
            key = (self.command, self.path)
            recorded = answers.get(key)
            if recorded is None:
                self._send(404, {"Content-Type": "text/plain"}, f"not recorded: {self.command} {self.path}".encode())
                return
            with lock:
                turn = served.get(key, 0)
                served[key] = turn + 1
            status, headers, body = recorded[min(turn, len(recorded) - 1)]
            self._send(status, headers, body)

        def _send(self, status: int, headers: dict, body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            view = memoryview(body)
            for offset in range(0, len(view), 4 * 1024 * 1024):
                self.wfile.write(view[offset : offset + 4 * 1024 * 1024])

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"replaying {len(entries)} answers on {server.server_address[1]}", flush=True)
    server.serve_forever()


class Replay:
    """The replay server in its own process (it shares no GIL with the tap or the floor)."""

    def __init__(self, directory: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.replay", str(directory), "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise SystemExit(f"the replay server of {directory} did not start")
        self.url = f"http://127.0.0.1:{line.split()[-1]}"

    def reset(self) -> None:
        for _ in range(50):
            try:
                requests.post(f"{self.url}/_replay/reset", timeout=5).raise_for_status()
                return
            except requests.ConnectionError:
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]))
