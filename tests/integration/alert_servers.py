"""Real local servers standing in for Slack's incoming webhook and for an SMTP relay.

- ``FakeSlack``: an ``http.server.ThreadingHTTPServer`` on 127.0.0.1 that records every JSON
  body and answers from a script of (status, body, headers), then 200 ``ok``.
- ``SmtpSink``: an aiosmtpd ``Controller`` on 127.0.0.1 whose handler keeps every message,
  with optional AUTH (one user/password), STARTTLS or implicit TLS.
- ``self_signed_cert``: a certificate for 127.0.0.1 / localhost made at test time, with
  ``cryptography`` when it is installed, else ``openssl req``.

Neither server logs the requests it gets (the webhook path is the secret under test).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

WEBHOOK_PATH = "/services/T0ALERTS/B0VERIFIER/s3cr3tW3bh00kT0k3n"

Reply = tuple[int, str, dict[str, str]]


@dataclass
class SlackRequest:
    path: str
    body: dict[str, Any]
    at: float


class FakeSlack:
    """Answers the scripted replies in order, then 200 ``ok`` forever."""

    def __init__(self) -> None:
        self.requests: list[SlackRequest] = []
        self.script: list[Reply] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with fake._lock:
                    fake.requests.append(
                        SlackRequest(self.path, json.loads(raw), datetime.now(UTC).timestamp())
                    )
                    status, body, headers = fake.script.pop(0) if fake.script else (200, "ok", {})
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the request line holds the webhook path: keep stderr clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{WEBHOOK_PATH}"

    def reply(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.script.append((status, body, headers or {}))

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: bytes | None


@dataclass
class SmtpSink:
    """An SMTP server on 127.0.0.1 collecting messages. ``user``/``password`` turn on AUTH."""

    user: str | None = None
    password: str | None = None
    tls_context: ssl.SSLContext | None = None  # offered through STARTTLS
    implicit_tls: bool = False  # the whole connection is TLS (SMTP_TLS=ssl)
    received: list[Received] = field(default_factory=list)
    auth_attempts: list[tuple[bytes, bool]] = field(default_factory=list)
    port: int = 0
    _controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content or b""
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                message=parsed,
                tls=server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None,
                login=session.auth_data if session.authenticated else None,
            )
        )
        return "250 OK"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == (self.user or "").encode()
            and data.password == (self.password or "").encode()
        )
        self.auth_attempts.append((data.login if isinstance(data, LoginPassword) else b"", ok))
        return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)

    def __enter__(self) -> SmtpSink:
        self.port = closed_port()
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                # under implicit TLS aiosmtpd does not see the TLS, so it must not insist
                auth_require_tls=self.tls_context is not None and not self.implicit_tls,
            )
        if self.tls_context is not None and not self.implicit_tls:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.implicit_tls:
            assert self.tls_context is not None
            kwargs["ssl_context"] = self.tls_context
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()


@contextlib.contextmanager
def quiet_smtp_server_logs() -> Iterator[None]:
    """aiosmtpd logs the AUTH exchange at DEBUG: that is the server side, not ours."""
    logger = logging.getLogger("mail.log")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


@dataclass(frozen=True)
class Cert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def _with_cryptography(folder: Path) -> Cert:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Cert(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _with_openssl(folder: Path) -> Cert:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is not installed")
    paths = Cert(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(paths.key), "-out", str(paths.cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return paths


def self_signed_cert(folder: Path) -> Cert | None:
    """A self-signed certificate for 127.0.0.1, or None when it cannot be made here."""
    try:
        return _with_cryptography(folder)
    except ImportError:
        pass
    try:
        return _with_openssl(folder)
    except (RuntimeError, OSError, subprocess.SubprocessError):
        return None
