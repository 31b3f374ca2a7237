"""Turn predictions into rows that carry the card of the model that produced them."""

from __future__ import annotations

import hashlib
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attribution.batch_request import BatchRequest
from attribution.card import ModelCard, attribution_columns
from attribution.tables import table_spec

STAMPED = "stamped"


def batch_key(batch_id: str, system_id: str, game_date: str) -> str:
    return hashlib.sha256(f"{batch_id}|{system_id}|{game_date}".encode()).hexdigest()[:20]


def prediction_ids(request: BatchRequest, players: pa.Array) -> pa.Array:
    """Deterministic per (batch, system, game date, player): redelivery gives the same ids."""
    key = batch_key(request.batch_id, request.system_id, request.game_date.isoformat())
    return pc.binary_join_element_wise(key, players, ":")


_LABELS = pa.array(["OVER", "UNDER", "PASS"], pa.string())


def recommendations(edge: np.ndarray, min_edge: float) -> pa.Array:
    """OVER or UNDER by the sign of the edge; PASS when it is smaller than ``min_edge``."""
    choice = np.where(np.abs(edge) < min_edge, 2, np.where(edge > 0, 0, 1)).astype(np.int8)
    return _LABELS.take(pa.array(choice))  # no NumPy unicode array in between


def stamp_predictions(
    request: BatchRequest,
    card: ModelCard,
    players: pa.Array,
    line_value: np.ndarray,
    predicted: np.ndarray,
    *,
    min_edge: float,
    created_at: datetime,
    method: str = STAMPED,
) -> pa.Table:
    """One row per prediction, with the seed's six attribution columns and the card's id."""
    spec = table_spec("player_prop_predictions")
    n = len(players)
    edge = predicted - line_value
    varying: dict[str, pa.Array] = {
        "prediction_id": prediction_ids(request, players),
        "player_lookup": players,
        "line_value": pa.array(line_value, pa.float64()),
        "predicted_points": pa.array(predicted, pa.float64()),
        "edge": pa.array(edge, pa.float64()),
        "recommendation": recommendations(edge, min_edge),
    }
    constants = {
        "batch_id": request.batch_id,
        "system_id": request.system_id,
        "game_date": request.game_date,
        "run_mode": request.run_mode.value,
        "created_at": created_at,
        **attribution_columns(card),
        "attribution_method": method,
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
