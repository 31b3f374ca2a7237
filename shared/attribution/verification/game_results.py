"""Actual points per player and game, the ground truth ``prediction_accuracy`` grades against.

Only plausible results are graded against: a date, a player, and a finite number of points
from 0 to ``MAX_PLAUSIBLE_POINTS``. Every other row is kept, as received and with its reasons,
in ``player_game_results_rejects`` (once: its id is derived from the source, the row number
and the row, so loading the same file again adds nothing).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attribution.batches.rows import MISSING_SPELLINGS, numeric_column
from attribution.clock import now_utc
from attribution.errors import PermanentError
from attribution.json_safe import dumps_spelled, non_finite_spelling
from attribution.limits import MAX_PLAYER_LOOKUP_CHARS
from attribution.ports import Row, Warehouse
from attribution.warehouse.tables import table_spec

# Wilt Chamberlain's 100 is the NBA record; twice that is a typo or a unit mix-up, not a game.
MAX_PLAUSIBLE_POINTS = 200.0
REJECTS_TABLE = "player_game_results_rejects"
RESULT_COLUMNS = ("game_date", "player_lookup", "actual_points")


@dataclass(frozen=True)
class ResultsLoad:
    received: int
    loaded: int
    rejected: list[tuple[int, str]]  # (row number from 0, every reason of that row)
    rejects_recorded: int = 0  # rows new to player_game_results_rejects

    @property
    def already_present(self) -> int:
        return self.received - self.loaded - len(self.rejected)


def points_problem(value: float, raw: Any) -> str | None:
    """Why ``value`` (read from ``raw``) cannot be a player's points in one game, or None."""
    if math.isnan(value):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return "actual_points is missing"
        if isinstance(raw, float) and math.isnan(raw):
            return "actual_points must be a finite number, not NaN"
        if isinstance(raw, str) and raw.strip() in MISSING_SPELLINGS:
            return "actual_points is missing"
        return f"actual_points must be a number, not {raw!r}"
    if not math.isfinite(value):
        return f"actual_points must be a finite number, not {non_finite_spelling(value)}"
    if value < 0:
        return f"actual_points must be at least 0, not {value:g}"
    if value > MAX_PLAUSIBLE_POINTS:
        return (
            f"actual_points {value:g} is implausible: more than {MAX_PLAUSIBLE_POINTS:g} "
            "points in one game"
        )
    return None


def load_results(warehouse: Warehouse, table: pa.Table, *, source: str = "results") -> ResultsLoad:
    """Insert (game_date, player_lookup, actual_points) rows once each; keep the bad ones,
    with their reasons, in ``player_game_results_rejects``. ``source`` names where the rows
    came from (a file path, a URI) and goes into each reject row and its id."""
    n = table.num_rows
    missing = [column for column in RESULT_COLUMNS if column not in table.column_names]
    if missing:
        raise PermanentError(
            "bad_results",
            f"results need the columns {', '.join(RESULT_COLUMNS)}; these rows have no "
            f"{' and no '.join(missing)} column",
        )
    points, _ = numeric_column(table.column("actual_points"), n)
    raw_points = table.column("actual_points").to_pylist()
    dates = table.column("game_date").cast(pa.string())
    players = table.column("player_lookup").cast(pa.string())
    reasons: dict[int, list[str]] = defaultdict(list)
    parsed_dates = []
    for index, raw in enumerate(dates.to_pylist()):
        try:
            parsed_dates.append(np.datetime64(raw, "D"))
        except (TypeError, ValueError):
            parsed_dates.append(np.datetime64("NaT"))
            reasons[index].append(f"game_date {raw!r} is not a date")
    missing_player = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(players), ""), True)
    for position in np.flatnonzero(missing_player.to_numpy(zero_copy_only=False)):
        reasons[int(position)].append("player_lookup is missing")
    too_long = pc.fill_null(pc.greater(pc.utf8_length(players), MAX_PLAYER_LOOKUP_CHARS), False)
    for position in np.flatnonzero(too_long.to_numpy(zero_copy_only=False)):
        reasons[int(position)].append(
            f"player_lookup is longer than {MAX_PLAYER_LOOKUP_CHARS} characters"
        )
    plausible = np.isfinite(points) & (points >= 0) & (points <= MAX_PLAUSIBLE_POINTS)
    for position in np.flatnonzero(~plausible):
        problem = points_problem(float(points[position]), raw_points[position])
        assert problem is not None
        reasons[int(position)].append(problem)
    good = np.ones(n, dtype=bool)
    good[list(reasons)] = False
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
    rejected = [(index, "; ".join(reasons[index])) for index in sorted(reasons)]
    recorded = _keep_rejects(warehouse, table, rejected, parsed_dates, source) if rejected else 0
    return ResultsLoad(received=n, loaded=loaded, rejected=rejected, rejects_recorded=recorded)


def reject_id(source: str, row_number: int, raw_row: str) -> str:
    """The same row of the same source is the same reject, however often it is loaded."""
    return hashlib.sha256(f"{source}\x1f{row_number}\x1f{raw_row}".encode()).hexdigest()[:32]


def _keep_rejects(
    warehouse: Warehouse,
    table: pa.Table,
    rejected: list[tuple[int, str]],
    dates: list[np.datetime64],
    source: str,
) -> int:
    rejected_at = now_utc()
    rows: list[Row] = []
    for index, reason in rejected:
        raw = table.slice(index, 1).to_pylist()[0]
        raw_row = dumps_spelled(raw, sort_keys=True)
        player = raw.get("player_lookup")
        rows.append(
            {
                "reject_id": reject_id(source, index, raw_row),
                "source": source,
                "row_number": index,
                "game_date": None if np.isnat(dates[index]) else dates[index].item(),
                "player_lookup": player[:MAX_PLAYER_LOOKUP_CHARS]
                if isinstance(player, str) and player.strip()
                else None,
                "reason": reason,
                "raw_row": raw_row,
                "rejected_at": rejected_at,
            }
        )
    return warehouse.insert_new_rows(REJECTS_TABLE, rows, key=["reject_id"], unique_keys=True)
