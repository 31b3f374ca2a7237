"""Prediction rows for the warehouse adapters' tests: one with a value in every column, one
with only the required ones, as Arrow in the table's own schema; and a count of rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from attribution.ports import Warehouse
from attribution.warehouse.tables import table_spec

PREDICTIONS = "player_prop_predictions"


def full_prediction(n: int) -> dict[str, Any]:
    """A prediction with a value in every column: each column type the table has."""
    values = {
        "STRING": f"s{n}",
        "FLOAT64": 0.25 + n,
        "DATE": date(2026, 3, 1 + n),
        "TIMESTAMP": datetime(2026, 3, 1, 12, n, 0, 123456, tzinfo=UTC),
    }
    row = {c.name: values[c.type] for c in table_spec(PREDICTIONS).columns}
    return row | {"prediction_id": f"p{n}"}


def bare_prediction(n: int) -> dict[str, Any]:
    """Values in the required columns only: NULL in every other."""
    full = full_prediction(n)
    return {c.name: full[c.name] if c.required else None for c in table_spec(PREDICTIONS).columns}


def arrow(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=table_spec(PREDICTIONS).arrow_schema)


def count(warehouse: Warehouse, table: str, where: str = "TRUE", **params: Any) -> int:
    return int(warehouse.query(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params)[0]["n"])
