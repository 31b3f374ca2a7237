"""Model Card Toolkit JSON (schema v0.0.2): model details, parameters (the training data and
the model's interface), and the quantitative analysis, expected figures and realized ones
sliced by role and date range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attribution.card_exports.figures import Figure, Realized
from attribution.model_card.card import ModelCard
from attribution.model_card.interface import PredictionType

SCHEMA_VERSION = "0.0.2"


def toolkit_card(
    card: ModelCard, expected: Sequence[Figure], realized: Sequence[Realized]
) -> dict[str, Any]:
    window = f"{card.training_start_date or '?'} to {card.training_end_date or '?'}"
    version: dict[str, Any] = {"name": card.card_id}
    if card.trained_at is not None:
        version["date"] = card.trained_at.date().isoformat()
    metrics = [_metric(f, "expected, held-out games of the training window") for f in expected]
    for part in realized:
        where = f"realized as {part.role}, games {part.first_game} to {part.last_game}"
        metrics += [_metric(f, where) for f in part.figures]
    return {
        "schema_version": SCHEMA_VERSION,
        "model_details": {
            "name": card.model_file_name,
            "overview": f"CatBoost model of system {card.system_id or 'unassigned'}, "
            f"trained on games from {window}.",
            "documentation": (
                f"Artifact {card.model_uri} (SHA-256 {card.model_sha256}, {card.size_bytes} "
                f"bytes); card {card.card_id}, {card.status.value}"
                + (f", not declared: {', '.join(card.missing_facts)}" if card.missing_facts else "")
                + "."
            ),
            "version": version,
        },
        "model_parameters": {
            "model_architecture": f"CatBoost {card.catboost_version or '?'} gradient-boosted "
            f"trees ({card.tree_count}), loss {card.loss_function or '?'}",
            "data": [
                {
                    "name": f"training games, {window}",
                    "description": "the training window the artifact declares",
                }
            ],
            "input_format": _input_format(card),
            "output_format": _output_format(card),
        },
        "quantitative_analysis": {"performance_metrics": metrics},
    }


def _metric(figure: Figure, where: str) -> dict[str, Any]:
    return {"type": figure.name, "value": figure.value, "slice": where}


def _input_format(card: ModelCard) -> str:
    if not card.features:
        return ", ".join(card.feature_names)
    features = ", ".join(f"{f.name} ({f.type.value})" for f in card.features)
    return f"{features}; missing numbers: nan_mode {card.nan_mode or '?'}"


def _output_format(card: ModelCard) -> str:
    if card.prediction_type is PredictionType.OVER_PROBABILITY:
        return "the probability that the OVER hits"
    if card.prediction_type is PredictionType.POINTS:
        return "predicted points"
    return card.unservable_reason or "not servable"
