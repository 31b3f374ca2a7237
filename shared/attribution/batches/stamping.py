"""Turn predictions into rows that carry the card of the model that produced them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attribution.batches.lineup import Role
from attribution.batches.request import BatchRequest
from attribution.batches.rows import CheckedRows
from attribution.batches.scoring import Scores
from attribution.model_card.card import ModelCard, attribution_columns
from attribution.warehouse.tables import table_spec

STAMPED = "stamped"
# Where each role's rows are written: the champion's are the system's predictions, which
# readers that know nothing of challengers keep reading as before.
PREDICTION_TABLES = {
    Role.CHAMPION: "player_prop_predictions",
    Role.CHALLENGER: "challenger_predictions",
}


def batch_key(batch_id: str, system_id: str, game_date: str) -> str:
    return hashlib.sha256(f"{batch_id}|{system_id}|{game_date}".encode()).hexdigest()[:20]


def prediction_ids(
    request: BatchRequest, players: pa.Array, line_value: np.ndarray, sportsbook: pa.Array
) -> pa.Array:
    """Deterministic per (batch, system, game date, player, line, sportsbook when given):
    redelivery gives the same ids, and each of a player's lines has its own."""
    key = batch_key(request.batch_id, request.system_id, request.game_date.isoformat())
    lines = pc.cast(pa.array(line_value, pa.float64()), pa.string())
    return pc.binary_join_element_wise(key, players, lines, sportsbook, ":", null_handling="skip")


_LABELS = pa.array(["OVER", "UNDER", "PASS"], pa.string())


def recommendations(edge: np.ndarray, min_edge: float) -> pa.Array:
    """OVER or UNDER by the sign of the edge; PASS when it is smaller than ``min_edge``."""
    choice = np.where(np.abs(edge) < min_edge, 2, np.where(edge > 0, 0, 1)).astype(np.int8)
    return _LABELS.take(pa.array(choice))  # no NumPy unicode array in between


def probability_recommendations(over_probability: np.ndarray, threshold: float) -> pa.Array:
    """OVER when the OVER is at least ``threshold`` likely, UNDER when the UNDER is, else PASS.

    The threshold is the break-even probability of the price (52.4% at -110).
    """
    choice = np.where(
        over_probability >= threshold, 0, np.where(1.0 - over_probability >= threshold, 1, 2)
    ).astype(np.int8)
    return _LABELS.take(pa.array(choice))


@dataclass(frozen=True)
class PickRules:
    """How a prediction becomes a pick: the points edge, or the probability threshold."""

    min_edge: float
    over_probability_threshold: float


def stamp_predictions(
    request: BatchRequest,
    card: ModelCard,
    checked: CheckedRows,
    scores: Scores,
    *,
    rules: PickRules,
    created_at: datetime,
    method: str = STAMPED,
    role: Role = Role.CHAMPION,
    slate_ids: pa.Array | None = None,
) -> pa.Table:
    """One row per prediction, with the six attribution columns the reference system's table
    had and the card's id.

    A points model fills ``predicted_points`` and ``edge``; an over/under classifier fills
    ``over_probability`` and leaves them NULL. A challenger's rows (for
    ``challenger_predictions``) have the champion's prediction id for the same line, then
    ``@`` and the first 16 hex of the challenger's sha256. ``slate_ids``: every slate row's
    id (``prediction_ids`` of the whole slate), made once for all the batch's models.
    """
    spec = table_spec(PREDICTION_TABLES[role])
    players, line_value = checked.player_lookup, checked.line_value
    n = len(players)
    ids = (
        prediction_ids(request, players, line_value, checked.sportsbook)
        if slate_ids is None
        else slate_ids.take(pa.array(checked.row_numbers))
    )
    if role is Role.CHALLENGER:
        ids = pc.binary_join_element_wise(ids, card.model_sha256[:16], "@")
    varying: dict[str, pa.Array] = {
        "prediction_id": ids,
        "player_lookup": players,
        "line_value": pa.array(line_value, pa.float64()),
        "sportsbook": checked.sportsbook,
        "odds": pa.array(checked.odds, pa.float64(), from_pandas=True),
    }
    if scores.points is not None:
        edge = scores.points - line_value
        varying |= {
            "predicted_points": pa.array(scores.points, pa.float64()),
            "edge": pa.array(edge, pa.float64()),
            "recommendation": recommendations(edge, rules.min_edge),
        }
    if scores.over_probability is not None:
        varying |= {
            "over_probability": pa.array(scores.over_probability, pa.float64()),
            "recommendation": probability_recommendations(
                scores.over_probability, rules.over_probability_threshold
            ),
        }
    constants = {
        "batch_id": request.batch_id,
        "system_id": request.system_id,
        "game_date": request.game_date,
        "run_mode": request.run_mode.value,
        "created_at": created_at,
        **attribution_columns(card),
        "attribution_method": method,
        "model_role": role.value,
    }
    arrays = []
    fields = []
    for field in spec.arrow_schema:
        if field.name in varying:
            arrays.append(varying[field.name])
            fields.append(field)
            continue
        value = constants.get(field.name)
        if pa.types.is_string(field.type) and value is not None:
            # One copy of the text and a byte per row: the batch's constants (card, ids)
            # would otherwise be a dozen columns of the same string repeated N times.
            column = pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, dtype=np.int8)), pa.array([value], pa.string())
            )
            arrays.append(column)
            fields.append(pa.field(field.name, column.type, nullable=field.nullable))
        else:
            arrays.append(pa.repeat(pa.scalar(value, field.type), n))
            fields.append(field)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
