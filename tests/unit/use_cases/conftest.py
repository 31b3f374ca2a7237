"""The use cases on an in-memory DuckDB: the embedded App with no warehouse file, so each test
starts from an empty, migrated database in a few milliseconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from app_support import RecordingNotifier, upload_model

from attribution.bootstrap import App
from attribution.model_card.card import ModelCard

SYSTEM = "catboost_v9"


@pytest.fixture
def app(app_factory: Any) -> App:
    built: App = app_factory(duckdb_path=Path(":memory:"))
    built.notifier = RecordingNotifier()
    return built


def sent(app: App) -> RecordingNotifier:
    assert isinstance(app.notifier, RecordingNotifier)
    return app.notifier


@pytest.fixture
def old_card(app: App, models: Any) -> ModelCard:
    return upload_model(app, models.old, "catboost_v9_old.cbm")
