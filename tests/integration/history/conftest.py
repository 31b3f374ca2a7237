"""Fixtures for the history tests: the old model and its retrain (tests/conftest.py's session
models) plus a catboost_v10 model, published through the bucket trigger on a fresh App."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from app_support import upload_model

from attribution.devtools.training import TrainingSpec, train_model

from .support import NEW_NAME, OLD_NAME, OTHER_NAME, OTHER_SYSTEM, History

OTHER_SPEC = TrainingSpec(
    rows=2000,
    iterations=30,
    depth=4,
    system_id=OTHER_SYSTEM,
    training_start=date(2025, 11, 1),
    training_end=date(2026, 1, 31),
    expected_mae=4.4,
    expected_hit_rate=70.1,
    trained_at="2026-02-01T08:00:00Z",
    seed=11,
)

HistoryFactory = Callable[..., History]


@pytest.fixture(scope="session")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(OTHER_SPEC, tmp_path_factory.mktemp("history-models") / OTHER_NAME)


@pytest.fixture
def make_history(app_factory: Any, models: Any, other_model: Path) -> HistoryFactory:
    """An App built with ``Settings`` overrides (e.g. ``backfill_ambiguity_minutes=0``),
    the three models published; nothing promoted, nothing predicted."""

    def make(**overrides: Any) -> History:
        app = app_factory(**overrides)
        old = upload_model(app, models.old, OLD_NAME)
        new = upload_model(app, models.retrain, NEW_NAME)
        other = upload_model(app, other_model, OTHER_NAME)
        paths = {
            old.model_sha256: models.old,
            new.model_sha256: models.retrain,
            other.model_sha256: other_model,
        }
        return History(app=app, old=old, new=new, other=other, paths=paths)

    return make


@pytest.fixture
def history(make_history: HistoryFactory) -> History:
    """Default settings (a 30-minute ambiguity window)."""
    return make_history()
