"""Which alert channels the environment selects; half a configuration is an error."""

from __future__ import annotations

import pytest

from attribution.alerts.channel_settings import channels_from_env, smtp_settings_from_env
from attribution.alerts.console_channel import ConsoleNotifier
from attribution.alerts.email_channel import EmailNotifier, TlsMode
from attribution.alerts.every_channel import EveryChannelNotifier
from attribution.alerts.fallback_channel import FallbackNotifier
from attribution.alerts.slack_channel import SlackNotifier
from attribution.bootstrap import _make_notifier
from attribution.config import Settings, load_settings
from attribution.errors import SettingsError

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"
EMAIL = {
    "SMTP_HOST": "smtp.example.com",
    "SMTP_USER": "alerts@example.com",
    "SMTP_PASSWORD": "hunter2hunter2",
    "ALERT_EMAIL_TO": "a@example.com, b@example.com,,",
}


def test_nothing_configured_is_the_console() -> None:
    assert isinstance(channels_from_env({}), ConsoleNotifier)
    assert isinstance(channels_from_env({"SLACK_WEBHOOK_URL": "  "}), ConsoleNotifier)


def test_slack_only() -> None:
    assert isinstance(channels_from_env({"SLACK_WEBHOOK_URL": WEBHOOK}), SlackNotifier)


def test_email_only() -> None:
    notifier = channels_from_env(EMAIL)
    assert isinstance(notifier, EmailNotifier)
    settings = notifier.settings
    assert settings.recipients == ("a@example.com", "b@example.com")
    assert settings.sender == "alerts@example.com"  # ALERT_EMAIL_FROM defaults to the user
    assert settings.tls is TlsMode.STARTTLS and settings.effective_port == 587


def test_slack_and_email_both_deliver() -> None:
    notifier = channels_from_env({"SLACK_WEBHOOK_URL": WEBHOOK, **EMAIL})
    assert isinstance(notifier, EveryChannelNotifier)
    assert list(notifier.channels) == ["Slack", "email"]
    assert isinstance(notifier.channels["Slack"], SlackNotifier)
    assert isinstance(notifier.channels["email"], EmailNotifier)
    named = channels_from_env(
        {"SLACK_WEBHOOK_URL": WEBHOOK, **EMAIL, "ALERT_CHANNELS": "Email, slack"}
    )
    assert isinstance(named, EveryChannelNotifier)
    assert list(named.channels) == ["email", "Slack"]


@pytest.mark.parametrize(
    ("named", "first", "then"),
    [("slack", SlackNotifier, EmailNotifier), (" EMAIL ", EmailNotifier, SlackNotifier)],
)
def test_alert_channels_naming_one_keeps_the_other_as_its_fallback(
    named: str, first: type, then: type
) -> None:
    notifier = channels_from_env({"SLACK_WEBHOOK_URL": WEBHOOK, **EMAIL, "ALERT_CHANNELS": named})
    assert isinstance(notifier, FallbackNotifier)
    assert isinstance(notifier.primary, first)
    assert isinstance(notifier.fallback, then)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"ALERT_CHANNELS": "pager"},
            "ALERT_CHANNELS names 'pager': the channels are slack, email",
        ),
        ({"ALERT_CHANNELS": "email"}, "ALERT_CHANNELS names email, which is not configured"),
        ({"ALERT_CHANNELS": ","}, "ALERT_CHANNELS names ''"),
    ],
)
def test_alert_channels_naming_what_is_not_there_is_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        channels_from_env({"SLACK_WEBHOOK_URL": WEBHOOK, **env})
    assert refused.value.variable == "ALERT_CHANNELS"
    assert str(refused.value).startswith(says)


def test_console_mode_overrides_the_channels() -> None:
    env = {"SLACK_WEBHOOK_URL": WEBHOOK, **EMAIL, "ALERT_NOTIFIER": "console"}
    assert isinstance(channels_from_env(env), ConsoleNotifier)
    with pytest.raises(ValueError, match="ALERT_NOTIFIER"):
        channels_from_env({"ALERT_NOTIFIER": "pager"})


def test_smtp_settings_from_env() -> None:
    settings = smtp_settings_from_env(
        {**EMAIL, "SMTP_TLS": "SSL", "SMTP_PORT": "2465", "ALERT_EMAIL_FROM": "v@example.com"}
    )
    assert settings is not None
    assert (settings.tls, settings.effective_port, settings.sender) == (
        TlsMode.SSL,
        2465,
        "v@example.com",
    )
    assert settings.password == "hunter2hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMTP_HOST": "smtp.example.com"}, "ALERT_EMAIL_TO"),
        ({"ALERT_EMAIL_TO": "a@example.com"}, "SMTP_HOST"),
        ({"SMTP_HOST": "h", "ALERT_EMAIL_TO": "a@example.com"}, "ALERT_EMAIL_FROM"),
        ({**EMAIL, "SMTP_TLS": "tls1.3"}, "SMTP_TLS"),
        ({**EMAIL, "SMTP_PORT": "smtp"}, "SMTP_PORT"),
        ({**EMAIL, "ALERT_EMAIL_TO": " , "}, "ALERT_EMAIL_TO"),
    ],
)
def test_half_configured_email_is_an_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        smtp_settings_from_env(env)
    assert "hunter2" not in str(error.value)


def test_bad_webhook_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="SLACK_WEBHOOK_URL") as error:
        channels_from_env({"SLACK_WEBHOOK_URL": "hooks.slack.com/services/T/B/SECRETPART"})
    assert "SECRETPART" not in str(error.value)


def test_slack_repr_hides_the_webhook() -> None:
    notifier = SlackNotifier(WEBHOOK)
    assert "XXXXXXXX" not in repr(notifier) and "/services" not in repr(notifier)
    assert repr(notifier) == "SlackNotifier(target='https://hooks.slack.com', webhook=[redacted])"


def test_bootstrap_uses_the_environment_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", WEBHOOK)
    monkeypatch.delenv("ALERT_NOTIFIER", raising=False)
    assert load_settings().notifier == "auto"
    assert isinstance(_make_notifier(load_settings()), SlackNotifier)
    # a Settings built in code (tests, embedded demo) stays on the console
    assert isinstance(_make_notifier(Settings()), ConsoleNotifier)
    monkeypatch.setenv("ALERT_NOTIFIER", "console")
    assert isinstance(_make_notifier(load_settings()), ConsoleNotifier)
