"""Which alert channels to use, from the environment, read when the notifier is built.

- ``SLACK_WEBHOOK_URL``: a Slack incoming webhook (a secret).
- ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD`` (a secret),
  ``SMTP_TLS`` = ``starttls`` (default) | ``ssl`` | ``none``, ``ALERT_EMAIL_FROM``,
  ``ALERT_EMAIL_TO`` (addresses separated by commas).
- ``ALERT_NOTIFIER`` = ``auto`` (default: the channels above) | ``console`` (terminal and
  log only, whatever else is set).

Slack and email both configured: Slack, falling back to email. One of them: that one.
Neither: the ConsoleNotifier. In the cloud the secrets are Secret Manager secrets that Cloud
Functions exposes as environment variables, so the environment is the only source.
Secrets are read here and handed to the adapters; nothing in this module logs a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from attribution.alerts.email_channel import SmtpSettings, TlsMode, parse_recipients
from attribution.errors import SettingsError
from attribution.logs import get_logger
from attribution.ports import Notifier

_log = get_logger("attribution.alerts")

NOTIFIER_MODES = ("auto", "console")


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def smtp_settings_from_env(env: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """SMTP settings, or None when email is not configured (no SMTP_HOST and no ALERT_EMAIL_TO).

    Half a configuration is an error rather than silence: alerts must not vanish because
    one variable is missing. Error messages name variables, never their values.
    """
    env = os.environ if env is None else env
    host, recipients = _get(env, "SMTP_HOST"), _get(env, "ALERT_EMAIL_TO")
    if host is None and recipients is None:
        return None
    if host is None:
        raise SettingsError("SMTP_HOST", "ALERT_EMAIL_TO is set but SMTP_HOST is not")
    if recipients is None:
        raise SettingsError("ALERT_EMAIL_TO", "SMTP_HOST is set but ALERT_EMAIL_TO is not")
    user = _get(env, "SMTP_USER")
    sender = _get(env, "ALERT_EMAIL_FROM") or (user if user and "@" in user else None)
    if sender is None:
        raise SettingsError(
            "ALERT_EMAIL_FROM", "ALERT_EMAIL_FROM must be set (or SMTP_USER be an email address)"
        )
    raw_tls = (_get(env, "SMTP_TLS") or TlsMode.STARTTLS.value).lower()
    try:
        tls = TlsMode(raw_tls)
    except ValueError:
        raise SettingsError(
            "SMTP_TLS", f"SMTP_TLS={raw_tls!r} must be starttls, ssl or none"
        ) from None
    raw_port = _get(env, "SMTP_PORT")
    try:
        port = int(raw_port) if raw_port is not None else None
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(port)
    except ValueError:
        raise SettingsError(
            "SMTP_PORT", f"SMTP_PORT={raw_port!r} must be a whole number from 1 to 65535"
        ) from None
    password = env.get("SMTP_PASSWORD") or None  # kept verbatim: spaces may be part of it
    try:
        settings = SmtpSettings(
            host=host,
            port=port,
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


def _slack(url: str) -> Notifier | None:
    try:
        from attribution.alerts.slack_channel import SlackNotifier
    except ImportError:
        _log.error(
            "SLACK_WEBHOOK_URL is set but slack-sdk is not installed here; Slack alerts are off"
        )
        return None
    return SlackNotifier(url)


def channels_from_env(env: Mapping[str, str] | None = None, *, mode: str | None = None) -> Notifier:
    """The notifier the environment asks for (see the module docstring); ``mode`` overrides
    ``ALERT_NOTIFIER``."""
    from attribution.alerts.console_channel import ConsoleNotifier

    env = os.environ if env is None else env
    mode = (mode or _get(env, "ALERT_NOTIFIER") or "auto").strip().lower()
    if mode not in NOTIFIER_MODES:
        raise SettingsError(
            "ALERT_NOTIFIER", f"ALERT_NOTIFIER={mode!r} must be one of {', '.join(NOTIFIER_MODES)}"
        )
    if mode == "console":
        return ConsoleNotifier()

    webhook = _get(env, "SLACK_WEBHOOK_URL")
    slack = _slack(webhook) if webhook else None
    smtp = smtp_settings_from_env(env)
    email: Notifier | None = None
    if smtp is not None:
        from attribution.alerts.email_channel import EmailNotifier

        email = EmailNotifier(smtp)

    if slack is not None and email is not None:
        from attribution.alerts.fallback_channel import FallbackNotifier

        chosen: Notifier = FallbackNotifier(slack, email)
    elif slack is not None:
        chosen = slack
    elif email is not None:
        chosen = email
    else:
        return ConsoleNotifier()
    _log.info(
        "alert channels configured",
        extra={"slack": slack is not None, "email": email is not None},
    )
    return chosen
