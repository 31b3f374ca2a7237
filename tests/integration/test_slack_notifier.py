"""SlackNotifier against a real local HTTP server standing in for Slack's incoming webhook."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from alert_servers import WEBHOOK_PATH, FakeSlack, SmtpSink, closed_port

from attribution.alerts.email_channel import EmailNotifier, SmtpSettings, TlsMode
from attribution.alerts.fallback_channel import FallbackNotifier
from attribution.alerts.rendering import MAX_BLOCKS
from attribution.alerts.slack_channel import SlackNotifier
from attribution.ports import Alert, AlertSection, NotificationError

ALERT = Alert(
    title="Verification FAIL: catboost_v9 2026-03-02",
    severity="error",
    text="3 of 120 predictions carry no model attribution",
    fields={"system_id": "catboost_v9", "game_date": "2026-03-02"},
    sections=(
        AlertSection("attribution", "FAIL", ("3 rows without model_card_id",)),
        AlertSection("coverage", "PASS", ("120 of 120 players",)),
    ),
)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack-sdk routes through HTTP(S)_PROXY and ignores NO_PROXY: talk to 127.0.0.1 directly."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def test_sends_text_fallback_and_blocks(slack: FakeSlack) -> None:
    SlackNotifier(slack.url).notify(ALERT)

    assert len(slack.requests) == 1
    request = slack.requests[0]
    assert request.path == WEBHOOK_PATH
    assert set(request.body) == {"text", "blocks"}
    assert ALERT.title in request.body["text"]
    blocks = request.body["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": ALERT.title, "emoji": True},
    }
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert any(":x: *attribution*: FAIL" in t and "3 rows without" in t for t in texts)
    assert any(":white_check_mark: *coverage*: PASS" in t for t in texts)
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert "*system_id*\ncatboost_v9" in fields


def test_rate_limit_is_retried_after_retry_after(slack: FakeSlack) -> None:
    slack.reply(429, "rate_limited", {"Retry-After": "1"})
    started = time.monotonic()

    SlackNotifier(slack.url).notify(ALERT)

    assert len(slack.requests) == 2, "the 429 was not retried"
    assert slack.requests[0].body == slack.requests[1].body
    assert slack.requests[1].at - slack.requests[0].at >= 1.0
    assert time.monotonic() - started >= 1.0


def test_rate_limit_retries_are_bounded(slack: FakeSlack) -> None:
    for _ in range(5):
        slack.reply(429, "rate_limited", {"Retry-After": "0"})

    with pytest.raises(NotificationError, match="429"):
        SlackNotifier(slack.url, max_rate_limit_retries=2).notify(ALERT)
    assert len(slack.requests) == 3  # the first try and two retries


def test_a_long_retry_after_goes_to_the_fallback_instead_of_waiting(slack: FakeSlack) -> None:
    slack.reply(429, "rate_limited", {"Retry-After": "3600"})
    started = time.monotonic()

    with pytest.raises(NotificationError, match="429"):
        SlackNotifier(slack.url, max_retry_wait_seconds=30).notify(ALERT)
    assert len(slack.requests) == 1
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, "internal_error"),
        (200, "invalid_blocks"),
        (400, "invalid_blocks"),
        (404, "no_service"),
        (403, "action_prohibited"),
    ],
)
def test_anything_but_200_ok_is_a_failure(slack: FakeSlack, status: int, body: str) -> None:
    slack.reply(status, body)

    with pytest.raises(NotificationError) as failure:
        SlackNotifier(slack.url).notify(ALERT)

    message = str(failure.value)
    assert str(status) in message and body in message
    assert WEBHOOK_PATH not in message and slack.url not in message
    assert failure.value.__cause__ is None
    assert len(slack.requests) == 1  # only rate limits (and connection errors) are retried


def test_unreachable_webhook_is_a_failure_without_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}{WEBHOOK_PATH}"

    with pytest.raises(NotificationError) as failure:
        SlackNotifier(url, timeout=2).notify(ALERT)

    assert WEBHOOK_PATH not in str(failure.value)
    assert failure.value.__cause__ is None
    assert "could not be reached" in str(failure.value)


def test_failure_falls_back_to_email(slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    slack.reply(200, "invalid_blocks")
    caplog.set_level(logging.INFO)
    with SmtpSink() as sink:
        settings = SmtpSettings(
            host="127.0.0.1",
            port=sink.port,
            tls=TlsMode.NONE,
            sender="verifier@example.com",
            recipients=("oncall@example.com",),
        )
        FallbackNotifier(SlackNotifier(slack.url), EmailNotifier(settings)).notify(ALERT)

    assert len(slack.requests) == 1
    assert len(sink.received) == 1
    assert sink.received[0].message["Subject"] == f"[ERROR] {ALERT.title}"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["alert channel failed; using the fallback"]
    extra = vars(warnings[0])
    assert extra["failed_channel"] == "SlackNotifier"
    assert extra["fallback_channel"] == "EmailNotifier"
    assert "invalid_blocks" in extra["error"]


def test_ok_slack_does_not_send_email(slack: FakeSlack) -> None:
    with SmtpSink() as sink:
        settings = SmtpSettings(
            host="127.0.0.1",
            port=sink.port,
            tls=TlsMode.NONE,
            sender="verifier@example.com",
            recipients=("oncall@example.com",),
        )
        FallbackNotifier(SlackNotifier(slack.url), EmailNotifier(settings)).notify(ALERT)
    assert len(slack.requests) == 1
    assert sink.received == []


def test_both_channels_failing_raises(slack: FakeSlack) -> None:
    slack.reply(500, "internal_error")
    settings = SmtpSettings(
        host="127.0.0.1",
        port=closed_port(),
        tls=TlsMode.NONE,
        sender="verifier@example.com",
        recipients=("oncall@example.com",),
        timeout=2,
    )
    with pytest.raises(NotificationError) as failure:
        FallbackNotifier(SlackNotifier(slack.url), EmailNotifier(settings)).notify(ALERT)
    message = str(failure.value)
    assert "SlackNotifier" in message and "500" in message
    assert "EmailNotifier" in message
    assert WEBHOOK_PATH not in message


def test_a_huge_alert_stays_within_slack_limits(slack: FakeSlack) -> None:
    alert = Alert(
        title="Verification FAIL " + "x" * 400,
        severity="error",
        text="summary " * 1000,
        fields={f"field_{i}": "v" * 3000 for i in range(35)},
        lines=[f"top line {i}" for i in range(5000)],
        sections=[
            AlertSection(
                f"check_{i}",
                "FAIL" if i % 7 == 0 else "PASS",
                [f"row {j}: player_{j} has no model_card_id <&>" for j in range(10_000)],
            )
            for i in range(200)
        ],
    )

    SlackNotifier(slack.url).notify(alert)

    blocks = slack.requests[0].body["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    section_texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert section_texts and all(0 < len(t) <= 3000 for t in section_texts)
    for block in blocks:
        assert len(block.get("fields", [])) <= 10
        assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    joined = "\n".join(section_texts)
    assert "more_" in joined  # "+N more" lines
    assert "+4" in joined and "more sections" in joined
    assert any("more fields" in f["text"] for b in blocks for f in b.get("fields", []))
    # all 29 failing checks outrank the passing ones for the limited room
    shown = [t for t in section_texts if t.startswith((":x:", ":white_check_mark:"))]
    assert sum(t.startswith(":x:") for t in shown) == 29
    assert "<&>" not in joined and "&lt;&amp;&gt;" in joined
