"""Fixtures for the prediction-batch tests: a world with two published models, one active."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import functions_framework
import pytest
from app_support import upload_model

from attribution.devtools.slates import Slate, slate_for

from .support import GAME_DATE, OLD_NAME, RETRAIN_NAME, SYSTEM, BatchWorld, batch_spec

WorldFactory = Callable[..., BatchWorld]


@pytest.fixture
def make_world(app_factory: Any, models: Any) -> WorldFactory:
    """Build an embedded App (Settings overrides as keywords), publish both models through
    the bucket trigger, and promote the old one for ``catboost_v9``."""

    def make(*, promote: bool = True, **overrides: Any) -> BatchWorld:
        app = app_factory(**overrides)
        old = upload_model(app, models.old, OLD_NAME)
        retrain = upload_model(app, models.retrain, RETRAIN_NAME)
        if promote:
            app.ledger.promote(SYSTEM, old, by="tests")
        return BatchWorld(app=app, old=old, retrain=retrain)

    return make


@pytest.fixture
def world(make_world: WorldFactory) -> BatchWorld:
    return make_world()


@pytest.fixture(scope="session")
def slate() -> Slate:
    return slate_for(GAME_DATE, players=40)


@pytest.fixture
def function_client(world: BatchWorld) -> Any:
    """functions-framework's own app for functions/prediction_batch/main.py, as a test client."""
    spec = batch_spec()
    flask_app = functions_framework.create_app(spec.entry_point, str(spec.source), "cloudevent")
    return flask_app.test_client()
