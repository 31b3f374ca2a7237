"""The verifier publishes the HTML report each run and links it from the alert; the alert
goes to Slack and email both (a real local Slack webhook and a real aiosmtpd server), the
email with the day's chart inline, each channel on its own."""

from __future__ import annotations

import json
from datetime import date
from email.message import EmailMessage
from typing import Any

import pytest
from alert_servers import FakeSlack, SmtpSink, closed_port

from attribution.alerts.channel_settings import channels_from_env
from attribution.alerts.every_channel import EveryChannelNotifier
from attribution.alerts.rendering import MAX_BLOCKS
from attribution.objects import StoredObject, report_object_name
from attribution.ports import Notifier
from attribution.verification.html_report.publishing import ReportDestination
from attribution.verification.outcome import Status, SystemVerdict
from attribution.verification.verifier import Verifier

from .report_story import NEXT_DAY, story
from .support import SYSTEM, World

__all__ = ["story"]  # the fixture
PNG = b"\x89PNG\r\n\x1a\n"


def verifier(world: World, notifier: Notifier, **changes: Any) -> Verifier:
    """The verifier as the App wires it (it publishes the report), with ``notifier``."""
    wired = world.app.verifier()
    wired.notifier = notifier
    for name, value in changes.items():
        setattr(wired, name, value)
    return wired


def failing_run(world: World, notifier: Notifier, **changes: Any) -> SystemVerdict:
    """NEXT_DAY verified again (FAIL: its unattributed rows) after its verdict was forgotten,
    so it alerts."""
    world.app.warehouse.execute(
        "DELETE FROM verification_runs WHERE game_date = @day", {"day": NEXT_DAY}
    )
    (verdict,) = verifier(world, notifier, **changes).verify(NEXT_DAY, SYSTEM)
    assert verdict.verdict is Status.FAIL
    return verdict


def channels(slack: FakeSlack, sink: SmtpSink, **env: str) -> Notifier:
    return channels_from_env(
        {
            "SLACK_WEBHOOK_URL": slack.url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_TLS": "none",
            "ALERT_EMAIL_FROM": "verifier@example.com",
            "ALERT_EMAIL_TO": "oncall@example.com",
            **env,
        }
    )


def test_each_run_publishes_the_page_and_the_alert_links_the_file(story: World) -> None:
    verdict = failing_run(story, story.notifier)
    name = report_object_name(SYSTEM, NEXT_DAY)
    assert name == f"reports/{SYSTEM}/{NEXT_DAY}.html"
    stored = story.app.store(story.app.settings.reports_bucket).stat(name)
    assert stored is not None and stored.content_type == "text/html; charset=utf-8"
    page = story.bucket.path_of(name).read_text()
    data = json.loads(page.split('id="report-data">', 1)[1].split("</script>", 1)[0])
    assert data["to"] == str(NEXT_DAY)
    # This run's own verdict is in the history it publishes, before it is recorded.
    assert data["verdicts"][-1]["run_id"] == verdict.run_id
    assert data["verdicts"][-1]["verdict"] == "FAIL"
    (alert,) = story.notifier.sent[-1:]
    assert alert.link == str(story.bucket.path_of(name))
    (image,) = alert.images
    assert image.png.startswith(PNG) and len(image.png) > 10_000


def test_on_google_cloud_the_link_is_the_object_s_console_page() -> None:
    stored = StoredObject(bucket="acme-models", name=report_object_name("v9.b", date(2026, 3, 3)))
    assert stored.console_url == (
        "https://console.cloud.google.com/storage/browser/_details/acme-models/"
        "reports/v9.b/2026-03-03.html"
    )


def test_a_report_that_cannot_be_written_costs_neither_the_verdict_nor_the_alert(
    story: World,
) -> None:
    class FullStore:
        bucket = "models"

        def write(self, *args: Any, **kwargs: Any) -> StoredObject:
            raise OSError("no space left on device")

    broken = ReportDestination(FullStore(), lambda stored: stored.uri)  # type: ignore[arg-type]
    verdict = failing_run(story, story.notifier, reports=broken)
    assert verdict.alerted
    assert story.notifier.sent[-1].link is None
    assert story.runs()[-1]["run_id"] == verdict.run_id


def _parts(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def test_both_channels_deliver_and_the_email_carries_the_chart_inline(story: World) -> None:
    with FakeSlack() as slack, SmtpSink() as sink:
        notifier = channels(slack, sink)
        assert isinstance(notifier, EveryChannelNotifier)
        failing_run(story, notifier)
    link = str(story.bucket.path_of(report_object_name(SYSTEM, NEXT_DAY)))
    (request,) = slack.requests
    blocks = request.body["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert any(link in json.dumps(block) for block in blocks)
    (received,) = sink.received
    message = received.message
    assert _parts(message) == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png",
    ]  # fmt: skip
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert f"Report: {link}" in text.get_content()
    image = next(part for part in message.walk() if part.get_content_type() == "image/png")
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert image.get_content().startswith(PNG)
    body = html.get_content()
    assert "coverage" in body and "[FAIL]" in body  # the failing checks, with their status


def test_slack_down_the_email_still_delivers_and_says_so(story: World) -> None:
    with FakeSlack() as slack, SmtpSink() as sink:
        slack.reply(500, "internal_error")  # not retried: a 5xx is Slack's answer
        verdict = failing_run(story, channels(slack, sink))
    assert verdict.alerted
    (received,) = sink.received
    text = received.message.get_body(preferencelist=("plain",))
    assert text is not None
    assert "Slack did not deliver this alert: Slack webhook at http://127.0.0.1 answered 500" in (
        text.get_content()
    )
    assert "s3cr3t" not in received.message.as_string()  # the webhook's path is its secret


def test_email_down_slack_delivers_and_is_told_which_failed(story: World) -> None:
    with FakeSlack() as slack, SmtpSink() as sink:
        notifier = channels(slack, sink, SMTP_PORT=str(closed_port()))
        verdict = failing_run(story, notifier)
    assert verdict.alerted
    alert, note = (request.body for request in slack.requests)
    assert alert["blocks"][0]["text"]["text"].startswith("Attribution FAIL")
    assert note["blocks"][0]["text"]["text"].startswith("email did not deliver")
    assert "email did not deliver this alert: email via 127.0.0.1" in json.dumps(note)


def test_alert_channels_slack_keeps_email_as_its_fallback(story: World) -> None:
    with FakeSlack() as slack, SmtpSink() as sink:
        notifier = channels(slack, sink, ALERT_CHANNELS="slack")
        failing_run(story, notifier)
        assert (len(slack.requests), len(sink.received)) == (1, 0)
        slack.reply(500, "internal_error")  # not retried: a 5xx is Slack's answer
        failing_run(story, notifier)
        assert (len(slack.requests), len(sink.received)) == (2, 1)


def test_no_channel_delivering_is_logged_and_the_verdict_recorded_unalerted(
    story: World, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeSlack() as slack, SmtpSink() as sink:
        slack.reply(500, "internal_error")  # not retried: a 5xx is Slack's answer
        verdict = failing_run(story, channels(slack, sink, SMTP_PORT=str(closed_port())))
    assert not verdict.alerted
    assert "alert could not be delivered" in [r.getMessage() for r in caplog.records]
    assert story.runs()[-1]["alerted"] is False
