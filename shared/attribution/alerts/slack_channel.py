"""Alerts to Slack through an incoming webhook, with slack-sdk's ``WebhookClient``.

The webhook URL is the secret: it is never logged, never put in an exception, never shown by
``repr``. slack-sdk logs the full URL on retries and at DEBUG level, so the client gets a
logger of its own that says nothing; this adapter logs what matters itself, without the URL.

Slack answers a webhook with 200 ``ok`` and nothing else on success; any other answer (a 4xx
such as ``invalid_blocks`` or ``no_service``, a 5xx, a rate limit that outlasts the retries,
a connection error) raises NotificationError, so a FallbackNotifier can try email.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from attribution.alerts.rendering import fallback_text, slack_blocks
from attribution.logs import get_logger
from attribution.ports import Alert, NotificationError

_log = get_logger("attribution.alerts.slack")
MAX_BODY_IN_ERROR = 200


def _silent_logger() -> logging.Logger:
    """A logger slack-sdk cannot leak through: its level is above CRITICAL (which also turns
    off slack-sdk's ``logger.level <= DEBUG`` branches) and it has no way to the root."""
    logger = logging.getLogger("attribution.alerts.slack.sdk")
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's rate-limit retry (it sleeps for Retry-After), but only when Slack asks to
    wait at most ``max_wait_seconds``: a longer wait is better spent on the email fallback
    than on holding a function instance."""

    def __init__(self, max_retry_count: int = 2, *, max_wait_seconds: float = 30.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_seconds = max_wait_seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        values = [v for k, vs in response.headers.items() if k.lower() == "retry-after" for v in vs]
        if not values:
            return True  # slack-sdk then waits about one second
        try:
            wait = int(values[0])
        except ValueError:
            return False
        return 0 <= wait <= self.max_wait_seconds


def _describe_target(url: str) -> str:
    """What may be said about the webhook: scheme and host, never the path (the secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}"


class SlackNotifier:
    """Posts an alert to one Slack incoming webhook as Block Kit with a text fallback."""

    def __init__(
        self,
        webhook_url: str,
        *,
        timeout: float = 10,
        max_rate_limit_retries: int = 2,
        max_retry_wait_seconds: float = 30.0,
        connection_retries: int = 1,
    ) -> None:
        scheme = urlsplit(webhook_url).scheme.lower()
        if scheme not in ("https", "http") or not urlsplit(webhook_url).hostname:
            # The value itself is not repeated: a malformed secret is still a secret.
            raise ValueError("SLACK_WEBHOOK_URL must be an http(s) URL")
        self._url = webhook_url
        self.target = _describe_target(webhook_url)
        handlers: list[RetryHandler] = [
            CappedRateLimitRetryHandler(
                max_retry_count=max_rate_limit_retries, max_wait_seconds=max_retry_wait_seconds
            )
        ]
        if connection_retries > 0:
            handlers.append(ConnectionErrorRetryHandler(max_retry_count=connection_retries))
        self._client = WebhookClient(
            webhook_url,
            timeout=int(max(1, round(timeout))),
            logger=_silent_logger(),
            retry_handlers=handlers,
        )

    def __repr__(self) -> str:
        return f"SlackNotifier(target={self.target!r}, webhook=[redacted])"

    __str__ = __repr__

    def payload(self, alert: Alert) -> dict[str, Any]:
        """The JSON body sent to Slack (also what tests inspect)."""
        return {"text": fallback_text(alert), "blocks": slack_blocks(alert)}

    def notify(self, alert: Alert) -> None:
        body = self.payload(alert)
        try:
            response = self._client.send(text=body["text"], blocks=body["blocks"])
        except Exception as exc:
            # Never chain the original: some slack-sdk errors carry the URL in their message.
            raise NotificationError(
                f"Slack webhook at {self.target} could not be reached: {self._scrub(exc)}"
            ) from None
        if response.status_code != 200 or response.body != "ok":
            raise NotificationError(
                f"Slack webhook at {self.target} answered {response.status_code} "
                f"{self._scrub(response.body)[:MAX_BODY_IN_ERROR]!r}"
            )
        _log.info(
            "alert sent to Slack",
            extra={"alert_title": alert.title, "channel": "slack", "blocks": len(body["blocks"])},
        )

    def _scrub(self, value: object) -> str:
        text = value if isinstance(value, str) else f"{type(value).__name__}: {value}"
        path = urlsplit(self._url).path
        text = text.replace(self._url, "[webhook]")
        if len(path) > 1:
            text = text.replace(path, "[webhook]")
        return text
