"""A synthetic day of NBA player props: the rows a coordinator would send, and the results.

Deterministic per game date, so the demo and the tests can predict and grade any day. Rows
carry the opponent and position as text, and a player's recent minutes are now and then
missing (null), as a feature job sends them. With ``extra_lines``, some players also get a
second sportsbook's line, two points higher: several lines a player, one result.
``unstamped_prediction`` is a row's prediction as a worker that stamped nothing wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from attribution.devtools.training import FEATURES, SOMETIMES_MISSING, synthetic_player_games

MAIN_BOOK, ALTERNATE_BOOK = "draftkings", "fanduel"


@dataclass(frozen=True)
class Slate:
    game_date: date
    rows: list[dict[str, Any]]
    results: list[dict[str, Any]]


def slate_for(
    game_date: date,
    *,
    players: int = 140,
    seed: int = 0,
    missing_share: float = 0.03,
    extra_lines: int = 0,
) -> Slate:
    day_seed = seed * 100_000 + game_date.toordinal()
    games = synthetic_player_games(players * 3, seed=day_seed)
    missing = np.random.default_rng([day_seed, 5]).random(len(games.points)) < missing_share
    rows: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, player in enumerate(games.player_lookup):
        if player in seen:
            continue
        seen.add(player)
        row: dict[str, Any] = {
            "player_lookup": player,
            "game_date": game_date.isoformat(),
            "line_value": float(games.line_value[index]),
            "opponent": str(games.opponent[index]),
            "position": str(games.position[index]),
        }
        row.update(
            {name: round(float(games.features[index, i]), 4) for i, name in enumerate(FEATURES)}
        )
        if missing[index]:
            row[SOMETIMES_MISSING] = None
        if extra_lines:
            row["sportsbook"] = MAIN_BOOK
        rows.append(row)
        results.append(
            {
                "game_date": game_date.isoformat(),
                "player_lookup": player,
                "actual_points": float(round(games.points[index])),
            }
        )
        if len(results) == players:
            break
    alternates = [
        {**row, "line_value": row["line_value"] + 2.0, "sportsbook": ALTERNATE_BOOK}
        for row in rows[:extra_lines]
    ]
    return Slate(game_date=game_date, rows=rows + alternates, results=results)


def unstamped_prediction(
    row: Mapping[str, Any],
    points: float,
    *,
    prediction_id: str,
    batch_id: str,
    system_id: str,
    created_at: datetime,
) -> dict[str, Any]:
    """The prediction of ``points`` for a slate's row as a worker without stamping wrote it:
    the edge over the line, a recommendation at one point of edge, no model columns."""
    edge = points - float(row["line_value"])
    return {
        "prediction_id": prediction_id,
        "batch_id": batch_id,
        "system_id": system_id,
        "game_date": date.fromisoformat(row["game_date"]),
        "player_lookup": row["player_lookup"],
        "line_value": row["line_value"],
        "predicted_points": points,
        "edge": edge,
        "recommendation": "PASS" if abs(edge) < 1 else ("OVER" if edge > 0 else "UNDER"),
        "run_mode": "OVERNIGHT",
        "created_at": created_at,
    }
