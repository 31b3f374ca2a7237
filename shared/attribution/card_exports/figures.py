"""What a card promised (its expected figures) and what its predictions realized (graded by
the results loaded so far, per role it served in), as both export formats report them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from attribution.model_card.card import ModelCard
from attribution.model_card.interface import PredictionType
from attribution.ports import Warehouse
from attribution.verification.report import model_report


@dataclass(frozen=True)
class Figure:
    metric: str  # a short metric type: mae, high_edge_hit_rate, hit_rate, brier_score, log_loss
    name: str  # as a person reads it
    value: float


@dataclass(frozen=True)
class Realized:
    """One role's graded predictions of the model, and the game days they cover. ``basis``
    says on how many picks the hit rate stands (MAE, Brier and log loss are over every
    graded prediction, passes too)."""

    role: str
    first_game: date
    last_game: date
    basis: str
    figures: tuple[Figure, ...]


def hit_rate_name(card: ModelCard, high_edge: float) -> tuple[str, str]:
    """A points model's declared hit rate is that of its high-edge picks; a classifier's,
    that of all its picks."""
    if card.prediction_type is PredictionType.OVER_PROBABILITY:
        return "hit_rate", "hit rate (%)"
    return "high_edge_hit_rate", f"hit rate of picks with |edge| >= {high_edge:g} (%)"


def expected_figures(card: ModelCard, *, high_edge: float) -> tuple[Figure, ...]:
    hit_metric, hit_name = hit_rate_name(card, high_edge)
    declared = (
        ("mae", "MAE (points)", card.expected_mae),
        (hit_metric, hit_name, card.expected_hit_rate),
        ("brier_score", "Brier score", card.expected_brier_score),
        ("log_loss", "log loss", card.expected_log_loss),
    )
    return tuple(Figure(m, n, float(v)) for m, n, v in declared if v is not None)


def realized_figures(warehouse: Warehouse, card: ModelCard, *, high_edge: float) -> list[Realized]:
    """Per role, the figures of the model's graded predictions; none before results exist."""
    hit_metric, hit_name = hit_rate_name(card, high_edge)
    realized: list[Realized] = []
    for row in model_report(warehouse, system_id=card.system_id, min_edge=high_edge):
        if row["model_sha256"] != card.model_sha256 or not row["picks"]:
            continue
        hit_rate = row["hit_rate" if hit_metric == "hit_rate" else "high_edge_hit_rate"]
        measured = (
            ("mae", "MAE (points)", row["mae"]),
            (hit_metric, hit_name, hit_rate),
            ("brier_score", "Brier score", row["brier_score"]),
            ("log_loss", "log loss", row["log_loss"]),
        )
        figures = tuple(Figure(m, n, float(v)) for m, n, v in measured if v is not None)
        basis = f"{row['picks']} graded picks"
        if hit_metric == "high_edge_hit_rate":
            basis += f", {row['high_edge_picks']} with |edge| >= {high_edge:g}"
        realized.append(
            Realized(row["model_role"], row["first_game"], row["last_game"], basis, figures)
        )
    return realized
