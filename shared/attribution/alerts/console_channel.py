"""The embedded default notifier: alerts as structured log lines and on the terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from attribution.logs import get_logger
from attribution.ports import Alert

_SEVERITY = {"info": "INFO", "warning": "WARNING", "error": "ERROR"}
_log = get_logger("attribution.alerts")


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.sent: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        self.sent.append(alert)
        _log.log(
            {"info": 20, "warning": 30, "error": 40}.get(alert.severity, 20),
            alert.title,
            extra={
                "alert_text": alert.text,
                "alert_fields": dict(alert.fields),
                "alert_link": alert.link,
            },
        )
        marker = {"info": "i", "warning": "!", "error": "x"}.get(alert.severity, "-")
        print(f"[{marker}] ALERT {alert.title}: {alert.text}", file=self.stream)
        for key, value in alert.fields.items():
            print(f"      {key}: {value}", file=self.stream)
        for line in alert.lines:
            print(f"      {line}", file=self.stream)
        if alert.link:
            print(f"      report: {alert.link}", file=self.stream)
