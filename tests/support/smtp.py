"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and a loopback webhook receiver.

    with SmtpServer() as smtp:          # smtp.port; smtp.messages -> [ReceivedMail]
        ...; smtp.stop(); smtp.start()  # stop/start on the same port to simulate an outage
    with WebhookServer() as hook:       # hook.url; hook.posts -> [dict]; hook.status = 500 to fail
"""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    """aiosmtpd cannot bind port 0 and report it: take a free port from the OS, then release it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ReceivedMail:
    envelope_from: str
    rcpt_tos: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_body(("plain",)).get_content()


class _Handler:
    def __init__(self, sink: list):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        self.sink.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos),
                                      email.message_from_bytes(envelope.original_content or envelope.content,
                                                             policy=email.policy.default)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[ReceivedMail] = []
        self._controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self._controller = Controller(_Handler(self.messages), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class WebhookServer:
    """Loopback HTTP server that records JSON POST bodies and answers `status` (200 by default)."""

    def __init__(self):
        self.posts: list[dict] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                if owner.status == 200:
                    owner.posts.append(json.loads(self.rfile.read(length)))
                else:
                    self.rfile.read(length)
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if owner.status == 200 else b"invalid_payload")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/services/T000/B000/secret"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
