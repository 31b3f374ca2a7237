"""Alerts from the model-upload function: a rejected upload and an incomplete card reach Slack
through the function's own channels (here a local HTTP server standing in for the webhook)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from alert_servers import FakeSlack
from app_support import publish_model

from attribution.bootstrap import App


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # slack-sdk ignores NO_PROXY
    with FakeSlack() as server:
        yield server


@pytest.fixture
def app(app_factory: Any, slack: FakeSlack) -> App:
    os.environ["SLACK_WEBHOOK_URL"] = slack.url
    from attribution.config import load_settings

    built: App = app_factory(alert_channels=load_settings().alert_channels)
    return built


def texts(slack: FakeSlack) -> list[str]:
    return [str(r.body) for r in slack.requests]


def test_a_rejected_upload_reaches_slack(app: App, slack: FakeSlack, models: Any) -> None:
    assert publish_model(app, models.old.read_bytes()[:400], "catboost_v9_cut.cbm") is None
    (posted,) = texts(slack)
    assert "catboost_v9_cut.cbm" in posted
    assert "rejected" in posted.lower()


def test_an_incomplete_card_reaches_slack(app: App, slack: FakeSlack, models: Any) -> None:
    card = publish_model(app, models.factless, "factless.cbm")
    assert card is not None and not card.is_complete
    (posted,) = texts(slack)
    assert "factless.cbm" in posted
    for fact in card.missing_facts:
        assert fact in posted
