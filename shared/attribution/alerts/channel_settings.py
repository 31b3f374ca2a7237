"""Which alert channels to use: the notifier ``AlertChannels`` (``attribution.config``,
where their variables are declared) asks for.

- ``SLACK_WEBHOOK_URL``: a Slack incoming webhook (a secret).
- ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD`` (a secret),
  ``SMTP_TLS`` = ``starttls`` (default) | ``ssl`` | ``none``, ``ALERT_EMAIL_FROM``,
  ``ALERT_EMAIL_TO`` (addresses separated by commas).
- ``ALERT_NOTIFIER`` = ``auto`` (default: the channels above) | ``console`` (terminal and
  log only, whatever else is set).
- ``ALERT_CHANNELS`` = ``slack`` | ``email`` | ``slack,email``: the configured channels
  that each deliver every alert (default: every one configured).

Slack and email both configured: both deliver, each on its own (``EveryChannelNotifier``).
With ``ALERT_CHANNELS`` naming one of them, that one, falling back to the other when it
cannot deliver. One configured: that one. Neither: the ConsoleNotifier. In the cloud the
secrets are Secret Manager secrets that Cloud Functions exposes as environment variables, so
the environment is the only source.
Secrets are unwrapped only to be handed to the adapters; nothing in this module logs a value.
"""

from __future__ import annotations

from collections.abc import Mapping

from attribution.alerts.email_channel import SmtpSettings, TlsMode, parse_recipients
from attribution.config import AlertChannels
from attribution.errors import SettingsError
from attribution.logs import get_logger
from attribution.ports import Notifier

_log = get_logger("attribution.alerts")


def smtp_settings(channels: AlertChannels) -> SmtpSettings | None:
    """SMTP settings, or None when email is not configured (no SMTP_HOST and no ALERT_EMAIL_TO).

    Half a configuration is an error rather than silence: alerts must not vanish because
    one variable is missing. Error messages name variables, never their values.
    """
    host, recipients = channels.smtp_host, channels.email_to
    if host is None and recipients is None:
        return None
    if host is None:
        raise SettingsError("SMTP_HOST", "ALERT_EMAIL_TO is set but SMTP_HOST is not")
    if recipients is None:
        raise SettingsError("ALERT_EMAIL_TO", "SMTP_HOST is set but ALERT_EMAIL_TO is not")
    user = channels.smtp_user
    sender = channels.email_from or (user if user and "@" in user else None)
    if sender is None:
        raise SettingsError(
            "ALERT_EMAIL_FROM", "ALERT_EMAIL_FROM must be set (or SMTP_USER be an email address)"
        )
    tls = TlsMode(channels.smtp_tls)
    password = channels.smtp_password.get_secret_value() if channels.smtp_password else None
    try:
        settings = SmtpSettings(
            host=host,
            port=channels.smtp_port,
            user=user,
            password=password,
            tls=tls,
            sender=sender,
            recipients=parse_recipients(recipients),
        )
    except ValueError as exc:  # its messages start with the variable they are about
        named = str(exc).split(" ", 1)[0]
        raise SettingsError(named if named.isupper() else "ALERT_EMAIL_TO", str(exc)) from None
    if tls is TlsMode.NONE and password:
        _log.warning(
            "SMTP_TLS=none with SMTP_PASSWORD set: the password crosses the network in clear",
            extra={"smtp_host": host},
        )
    return settings


def smtp_settings_from_env(env: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """``smtp_settings`` of the channels ``env`` (``os.environ`` when None) configures."""
    return smtp_settings(AlertChannels.from_environment(env))


def _slack(url: str) -> Notifier | None:
    try:
        from attribution.alerts.slack_channel import SlackNotifier
    except ImportError:
        _log.error(
            "SLACK_WEBHOOK_URL is set but slack-sdk is not installed here; Slack alerts are off"
        )
        return None
    return SlackNotifier(url)


def notifier_for(channels: AlertChannels, *, mode: str | None = None) -> Notifier:
    """The notifier ``channels`` ask for (see the module docstring); ``mode`` overrides
    ``ALERT_NOTIFIER``."""
    from attribution.alerts.console_channel import ConsoleNotifier

    if mode is not None:
        channels = AlertChannels(**{**channels.model_dump(), "mode": mode})
    if channels.mode == "console":
        return ConsoleNotifier()

    webhook = channels.slack_webhook_url
    slack = _slack(webhook.get_secret_value()) if webhook else None
    smtp = smtp_settings(channels)
    email: Notifier | None = None
    if smtp is not None:
        from attribution.alerts.email_channel import EmailNotifier

        email = EmailNotifier(smtp)

    configured = {name: n for name, n in (("Slack", slack), ("email", email)) if n is not None}
    named = delivering_channels(channels, configured)
    if not configured:
        return ConsoleNotifier()
    _log.info(
        "alert channels configured",
        extra={"slack": slack is not None, "email": email is not None, "delivering": named},
    )
    if len(named) > 1:
        from attribution.alerts.every_channel import EveryChannelNotifier

        return EveryChannelNotifier({name: configured[name] for name in named})
    (only,) = named
    fallback = next((n for name, n in configured.items() if name != only), None)
    if fallback is None:
        return configured[only]
    from attribution.alerts.fallback_channel import FallbackNotifier

    return FallbackNotifier(configured[only], fallback)


def delivering_channels(channels: AlertChannels, configured: Mapping[str, Notifier]) -> list[str]:
    """The channels ``ALERT_CHANNELS`` names (every configured one when it is not set), by
    their names in ``configured``; SettingsError for a channel unknown or not configured."""
    if channels.channels is None:
        return list(configured)
    by_key = {"slack": "Slack", "email": "email"}
    named: list[str] = []
    for key in (part.strip() for part in channels.channels.split(",")):
        if key not in by_key:
            raise SettingsError(
                "ALERT_CHANNELS", f"ALERT_CHANNELS names {key!r}: the channels are slack, email"
            )
        if by_key[key] not in configured:
            needs = "SLACK_WEBHOOK_URL" if key == "slack" else "SMTP_HOST and ALERT_EMAIL_TO"
            raise SettingsError(
                "ALERT_CHANNELS", f"ALERT_CHANNELS names {key}, which is not configured ({needs})"
            )
        if by_key[key] not in named:
            named.append(by_key[key])
    if not named:
        raise SettingsError("ALERT_CHANNELS", "ALERT_CHANNELS names no channel")
    return named


def channels_from_env(env: Mapping[str, str] | None = None, *, mode: str | None = None) -> Notifier:
    """``notifier_for`` the channels ``env`` (``os.environ`` when None) configures."""
    return notifier_for(AlertChannels.from_environment(env), mode=mode)
