"""Actual points per player and game, the ground truth ``prediction_accuracy`` grades against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attribution.batch_rows import numeric_column
from attribution.card import now_utc
from attribution.errors import PermanentError
from attribution.ports import Warehouse
from attribution.tables import table_spec


@dataclass(frozen=True)
class ResultsLoad:
    received: int
    loaded: int
    rejected: list[tuple[int, str]]


def load_results(warehouse: Warehouse, table: pa.Table) -> ResultsLoad:
    """Insert (game_date, player_lookup, actual_points) rows once each; report the bad ones."""
    n = table.num_rows
    for column in ("game_date", "player_lookup", "actual_points"):
        if column not in table.column_names:
            raise PermanentError("bad_results", f"results need a {column} column")
    points, not_number = numeric_column(table.column("actual_points"), n)
    dates = table.column("game_date").cast(pa.string())
    players = table.column("player_lookup").cast(pa.string())
    rejected: list[tuple[int, str]] = []
    good = np.ones(n, dtype=bool)
    parsed_dates = []
    for index, raw in enumerate(dates.to_pylist()):
        try:
            parsed_dates.append(np.datetime64(raw, "D"))
        except (TypeError, ValueError):
            parsed_dates.append(np.datetime64("NaT"))
            good[index] = False
            rejected.append((index, f"game_date {raw!r} is not a date"))
    missing_player = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(players), ""), True)
    for position in np.flatnonzero(missing_player.to_numpy(zero_copy_only=False)):
        good[position] = False
        rejected.append((int(position), "player_lookup is missing"))
    for position in np.flatnonzero(not_number | np.isnan(points) | (points < 0)):
        good[position] = False
        rejected.append((int(position), "actual_points must be a number of at least 0"))
    keep = np.flatnonzero(good)
    rows = pa.Table.from_arrays(
        [
            pa.array(np.array(parsed_dates)[keep]).cast(pa.date32()),
            players.take(pa.array(keep)).combine_chunks(),
            pa.array(points[keep], pa.float64()),
            pa.repeat(pa.scalar(now_utc(), pa.timestamp("us", tz="UTC")), len(keep)),
        ],
        schema=table_spec("player_game_results").arrow_schema,
    )
    loaded = warehouse.insert_new_rows(
        "player_game_results", rows, key=["game_date", "player_lookup"]
    )
    return ResultsLoad(received=n, loaded=loaded, rejected=sorted(rejected))
