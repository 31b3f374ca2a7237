"""``report models``: per model file, how it did against what its card promised."""

from __future__ import annotations

from datetime import date

from attribution.model_card.interface import PredictionType
from attribution.ports import Row, Warehouse
from attribution.warehouse.sql_text import sql


def model_report(
    warehouse: Warehouse,
    *,
    system_id: str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    min_edge: float = 5.0,
) -> list[Row]:
    """One row per model; an over/under classifier's has Brier score and log loss, and no
    MAE or high-edge figures (it predicts no points)."""
    rows = warehouse.query(
        sql("report_models"),
        {
            "system_id": system_id,
            "from_date": from_date or date(1900, 1, 1),
            "to_date": to_date or date(9999, 12, 31),
            "min_edge": float(min_edge),
        },
    )
    for row in rows:
        row["prediction_type"] = (
            PredictionType.OVER_PROBABILITY.value
            if row["probability_rows"]
            else PredictionType.POINTS.value
        )
    return rows
