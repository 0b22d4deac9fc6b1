"""A real support-call API on loopback HTTP, for the adapter's integration tests.

    server = CallsServer(calls, token="t0k", page_size=1000).start()
    server.url                       # http://127.0.0.1:<port>
    server.fail_on(page=2, mode="500")   # next request for page 2 answers 500 (once)
    server.stop(); server.start()    # down, then up again on the same port
    server.requests                  # what it was asked: [{"path", "params", "auth", "status"}]

Calls are served ordered by (call_date, call_id), filtered by `call_date >= since`, paged from 1.
Failure modes: "500", "drop" (close the connection without answering), "malformed" (200 with
broken JSON), "missing_keys" (200 with JSON lacking next_page), "slow" (answer after `delay` s).
"""
from __future__ import annotations

import json
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    """Remembers its open connections, so stopping it really cuts keep-alive clients off."""

    daemon_threads = True

    def __init__(self, *args, **kwargs):
        self.open_sockets: set[socket.socket] = set()
        super().__init__(*args, **kwargs)

    def get_request(self):
        sock, addr = super().get_request()
        self.open_sockets.add(sock)
        return sock, addr

    def shutdown_request(self, request) -> None:
        self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):  # a client that gave up
            super().handle_error(request, client_address)

    def cut_connections(self) -> None:
        for sock in list(self.open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


class CallsServer:
    def __init__(self, calls: list[dict] | None = None, token: str = "test-token", page_size: int = 1000):
        self.token = token
        self.page_size = page_size
        self.requests: list[dict] = []
        self.port = 0
        self._calls: list[dict] = []
        self._failures: list[dict] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.add_calls(calls or [])

    # data and faults -------------------------------------------------------------------------
    def add_calls(self, calls: list[dict]) -> None:
        """Calls as the API serves them: call_id, customer_id, call_date (ISO), duration_s, reason_code."""
        with self._lock:
            self._calls.extend(dict(c) for c in calls)
            self._calls.sort(key=lambda c: (_parse_time(c["call_date"]), c["call_id"]))

    @property
    def call_ids(self) -> set[str]:
        with self._lock:
            return {c["call_id"] for c in self._calls}

    def fail_on(self, page: int | None = None, mode: str = "500", times: int = 1, delay: float = 2.0) -> None:
        """Make the next `times` requests (for `page`, or any page when None) fail in `mode`."""
        with self._lock:
            self._failures.append({"page": page, "mode": mode, "times": times, "delay": delay})

    def _take_failure(self, page: int) -> dict | None:
        with self._lock:
            for f in self._failures:
                if f["page"] in (None, page) and f["times"] > 0:
                    f["times"] -= 1
                    return f
        return None

    def _page(self, since: datetime | None, page: int) -> dict:
        with self._lock:
            rows = [c for c in self._calls if since is None or _parse_time(c["call_date"]) >= since]
        start = (page - 1) * self.page_size
        chunk = rows[start:start + self.page_size]
        return {"calls": chunk, "next_page": page + 1 if start + self.page_size < len(rows) else None}

    # lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "CallsServer":
        """Serve on a free port the first time, on the same port after a stop."""
        self._httpd = _Server(("127.0.0.1", self.port), _handler(self))
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.cut_connections()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> "CallsServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _handler(server: CallsServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            entry = {"path": parts.path, "params": params, "auth": self.headers.get("Authorization"), "status": None}
            server.requests.append(entry)
            if parts.path.rstrip("/") != "/calls":
                return self._send(entry, 404, {"error": "not found"})
            if self.headers.get("Authorization") != f"Bearer {server.token}":
                return self._send(entry, 401, {"error": "invalid token"})
            try:
                page = int(params.get("page", "1"))
                since = _parse_time(params["since"]) if "since" in params else None
            except ValueError as exc:
                return self._send(entry, 400, {"error": str(exc)})
            failure = server._take_failure(page)
            if failure:
                mode = failure["mode"]
                if mode == "drop":
                    entry["status"] = "dropped"
                    self.close_connection = True
                    return
                if mode == "500":
                    return self._send(entry, 500, {"error": "internal error"})
                if mode == "malformed":
                    return self._send(entry, 200, b'{"calls": [{"call_id": "x"')
                if mode == "missing_keys":
                    return self._send(entry, 200, {"calls": []})
                if mode == "slow":
                    time.sleep(failure["delay"])
            self._send(entry, 200, server._page(since, page))

        def _send(self, entry: dict, status: int, body) -> None:
            entry["status"] = status
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
