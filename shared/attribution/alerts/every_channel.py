"""Every channel delivers the alert, each on its own (Slack and email both, by default).

One failing never stops the next; a channel that delivers after one failed says which in
the alert itself, and a channel that had delivered before a later one failed gets a short
note naming it. NotificationError only when none delivered. Channel errors are
NotificationErrors whose messages the adapters keep free of secrets, and only that message
is logged or put into a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from attribution.logs import get_logger
from attribution.ports import Alert, NotificationError, Notifier

_log = get_logger("attribution.alerts")


def failure_lines(failed: Mapping[str, str]) -> list[str]:
    return [f"{name} did not deliver this alert: {error}" for name, error in failed.items()]


def with_failures(alert: Alert, failed: Mapping[str, str]) -> Alert:
    """``alert`` saying which channels failed to deliver it so far."""
    if not failed:
        return alert
    return replace(alert, lines=[*alert.lines, *failure_lines(failed)])


def failure_note(alert: Alert, failed: Mapping[str, str]) -> Alert:
    """What a channel that delivered is told about the channels that failed after it."""
    names = " and ".join(failed)
    return Alert(
        title=f"{names} did not deliver: {alert.title}",
        severity="warning",
        text=f"The alert above reached this channel, but not {names}.",
        lines=failure_lines(failed),
    )


class EveryChannelNotifier:
    """``channels`` (name to notifier) in order, each on its own."""

    def __init__(self, channels: Mapping[str, Notifier]) -> None:
        self.channels = dict(channels)

    def __repr__(self) -> str:
        return f"EveryChannelNotifier({self.channels!r})"

    def notify(self, alert: Alert) -> None:
        failed: dict[str, str] = {}
        told: dict[str, set[str]] = {}  # each channel that delivered: the failures it said
        for name, channel in self.channels.items():
            try:
                channel.notify(with_failures(alert, failed))
            except NotificationError as exc:
                failed[name] = str(exc)
                _log.warning(
                    "alert channel failed; the other channels still deliver",
                    extra={"alert_title": alert.title, "failed_channel": name, "error": str(exc)},
                )
                continue
            told[name] = set(failed)
        if not told:
            raise NotificationError(
                "no channel delivered the alert: "
                + "; ".join(f"{name}: {error}" for name, error in failed.items())
            )
        for name, said in told.items():
            untold = {n: e for n, e in failed.items() if n not in said}
            if untold:
                self._tell(name, alert, untold)

    def _tell(self, name: str, alert: Alert, failed: Mapping[str, str]) -> None:
        try:
            self.channels[name].notify(failure_note(alert, failed))
        except NotificationError as exc:
            _log.warning(
                "the note of a failed channel could not be delivered",
                extra={"alert_title": alert.title, "channel": name, "error": str(exc)},
            )
