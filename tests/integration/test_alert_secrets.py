"""No secret leaves the alert channels: not in logs (records, stderr), errors, or repr.

The notifiers are built the way the functions build them (``channels_from_env`` from an
environment holding the webhook URL and the SMTP password), every logger is opened to DEBUG
(slack-sdk's own included: it would log the full webhook URL on retries), and the channels
are driven through success, rate limit, failure, fallback and total failure, against local
servers. Only the stand-in SMTP server's own logger is quietened: it is the other side.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator

import pytest
from alert_servers import WEBHOOK_PATH, FakeSlack, SmtpSink, closed_port, quiet_smtp_server_logs

from attribution.alerts.channel_settings import channels_from_env
from attribution.alerts.console_channel import ConsoleNotifier
from attribution.alerts.email_channel import EmailNotifier
from attribution.alerts.fallback_channel import FallbackNotifier
from attribution.alerts.slack_channel import SlackNotifier
from attribution.logs import JsonFormatter
from attribution.ports import Alert, AlertSection, NotificationError

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

USER = "alerts@example.com"
PASSWORD = "Sup3r-S3cret-SMTP-pa55"
ALERT = Alert(
    title="Verification FAIL",
    severity="error",
    text="3 rows without attribution",
    fields={"system_id": "catboost_v9"},
    sections=(AlertSection("attribution", "FAIL", ("3 rows",)),),
)


def secrets(webhook_url: str) -> list[str]:
    token = WEBHOOK_PATH.rsplit("/", 1)[1]
    return [
        webhook_url,
        WEBHOOK_PATH,
        token,
        PASSWORD,
        base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),
        base64.b64encode(PASSWORD.encode()).decode(),
    ]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every log record at DEBUG, through caplog and through the JSON formatter to a stream."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    sdk = logging.getLogger("slack_sdk")
    sdk_level = sdk.level
    sdk.setLevel(logging.DEBUG)
    try:
        with quiet_smtp_server_logs():
            yield stream
    finally:
        sdk.setLevel(sdk_level)
        root.removeHandler(handler)


def assert_clean(text: str, webhook_url: str) -> None:
    for secret in secrets(webhook_url):
        assert secret not in text


def test_no_secret_in_logs_errors_or_repr(
    all_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    errors: list[str] = []
    shown: list[str] = []
    with FakeSlack() as slack, SmtpSink(user=USER, password=PASSWORD) as sink:
        env = {
            "SLACK_WEBHOOK_URL": slack.url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_USER": USER,
            "SMTP_PASSWORD": PASSWORD,
            "SMTP_TLS": "none",
            "ALERT_EMAIL_FROM": "verifier@example.com",
            "ALERT_EMAIL_TO": "oncall@example.com",
            "ALERT_CHANNELS": "slack",  # email is Slack's fallback
        }
        notifier = channels_from_env(env)
        assert isinstance(notifier, FallbackNotifier)
        assert isinstance(notifier.primary, SlackNotifier)
        assert isinstance(notifier.fallback, EmailNotifier)
        shown += [repr(notifier), str(notifier), repr(notifier.fallback.settings)]
        shown += [str(notifier.primary), str(notifier.fallback.settings)]

        notifier.notify(ALERT)  # Slack takes it
        slack.reply(429, "rate_limited", {"Retry-After": "0"})
        notifier.notify(ALERT)  # rate limited, retried (slack-sdk logs the URL here)
        slack.reply(500, "internal_error")
        notifier.notify(ALERT)  # Slack fails: email, with AUTH
        assert len(slack.requests) == 4
        assert len(sink.received) == 1

        slack.reply(200, "invalid_blocks")
        broken_email = channels_from_env({**env, "SMTP_PASSWORD": PASSWORD + "x"})
        with pytest.raises(NotificationError) as both:
            broken_email.notify(ALERT)  # Slack refuses, email refuses the login
        errors.append(str(both.value))

    down = channels_from_env(
        {**env, "SLACK_WEBHOOK_URL": f"http://127.0.0.1:{closed_port()}{WEBHOOK_PATH}"}
        | {"SMTP_PORT": str(closed_port())}
    )
    with pytest.raises(NotificationError) as unreachable:
        down.notify(ALERT)  # connection refused on both (slack-sdk retries, and logs it)
    errors.append(str(unreachable.value))
    with pytest.raises(ValueError) as bad_url:
        SlackNotifier("ftp://hooks.example.com" + WEBHOOK_PATH)
    errors.append(str(bad_url.value))

    # the capture saw the run: the fallback warnings and the sends are there
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("alert channel failed; using the fallback") == 3
    assert "alert sent by email" in messages and "alert sent to Slack" in messages

    assert "[redacted]" in shown[0] and "[redacted]" in shown[2]
    captured = capfd.readouterr()
    for text in [
        caplog.text,
        all_logs.getvalue(),
        captured.out,
        captured.err,
        *errors,
        *shown,
        *(repr(vars(record)) for record in caplog.records),
    ]:
        assert_clean(text, slack.url)


def test_console_notifier_when_nothing_is_configured() -> None:
    assert isinstance(channels_from_env({}), ConsoleNotifier)
    # console mode wins even with secrets present, and never touches them
    forced = channels_from_env({"SLACK_WEBHOOK_URL": "https://hooks.slack.com" + WEBHOOK_PATH},
                               mode="console")  # fmt: skip
    assert isinstance(forced, ConsoleNotifier)
