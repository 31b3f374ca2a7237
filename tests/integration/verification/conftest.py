"""Fixtures for the verifier tests: a small real world on an isolated embedded App.

Three tiny models are trained once per session (well under a second in all); each test
gets its own ATTRIBUTION_HOME (``app_factory`` from tests/conftest.py), uploads A and B
through the bucket trigger and, depending on the fixture, promotes A, predicts DAY and
loads its results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functions_framework
import pytest

from attribution.function_manifest import function_specs

from .support import DAY, ModelFiles, World, build_world, train_files


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    return train_files(tmp_path_factory.mktemp("verification-models"))


@pytest.fixture
def bare_world(app_factory: Any, model_files: ModelFiles) -> World:
    """Models A and B published, nothing promoted, nothing predicted. Days are verified
    when a test asks (batches do not announce their end, so no verification runs unasked)."""
    return build_world(app_factory(post_run_verification=False), model_files)


@pytest.fixture
def ungraded_world(bare_world: World) -> World:
    """A promoted; one batch of 60 predictions for DAY; no results yet."""
    bare_world.promote(bare_world.a)
    bare_world.predict(DAY)
    return bare_world


@pytest.fixture
def world(ungraded_world: World) -> World:
    """A clean day: A promoted, DAY predicted and graded."""
    assert ungraded_world.load_results(DAY) > 0
    return ungraded_world


def verifier_source() -> Path:
    return function_specs()["verifier"].source


@pytest.fixture
def verifier_events(world: World) -> Any:
    """functions-framework's own app for on_verification_requested, as a test client."""
    spec = function_specs()["verifier"]
    flask_app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        spec.entry_point, str(spec.source), "cloudevent"
    )
    return flask_app.test_client()


@pytest.fixture
def verifier_http(world: World) -> Any:
    """functions-framework's own app for verify_http, as a test client."""
    flask_app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        "verify_http", str(verifier_source()), "http"
    )
    return flask_app.test_client()
