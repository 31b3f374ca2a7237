"""Helpers for the verifier tests: a small real world driven the way production drives it.

Models are uploaded through the bucket trigger (model_upload), promoted in the ledger,
slates are predicted by publishing batch messages on the in-process bus (prediction_batch),
and results are loaded with ``load_results``. Only the damage a test wants to catch is done
by hand, straight in the warehouse or the bucket folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from app_support import RecordingNotifier, inline_batch, upload_model

from attribution.adapters.embedded.inprocess_bus import Delivery, InProcessBus
from attribution.adapters.embedded.local_bucket import LocalBucket
from attribution.bootstrap import App
from attribution.devtools.slates import slate_for
from attribution.devtools.training import TrainingSpec
from attribution.model_card.card import ModelCard
from attribution.ports import Row, Warehouse
from attribution.verification.game_results import load_results
from attribution.verification.outcome import CheckResult, Status, SystemVerdict
from attribution.verification.settings import VerifierSettings, load_verifier_settings
from attribution.verification.verifier import Verifier

SYSTEM = "catboost_v9"
DAY = date(2026, 3, 2)
EMPTY_DAY = date(2026, 3, 9)
PLAYERS = 60
A_NAME = "catboost_v9_a.cbm"
B_NAME = "catboost_v9_b.cbm"
OVERPROMISED_NAME = "catboost_v9_overpromised.cbm"
SMALL: dict[str, Any] = {"rows": 2000, "iterations": 30, "depth": 4, "measure_expected": True}

# The card's expected MAE and hit rate are measured on a holdout at training time.
A_SPEC = TrainingSpec(
    system_id=SYSTEM,
    training_start=date(2025, 11, 1),
    training_end=date(2026, 1, 31),
    expected_mae=None,
    expected_hit_rate=None,
    trained_at="2026-02-01T06:00:00Z",
    seed=21,
    **SMALL,
)
B_SPEC = TrainingSpec(
    system_id=SYSTEM,
    training_start=date(2025, 12, 1),
    training_end=date(2026, 2, 28),
    expected_mae=None,
    expected_hit_rate=None,
    trained_at="2026-03-01T06:00:00Z",
    seed=22,
    **SMALL,
)
# A card that promises far more than the model can do: MAE 0.5 points.
OVERPROMISED_SPEC = TrainingSpec(
    system_id=SYSTEM,
    training_start=date(2025, 11, 1),
    training_end=date(2026, 1, 31),
    expected_mae=0.5,
    expected_hit_rate=None,
    trained_at="2026-02-01T07:00:00Z",
    seed=23,
    **SMALL,
)
ATTRIBUTION_COLUMNS = (
    "model_file_name",
    "model_training_start_date",
    "model_training_end_date",
    "model_expected_mae",
    "model_expected_hit_rate",
    "model_trained_at",
    "model_sha256",
)


@dataclass(frozen=True)
class ModelFiles:
    a: Path
    b: Path
    overpromised: Path


class RaisingWarehouse:
    """A warehouse whose ``query`` raises for one SQL text; everything else goes through."""

    def __init__(self, inner: Warehouse, failing_sql: str, error: Exception) -> None:
        self.inner = inner
        self.failing_sql = failing_sql
        self.error = error

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        if sql == self.failing_sql:
            raise self.error
        return self.inner.query(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def check(verdict: SystemVerdict, name: str) -> CheckResult:
    found = [c for c in verdict.checks if c.name == name]
    assert len(found) == 1, [c.name for c in verdict.checks]
    return found[0]


def statuses(verdict: SystemVerdict) -> dict[str, Status]:
    return {c.name: c.status for c in verdict.checks}


def assert_actionable(verdict: SystemVerdict) -> None:
    """Every check that did not pass says what to do next."""
    for result in verdict.checks:
        if result.status in (Status.FAIL, Status.PARTIAL, Status.UNKNOWN):
            assert result.next_step, f"{result.name} {result.status} has no next step"


@dataclass
class World:
    """An embedded App with models A and B published (nothing promoted unless a fixture did)."""

    app: App
    notifier: RecordingNotifier
    files: ModelFiles
    a: ModelCard
    b: ModelCard
    batches: list[str] = field(default_factory=list)

    @property
    def bus(self) -> InProcessBus:
        assert isinstance(self.app.publisher, InProcessBus)
        return self.app.publisher

    @property
    def bucket(self) -> LocalBucket:
        assert isinstance(self.app.models, LocalBucket)
        return self.app.models

    def object_name(self, file_name: str) -> str:
        return f"{self.app.settings.models_prefix}{file_name}"

    def upload(self, path: Path, file_name: str) -> ModelCard:
        return upload_model(self.app, path, file_name)

    def promote(self, card: ModelCard, system_id: str = SYSTEM) -> None:
        self.app.ledger.promote(system_id, card, by="tests")
        self.app.active_models().forget()  # no waiting out the ledger TTL

    def predict(
        self,
        day: date = DAY,
        *,
        system_id: str = SYSTEM,
        batch_id: str | None = None,
        rows: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """Publish one batch request for ``day``; the bus runs prediction_batch. Its batch id."""
        batch_id = batch_id or f"{system_id}-{day}-{len(self.batches)}"
        if rows is None:
            rows = slate_for(day, players=PLAYERS).rows
        request = inline_batch(batch_id, system_id, day, rows)
        before = len(self.bus.deliveries)
        self.app.publisher.publish(
            self.app.settings.prediction_batches_topic, request.encode(), {"origin": "tests"}
        )
        delivered: list[Delivery] = [
            d for d in self.bus.deliveries[before:] if d.function == "prediction_batch"
        ]
        assert [d.ok for d in delivered] == [True], delivered
        self.batches.append(batch_id)
        return batch_id

    def load_results(self, day: date = DAY, rows: Iterable[Mapping[str, Any]] | None = None) -> int:
        results = list(rows) if rows is not None else slate_for(day, players=PLAYERS).results
        return load_results(self.app.warehouse, pa.Table.from_pylist(results)).loaded

    def query(self, sql: str, **params: Any) -> list[Row]:
        return self.app.warehouse.query(sql, params)

    def predictions(self, day: date = DAY, system_id: str = SYSTEM) -> list[Row]:
        return self.query(
            "SELECT * FROM player_prop_predictions WHERE game_date = @game_date "
            "AND system_id = @system_id ORDER BY batch_id, prediction_id",
            game_date=day,
            system_id=system_id,
        )

    def insert_unattributed(
        self, count: int, *, day: date = DAY, batch_id: str = "legacy-worker"
    ) -> list[str]:
        """What a worker without stamping writes: predictions with no model columns at all."""
        slate = slate_for(day, players=max(count, 1))
        rows = [
            {
                "prediction_id": f"legacy-{day}-{i:03d}",
                "batch_id": batch_id,
                "system_id": SYSTEM,
                "game_date": day,
                "player_lookup": f"legacy_{row['player_lookup']}",
                "line_value": row["line_value"],
                "predicted_points": float(row["points_avg_season"]),
                "edge": float(row["points_avg_season"]) - float(row["line_value"]),
                "recommendation": "OVER",
                "run_mode": "OVERNIGHT",
                "created_at": datetime.now(UTC),
            }
            for i, row in enumerate(slate.rows[:count])
        ]
        assert len(rows) == count
        self.app.warehouse.insert_rows("player_prop_predictions", rows)
        return [r["prediction_id"] for r in rows]

    def copy_rows(
        self, rows: Sequence[Row], *, batch_id: str, prefix: str, **changes: Any
    ) -> list[Row]:
        """Insert copies of existing prediction rows under new ids (and ``changes``)."""
        copies = [
            {**row, "prediction_id": f"{prefix}-{i:03d}", "batch_id": batch_id, **changes}
            for i, row in enumerate(rows)
        ]
        self.app.warehouse.insert_rows("player_prop_predictions", copies)
        return copies

    def settings(self, env: Mapping[str, str] | None = None) -> VerifierSettings:
        """Verifier settings from ``env`` alone (never the process environment)."""
        return load_verifier_settings(dict(env or {}))

    def verifier(
        self,
        *,
        env: Mapping[str, str] | None = None,
        settings: VerifierSettings | None = None,
        warehouse: Warehouse | None = None,
    ) -> Verifier:
        return Verifier(
            warehouse=warehouse or self.app.warehouse,
            registry=self.app.registry,
            store_for=self.app.store,
            notifier=self.notifier,
            settings=settings or self.settings(env),
        )

    def verify(
        self,
        day: date = DAY,
        system_id: str | None = SYSTEM,
        *,
        env: Mapping[str, str] | None = None,
        settings: VerifierSettings | None = None,
    ) -> SystemVerdict:
        verdicts = self.verifier(env=env, settings=settings).verify(day, system_id)
        assert len(verdicts) == 1, verdicts
        return verdicts[0]

    def runs(self, system_id: str = SYSTEM) -> list[Row]:
        return self.query(
            "SELECT * FROM verification_runs WHERE system_id = @system_id ORDER BY finished_at",
            system_id=system_id,
        )


def train_files(folder: Path) -> ModelFiles:
    from attribution.devtools.training import train_model

    return ModelFiles(
        a=train_model(A_SPEC, folder / A_NAME),
        b=train_model(B_SPEC, folder / B_NAME),
        overpromised=train_model(OVERPROMISED_SPEC, folder / OVERPROMISED_NAME),
    )


def build_world(app: App, files: ModelFiles) -> World:
    notifier = RecordingNotifier()
    app.notifier = notifier  # the functions and the CLI reach the same App, so the same notifier
    return World(
        app=app,
        notifier=notifier,
        files=files,
        a=upload_model(app, files.a, A_NAME),
        b=upload_model(app, files.b, B_NAME),
    )


def graded_frame(app: App) -> Any:
    """Every prediction beside its result, graded here with pandas (not the warehouse view)."""
    import numpy as np
    import pandas as pd

    predictions = pd.DataFrame(app.warehouse.query("SELECT * FROM player_prop_predictions"))
    results = pd.DataFrame(
        app.warehouse.query(
            "SELECT game_date, player_lookup, actual_points FROM player_game_results"
        ),
        columns=["game_date", "player_lookup", "actual_points"],
    )
    frame = predictions.merge(results, on=["game_date", "player_lookup"], how="left")
    actual = frame["actual_points"].astype(float)
    line = frame["line_value"].astype(float)
    side = frame["recommendation"]
    frame["picked"] = (
        actual.notna() & line.notna() & (actual != line) & side.isin(["OVER", "UNDER"])
    )
    frame["correct"] = frame["picked"] & np.where(side == "OVER", actual > line, actual < line)
    frame["graded"] = actual.notna()
    frame["absolute_error"] = (frame["predicted_points"].astype(float) - actual).abs()
    return frame
