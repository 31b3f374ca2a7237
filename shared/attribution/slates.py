"""A synthetic day of NBA player props: the rows a coordinator would send, and the results.

Deterministic per game date, so the demo and the tests can predict and grade any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from attribution.training import FEATURES, synthetic_player_games


@dataclass(frozen=True)
class Slate:
    game_date: date
    rows: list[dict[str, Any]]
    results: list[dict[str, Any]]


def slate_for(game_date: date, *, players: int = 140, seed: int = 0) -> Slate:
    games = synthetic_player_games(players * 3, seed=seed * 100_000 + game_date.toordinal())
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
        }
        row.update(
            {name: round(float(games.features[index, i]), 4) for i, name in enumerate(FEATURES)}
        )
        rows.append(row)
        results.append(
            {
                "game_date": game_date.isoformat(),
                "player_lookup": player,
                "actual_points": float(round(games.points[index])),
            }
        )
        if len(rows) == players:
            break
    return Slate(game_date=game_date, rows=rows, results=results)
