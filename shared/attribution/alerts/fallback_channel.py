"""Try one channel, and another when the first does not take the alert (Slack, then email)."""

from __future__ import annotations

from attribution.logs import get_logger
from attribution.ports import Alert, NotificationError, Notifier

_log = get_logger("attribution.alerts")


def channel_name(notifier: Notifier) -> str:
    return type(notifier).__name__


class FallbackNotifier:
    """``primary``, else ``fallback``; NotificationError only when neither delivered.

    Channel errors are NotificationErrors whose messages the adapters keep free of secrets,
    and only that message is logged (never the notifier's configuration).
    """

    def __init__(self, primary: Notifier, fallback: Notifier) -> None:
        self.primary = primary
        self.fallback = fallback

    def __repr__(self) -> str:
        return f"FallbackNotifier({self.primary!r}, {self.fallback!r})"

    def notify(self, alert: Alert) -> None:
        try:
            self.primary.notify(alert)
            return
        except NotificationError as first:
            _log.warning(
                "alert channel failed; using the fallback",
                extra={
                    "alert_title": alert.title,
                    "failed_channel": channel_name(self.primary),
                    "fallback_channel": channel_name(self.fallback),
                    "error": str(first),
                },
            )
            primary_error = first
        try:
            self.fallback.notify(alert)
        except NotificationError as second:
            raise NotificationError(
                f"no channel delivered the alert: {channel_name(self.primary)}: "
                f"{primary_error}; {channel_name(self.fallback)}: {second}"
            ) from None
