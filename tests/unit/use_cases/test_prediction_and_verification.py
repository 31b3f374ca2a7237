"""A batch predicted and stamped, then verified: every figure checked against CatBoost's own
predictions and a hand-graded hit rate, not against the code under test."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from app_support import inline_batch
from catboost_oracle import regressor_predictions

from attribution.bootstrap import App
from attribution.devtools.slates import Slate, slate_for
from attribution.events import PubSubMessage
from attribution.model_card.card import ATTRIBUTION_COLUMNS, ModelCard
from attribution.verification.game_results import load_results

from .conftest import SYSTEM

GAME_DATE = date(2026, 3, 1)


@pytest.fixture
def slate() -> Slate:
    return slate_for(GAME_DATE, players=30)


@pytest.fixture
def predicted(app: App, old_card: ModelCard, slate: Slate) -> list[dict[str, Any]]:
    app.ledger.promote(SYSTEM, old_card, at=datetime(2026, 2, 2, tzinfo=UTC))
    request = inline_batch("unit-1", SYSTEM, GAME_DATE, slate.rows)
    message = PubSubMessage(event_id="e1", message_id="m1", data=request.encode())
    outcome = app.batch_predictor().handle_message(message)
    assert outcome.written == len(slate.rows)
    again = app.batch_predictor().handle_message(message)  # redelivered
    assert again.written == 0
    return app.warehouse.query(
        "SELECT * FROM player_prop_predictions WHERE batch_id = 'unit-1' ORDER BY player_lookup"
    )


def test_every_prediction_is_catboosts_own_and_carries_the_card(
    predicted: list[dict[str, Any]], slate: Slate, old_card: ModelCard, models: Any
) -> None:
    by_player = {r["player_lookup"]: r for r in slate.rows}
    inputs = [by_player[p["player_lookup"]] for p in predicted]
    expected = regressor_predictions(models.old, inputs)
    stored = np.array([p["predicted_points"] for p in predicted])
    np.testing.assert_allclose(stored, expected, rtol=0, atol=1e-9)
    card = {
        "model_file_name": "catboost_v9_old.cbm",
        "model_training_start_date": old_card.training_start_date,
        "model_training_end_date": old_card.training_end_date,
        "model_expected_mae": old_card.expected_mae,
        "model_expected_hit_rate": old_card.expected_hit_rate,
        "model_trained_at": old_card.trained_at,
        "model_sha256": hashlib.sha256(models.old.read_bytes()).hexdigest(),
        "model_card_id": old_card.card_id,
    }
    assert set(card) == set(ATTRIBUTION_COLUMNS)
    for row in predicted:
        assert {c: row[c] for c in card} == card
        assert row["attribution_method"] == "stamped"


def test_the_verdict_figures_are_the_graded_rows(
    app: App, predicted: list[dict[str, Any]], slate: Slate
) -> None:
    load_results(app.warehouse, pa.Table.from_pylist(slate.results))
    (verdict,) = app.verifier().verify(GAME_DATE, SYSTEM)
    checks = {c.name: c for c in verdict.checks}
    assert checks["coverage"].figures["coverage_pct"] == 100.0
    (model,) = checks["performance"].figures["models"]
    actual = {r["player_lookup"]: r["actual_points"] for r in slate.results}
    graded = [p for p in predicted if actual.get(p["player_lookup"]) is not None]
    errors = [abs(p["predicted_points"] - actual[p["player_lookup"]]) for p in graded]
    assert model["graded"] == len(graded)
    assert model["mae"] == round(float(np.mean(errors)), 2)
    hits = picks = 0
    for p in graded:
        points, line = actual[p["player_lookup"]], p["line_value"]
        if p["recommendation"] == "OVER":
            picks, hits = picks + 1, hits + (points > line)
        elif p["recommendation"] == "UNDER":
            picks, hits = picks + 1, hits + (points < line)
    assert model["picks"] == picks
    assert model["hit_rate"] == pytest.approx(100 * hits / picks, abs=0.05)
