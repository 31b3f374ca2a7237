"""Fixtures every test may use: a clean process, its log lines kept out of capsys, an isolated
embedded App, and small models.

The models are trained once per session (a few hundred milliseconds each) into a temporary
folder; tests read their bytes and never modify the files. The emulator fixtures live in
``tests/emulators.py`` and are imported here, so tests/integration and tests/e2e share one
emulator of each kind per session.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from emulators import (
    gcp_project,
    gcs_bucket,
    gcs_emulator,
    mark_emulator_tests,
    pubsub,
    pubsub_emulator,
    pubsub_topic,
)

from attribution.bootstrap import App, build_app, use_app
from attribution.config import Settings
from attribution.devtools.training import TrainingSpec, train_model
from attribution.logs import configure_logging

__all__ = ["gcp_project", "gcs_bucket", "gcs_emulator", "pubsub", "pubsub_emulator", "pubsub_topic"]

SMALL = TrainingSpec(rows=2000, iterations=30, depth=4)

OLD_SPEC = replace(
    SMALL,
    system_id="catboost_v9",
    training_start=date(2025, 11, 2),
    training_end=date(2026, 1, 31),
    expected_mae=4.12,
    expected_hit_rate=74.6,
    trained_at="2026-02-01T06:30:00Z",
    seed=0,
)
RETRAIN_SPEC = replace(
    SMALL,
    system_id="catboost_v9",
    training_start=date(2025, 12, 1),
    training_end=date(2026, 2, 28),
    expected_mae=4.31,
    expected_hit_rate=71.2,
    trained_at="2026-03-01T07:00:00Z",
    seed=7,
)
FACTLESS_SPEC = replace(SMALL, seed=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_emulator_tests(items)


@dataclass(frozen=True)
class TrainedModels:
    old: Path
    retrain: Path
    factless: Path


@pytest.fixture(scope="session", autouse=True)
def _logs_on_the_process_stderr() -> None:
    """The library's log lines go to the process's own stderr (pytest shows them with a failing
    test), never into a test's capsys: what a test reads there is what the CLI itself printed.
    ``build_app`` keeps this stream; the library alone writes to ``sys.stderr`` of the moment."""
    configure_logging("INFO", stream=sys.__stderr__)


@pytest.fixture(autouse=True)
def _clean_process() -> Iterator[None]:
    """Each test starts and ends with the same environment and no process App."""
    saved = dict(os.environ)
    use_app(None)
    yield
    use_app(None)
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> TrainedModels:
    folder = tmp_path_factory.mktemp("models")
    return TrainedModels(
        old=train_model(OLD_SPEC, folder / "catboost_v9_old.cbm"),
        retrain=train_model(RETRAIN_SPEC, folder / "catboost_v9_retrain.cbm"),
        factless=train_model(FACTLESS_SPEC, folder / "factless.cbm", declare_facts=False),
    )


@pytest.fixture(scope="session")
def old_model_bytes(models: TrainedModels) -> bytes:
    return models.old.read_bytes()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh ATTRIBUTION_HOME, set in the environment for code that reads it."""
    folder = tmp_path / "home"
    folder.mkdir()
    os.environ["ATTRIBUTION_HOME"] = str(folder)
    return folder


AppFactory = Callable[..., App]


@pytest.fixture
def app_factory(home: Path) -> Iterator[AppFactory]:
    """Build and install an embedded App (local bucket, DuckDB, in-process bus) on ``home``.

    Keyword arguments override Settings fields, e.g. ``max_model_bytes=1000``.
    """
    built: list[App] = []

    def make(**overrides: Any) -> App:
        instance = build_app(Settings(home=home, **overrides))
        use_app(instance)
        built.append(instance)
        return instance

    yield make
    for instance in built:
        close = getattr(instance.warehouse, "close", None)
        if close is not None:
            close()


@pytest.fixture
def embedded_app(app_factory: AppFactory) -> App:
    return app_factory()
