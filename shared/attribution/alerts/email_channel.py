"""Alerts by email over SMTP: one multipart/alternative message, plain text and HTML (the
HTML with the alert's images inline, as multipart/related parts it names by content id).

TLS is ``starttls`` (upgrade a plain connection, port 587 by default), ``ssl`` (implicit TLS,
port 465) or ``none`` (port 25; only for a relay on a private network). The password is a
secret: ``repr`` hides it, errors never carry it, and smtplib's debug output stays off.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum

from attribution.alerts.rendering import clip, html, plain_text
from attribution.logs import get_logger
from attribution.ports import Alert, NotificationError

_log = get_logger("attribution.alerts.email")
MAX_SUBJECT_CHARS = 200


class TlsMode(StrEnum):
    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"


DEFAULT_PORTS = {TlsMode.STARTTLS: 587, TlsMode.SSL: 465, TlsMode.NONE: 25}


def parse_recipients(raw: str) -> tuple[str, ...]:
    """``ALERT_EMAIL_TO``: addresses separated by commas (blanks ignored)."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True, repr=False)
class SmtpSettings:
    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int | None = None
    user: str | None = None
    password: str | None = None
    tls: TlsMode = TlsMode.STARTTLS
    timeout: float = 15.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("SMTP_HOST must not be empty")
        if not self.sender:
            raise ValueError("ALERT_EMAIL_FROM must not be empty")
        if not self.recipients:
            raise ValueError("ALERT_EMAIL_TO must name at least one address")
        if self.password and not self.user:
            raise ValueError("SMTP_PASSWORD is set but SMTP_USER is not")
        for address in (self.sender, *self.recipients):
            if "\r" in address or "\n" in address:
                raise ValueError("email addresses must be on one line")

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.tls]

    def __repr__(self) -> str:
        return (
            f"SmtpSettings(host={self.host!r}, port={self.effective_port}, tls={self.tls.value!r}, "
            f"user={self.user!r}, password={'[redacted]' if self.password else None}, "
            f"sender={self.sender!r}, recipients={self.recipients!r})"
        )

    __str__ = __repr__


def _one_line(text: str) -> str:
    return " ".join(text.split())


def build_message(alert: Alert, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The alert as an email: text/plain first, then the text/html alternative, which
    carries each of the alert's images as a related part (``<img src="cid:...">``)."""
    message = EmailMessage()
    message["Subject"] = clip(
        _one_line(f"[{alert.severity.upper()}] {alert.title}"), MAX_SUBJECT_CHARS
    )
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(plain_text(alert))
    message.add_alternative(html(alert), subtype="html")
    if alert.images:
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None
        for image in alert.images:
            html_part.add_related(
                image.png,
                maintype="image",
                subtype="png",
                cid=f"<{image.content_id}>",
                filename=f"{image.content_id}.png",
            )
    return message


class EmailNotifier:
    """Sends each alert as one message to every recipient, one SMTP session per alert."""

    def __init__(
        self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"EmailNotifier({self.settings!r})"

    __str__ = __repr__

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls is TlsMode.SSL:
            return smtplib.SMTP_SSL(
                s.host, s.effective_port, timeout=s.timeout, context=self._context()
            )
        client = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
        try:
            if s.tls is TlsMode.STARTTLS:
                client.ehlo()
                client.starttls(context=self._context())
                client.ehlo()
        except BaseException:
            client.close()
            raise
        return client

    def notify(self, alert: Alert) -> None:
        s = self.settings
        message = build_message(alert, s.sender, s.recipients)
        try:
            with self._connect() as client:
                if s.user:
                    client.login(s.user, s.password or "")
                refused = client.send_message(message, from_addr=s.sender, to_addrs=s.recipients)
        except (smtplib.SMTPException, OSError) as exc:
            # Not chained: the original is described, scrubbed, and nothing else is kept.
            raise NotificationError(
                f"email via {s.host}:{s.effective_port} ({s.tls.value}) failed: {self._scrub(exc)}"
            ) from None
        if refused:
            _log.warning(
                "some alert recipients were refused",
                extra={"refused": sorted(refused), "channel": "email"},
            )
        _log.info(
            "alert sent by email",
            extra={
                "alert_title": alert.title,
                "channel": "email",
                "recipients": len(s.recipients) - len(refused),
            },
        )

    def _scrub(self, exc: BaseException) -> str:
        """The error, without the password in any form AUTH may have sent it in."""
        text = f"{type(exc).__name__}: {exc}"
        user, password = self.settings.user or "", self.settings.password
        if password:
            for form in (
                f"\0{user}\0{password}",
                f"{user} {password}",
                password,
            ):
                encoded = base64.b64encode(form.encode()).decode()
                text = text.replace(encoded, "[redacted]").replace(form, "[redacted]")
        return clip(text, 300)
