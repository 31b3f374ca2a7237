"""EmailNotifier against a real local SMTP server (aiosmtpd), in each TLS mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from alert_servers import Cert, SmtpSink, closed_port, self_signed_cert

from attribution.alerts.email_channel import EmailNotifier, SmtpSettings, TlsMode
from attribution.ports import Alert, AlertSection, NotificationError

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

USER = "alerts@example.com"
PASSWORD = "pa55-w0rd-not-for-logs"
SENDER = "Attribution verifier <verifier@example.com>"
RECIPIENTS = ("oncall@example.com", "models@example.com")

ALERT = Alert(
    title="Verification FAIL: catboost_v9 2026-03-02",
    severity="error",
    text="3 of 120 predictions carry no model attribution",
    fields={"system_id": "catboost_v9", "game_date": "2026-03-02"},
    lines=("see the verification_runs table",),
    sections=(
        AlertSection("attribution", "FAIL", ("3 rows without model_card_id",)),
        AlertSection("coverage", "PASS", ("120 of 120 players",)),
    ),
)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    made = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("neither cryptography nor openssl could make a test certificate")
    return made


def settings(port: int, tls: TlsMode, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": tls,
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "timeout": 5.0,
    }
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def assert_is_the_alert(sink: SmtpSink) -> None:
    assert len(sink.received) == 1
    got = sink.received[0]
    assert got.mail_from == "verifier@example.com"
    assert got.rcpt_tos == list(RECIPIENTS)
    message = got.message
    assert message["Subject"] == f"[ERROR] {ALERT.title}"
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    plain = parts[0].get_content()
    assert "[ERROR] Verification FAIL" in plain
    assert "system_id: catboost_v9" in plain
    assert "attribution [FAIL]" in plain and "  - 3 rows without model_card_id" in plain
    rich = parts[1].get_content()
    assert "<h2>[ERROR] Verification FAIL: catboost_v9 2026-03-02</h2>" in rich
    assert "<li>3 rows without model_card_id</li>" in rich


def test_plain_delivery_without_auth() -> None:
    with SmtpSink() as sink:
        EmailNotifier(settings(sink.port, TlsMode.NONE)).notify(ALERT)
    assert_is_the_alert(sink)
    assert sink.received[0].tls is False
    assert sink.received[0].login is None


def test_auth_in_none_mode() -> None:
    with SmtpSink(user=USER, password=PASSWORD) as sink:
        EmailNotifier(settings(sink.port, TlsMode.NONE, user=USER, password=PASSWORD)).notify(ALERT)
    assert_is_the_alert(sink)
    assert sink.auth_attempts == [(USER.encode(), True)]
    assert sink.received[0].login == USER.encode()


def test_wrong_password_is_a_notification_error_without_the_password() -> None:
    with SmtpSink(user=USER, password=PASSWORD) as sink:
        notifier = EmailNotifier(
            settings(sink.port, TlsMode.NONE, user=USER, password=PASSWORD + "-wrong")
        )
        with pytest.raises(NotificationError) as failure:
            notifier.notify(ALERT)
    assert sink.received == []
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN): all refused
    assert sink.auth_attempts and set(sink.auth_attempts) == {(USER.encode(), False)}
    assert "SMTPAuthenticationError" in str(failure.value)
    assert PASSWORD not in str(failure.value)
    assert failure.value.__cause__ is None


def test_starttls_with_auth(cert: Cert) -> None:
    with SmtpSink(user=USER, password=PASSWORD, tls_context=cert.server_context()) as sink:
        notifier = EmailNotifier(
            settings(sink.port, TlsMode.STARTTLS, user=USER, password=PASSWORD),
            ssl_context=cert.client_context(),
        )
        notifier.notify(ALERT)
    assert_is_the_alert(sink)
    assert sink.received[0].tls is True  # the server refuses AUTH without TLS, too
    assert sink.received[0].login == USER.encode()


def test_starttls_verifies_the_certificate(cert: Cert) -> None:
    # the default context trusts the system CAs only, not this self-signed certificate
    with (
        SmtpSink(tls_context=cert.server_context()) as sink,
        pytest.raises(NotificationError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        EmailNotifier(settings(sink.port, TlsMode.STARTTLS)).notify(ALERT)
    assert sink.received == []


def test_starttls_refused_when_the_server_does_not_offer_it() -> None:
    with SmtpSink() as sink, pytest.raises(NotificationError, match="STARTTLS"):
        EmailNotifier(settings(sink.port, TlsMode.STARTTLS)).notify(ALERT)
    assert sink.received == []


def test_implicit_tls_with_auth(cert: Cert) -> None:
    with SmtpSink(
        user=USER, password=PASSWORD, tls_context=cert.server_context(), implicit_tls=True
    ) as sink:
        EmailNotifier(
            settings(sink.port, TlsMode.SSL, user=USER, password=PASSWORD),
            ssl_context=cert.client_context(),
        ).notify(ALERT)
    assert_is_the_alert(sink)
    assert sink.received[0].tls is True


def test_unreachable_server_is_a_notification_error() -> None:
    with pytest.raises(NotificationError, match="ConnectionRefusedError"):
        EmailNotifier(settings(closed_port(), TlsMode.NONE, timeout=2.0)).notify(ALERT)


def test_subject_cannot_inject_headers_and_html_is_escaped() -> None:
    alert = Alert(
        title="bad\r\nBcc: attacker@example.com",
        severity="warning",
        text="<script>alert(1)</script> & co",
        fields={"<b>key</b>": '"quoted" <value>'},
        sections=(AlertSection("<i>check</i>", "FAIL", ("<img src=x onerror=alert(1)>",)),),
    )
    with SmtpSink() as sink:
        EmailNotifier(settings(sink.port, TlsMode.NONE)).notify(alert)
    message = sink.received[0].message
    assert message["Bcc"] is None
    assert message["Subject"] == "[WARNING] bad Bcc: attacker@example.com"
    assert sink.received[0].rcpt_tos == list(RECIPIENTS)
    rich = list(message.iter_parts())[1].get_content()
    assert "<script>" not in rich and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in rich
    assert "<img" not in rich and "&lt;img src=x onerror=alert(1)&gt;" in rich
    assert "&lt;b&gt;key&lt;/b&gt;" in rich and "&quot;quoted&quot; &lt;value&gt;" in rich


def test_default_ports_follow_the_tls_mode() -> None:
    base = {"host": "smtp.example.com", "sender": SENDER, "recipients": RECIPIENTS}
    assert SmtpSettings(**base, tls=TlsMode.STARTTLS).effective_port == 587  # type: ignore[arg-type]
    assert SmtpSettings(**base, tls=TlsMode.SSL).effective_port == 465  # type: ignore[arg-type]
    assert SmtpSettings(**base, tls=TlsMode.NONE).effective_port == 25  # type: ignore[arg-type]


def test_settings_reject_incomplete_configuration(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ALERT_EMAIL_TO"):
        SmtpSettings(host="smtp.example.com", sender=SENDER, recipients=())
    with pytest.raises(ValueError, match="SMTP_USER"):
        SmtpSettings(host="h", sender=SENDER, recipients=RECIPIENTS, password=PASSWORD)
