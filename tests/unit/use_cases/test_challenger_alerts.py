"""The verifier reports challengers as context and tells once when one is decided: rows
written as the batches write them (a champion right on every pick, a challenger wrong on
most), graded by the accuracy view, judged by the verifier."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from app_support import upload_model

from attribution.bootstrap import App
from attribution.model_card.card import ModelCard
from attribution.verification.outcome import Status

from .conftest import SYSTEM, sent

DAYS = (date(2026, 2, 1), date(2026, 2, 2))
PLAYERS = 40


def write_day(app: App, day: date, champion: ModelCard, challenger: ModelCard) -> None:
    """A batch's rows: every player's line at 20.5, 30 points scored; the champion says 28
    (OVER, right) for all, the challenger 12 (UNDER, wrong) for all but the last 5."""
    created = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    batch = f"b-{day}"

    def row(player: int, card: ModelCard, points: float, role: str) -> dict[str, Any]:
        suffix = "" if role == "champion" else f"@{card.model_sha256[:16]}"
        return {
            "prediction_id": f"{batch}:{player}{suffix}",
            "batch_id": batch,
            "system_id": SYSTEM,
            "game_date": day,
            "player_lookup": f"p{player:02d}",
            "line_value": 20.5,
            "predicted_points": points,
            "edge": points - 20.5,
            "recommendation": "OVER" if points > 20.5 else "UNDER",
            "created_at": created,
            "model_file_name": card.model_file_name,
            "model_sha256": card.model_sha256,
            "model_card_id": card.card_id,
            "attribution_method": "stamped",
            "model_role": role,
        }

    app.warehouse.insert_new_rows(
        "player_prop_predictions",
        [row(p, champion, 28.0, "champion") for p in range(PLAYERS)],
        key=["prediction_id"],
    )
    app.warehouse.insert_new_rows(
        "challenger_predictions",
        [
            row(p, challenger, 12.0 if p < PLAYERS - 5 else 28.0, "challenger")
            for p in range(PLAYERS)
        ],
        key=["prediction_id"],
    )
    app.warehouse.insert_new_rows(
        "player_game_results",
        [
            {
                "game_date": day,
                "player_lookup": f"p{p:02d}",
                "actual_points": 30.0,
                "loaded_at": created,
            }
            for p in range(PLAYERS)
        ],
        key=["game_date", "player_lookup"],
    )


def decided(app: App) -> list[str]:
    return [a.text for a in sent(app).sent if a.title.startswith("Challenger decided")]


def test_a_challenger_found_worse_is_told_once(app: App, old_card: ModelCard, models: Any) -> None:
    retrain = upload_model(app, models.retrain, "catboost_v9_retrain.cbm")
    app.ledger.promote(SYSTEM, old_card, at=datetime(2026, 1, 1, tzinfo=UTC))
    app.ledger.challenge(SYSTEM, retrain, at=datetime(2026, 1, 2, tzinfo=UTC))
    write_day(app, DAYS[0], old_card, retrain)

    (first,) = app.verifier().verify(DAYS[0], SYSTEM)
    context = next(c for c in first.checks if c.name == "challengers")
    assert context.status is Status.INFO
    # 40 paired picks: the champion right on all, the challenger on 5: b = 35, c = 0, and the
    # exact two-sided McNemar p is 2 * 0.5**35.
    (line,) = context.details
    assert "challenger worse: 12.5% vs 100.0% on 40 paired picks" in line
    assert "p<0.001" in line
    (told,) = decided(app)
    assert retrain.model_file_name in told and "challenger worse" in told

    app.verifier().verify(DAYS[0], SYSTEM)  # the same day again: nothing new to tell
    write_day(app, DAYS[1], old_card, retrain)
    (second,) = app.verifier().verify(DAYS[1], SYSTEM)  # still worse, on more picks
    assert (
        "on 80 paired picks" in next(c for c in second.checks if c.name == "challengers").details[0]
    )
    assert len(decided(app)) == 1
