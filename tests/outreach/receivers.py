"""Real receivers on 127.0.0.1 for delivery tests: an HTTP webhook server, an SMTP server
(aiosmtpd), and a TLS-terminating HTTPS proxy that stands in for the DingTalk and WeCom hosts.

Each records what arrived with its idempotency key, can go down (even in the middle of a
delivery run) and come back on the same port.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.postgres import free_port

REF = re.compile(r"消息编号：([0-9a-f]{16})")


@dataclass
class Received:
    key: str
    channel: str
    target: str  # path, host or mailbox
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    path: str = ""


class _Handler(BaseHTTPRequestHandler):
    receiver: HttpReceiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:  # the proxy half: terminate TLS, then read the request inside
        self.tunnel_host = self.path
        self.send_response(200, "Connection established")
        self.end_headers()
        context = self.receiver.tls_context
        assert context is not None, "not a TLS proxy"
        self.connection = context.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        self.wfile = self.connection.makefile("wb", 0)
        self.close_connection = False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode("utf-8")
        body = json.loads(raw) if raw else None
        self.receiver.take(self, body)


class HttpReceiver:
    """A webhook endpoint (or, with tls=True, an HTTPS proxy for the robot vendors' hosts)."""

    def __init__(self, tls: bool = False) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.status = 200
        self.down_after: int | None = None  # go down after answering this many requests
        self.drop_response_at: set[int] = set()  # 1-based requests taken but never answered
        # 1-based requests held unanswered until ``release`` is set (``held`` says one arrived):
        # a sender can be killed while the receiver has the message but before it is answered
        self.hold_at: set[int] = set()
        self.held = threading.Event()
        self.release = threading.Event()
        self.tls_context = _self_signed_context() if tls else None
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpReceiver:
        handler = type("Handler", (_Handler,), {"receiver": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def up(self) -> bool:
        return self._server is not None

    def take(self, request: _Handler, body: Any) -> None:
        tunnel = getattr(request, "tunnel_host", None)
        key = request.headers.get("X-Idempotency-Key") or (body or {}).get("idempotency_key")
        if not key:  # robots carry the key only in their text
            text = json.dumps(body, ensure_ascii=False)
            match = REF.search(text)
            key = match.group(1) if match else ""
        with self._lock:
            self.received.append(
                Received(
                    key,
                    "robot" if tunnel else "webhook",
                    tunnel or request.path,
                    body,
                    dict(request.headers),
                    request.path,
                )
            )
            n = len(self.received)
        if n in self.hold_at:
            self.held.set()
            self.release.wait(60)
        if n in self.drop_response_at:
            request.close_connection = True
            request.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = b'{"errcode": 0, "errmsg": "ok"}'
        try:
            request.send_response(self.status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
            request.wfile.flush()
        except OSError:  # the sender is gone (killed while held)
            return
        if self.down_after is not None and n >= self.down_after:
            self.down_after = None
            self.stop()  # down in the middle of the sender's run: the next request is refused

    def keys(self) -> list[str]:
        return [r.key for r in self.received]


class SmtpReceiver:
    """An SMTP server (aiosmtpd) that keeps every message with its X-Idempotency-Key header."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(message.get("Subject", ""))))
        text = ""
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode("utf-8")
                break
        self.received.append(
            Received(
                message.get("X-Idempotency-Key", ""),
                "email",
                ",".join(envelope.rcpt_tos),
                {"subject": subject, "text": text},
                dict(message.items()),
            )
        )
        return "250 OK"

    def start(self) -> SmtpReceiver:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def keys(self) -> list[str]:
        return [r.key for r in self.received]


def _self_signed_context() -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lowinc-test-proxy")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="lowinc-tls-"))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    shutil.rmtree(folder)
    return context
