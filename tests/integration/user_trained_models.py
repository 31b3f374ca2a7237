"""Models as users train them, the rows a feature job sends them, and what the user's own
CatBoost class answers: the independent side of the user-model tests.

A user trains ``CatBoostRegressor`` (Poisson, Tweedie, RMSE) or an OVER/UNDER
``CatBoostClassifier`` on a pandas DataFrame: categories as text (or integers, which
CatBoost turns into their digits), a numeric column with NaNs, the declared facts set in
the model's metadata before ``save_model``. What a row "should" be stored as is what that
fitted object's ``predict`` (exponent applied for Poisson and Tweedie) or
``predict_proba[:, OVER]`` returns on a DataFrame built from the row by hand; the
product's own code (interface, row checks, scoring) is never used here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TEAMS = ("ATL", "BOS", "DEN", "GSW", "LAL", "MIA", "NYK", "PHX")
POSITIONS = ("G", "F", "C")
MAIN_BOOK, OTHER_BOOK = "draftkings", "fanduel"
MISSING = "minutes_avg_last_5"  # the numeric feature a feature job now and then leaves out


class Kind(Enum):
    """The four ways of training below: loss, class and categorical features."""

    POISSON = "poisson"  # CatBoostRegressor(loss_function="Poisson"), opponent + position
    TWEEDIE = "tweedie"  # CatBoostRegressor(loss_function="Tweedie:variance_power=1.5")
    RMSE_INT_CATEGORY = "rmse_int_category"  # RMSE; rest_days (ints) as a category
    OVER_UNDER = "over_under"  # CatBoostClassifier, labels OVER / UNDER, the line a feature


FEATURES: dict[Kind, tuple[str, ...]] = {
    # Categories among the numbers, not at the end: the model's own order decides.
    Kind.POISSON: ("position", "points_avg_last_5", "opponent", MISSING, "rest_days"),
    Kind.TWEEDIE: ("position", "points_avg_last_5", "opponent", MISSING, "rest_days"),
    Kind.RMSE_INT_CATEGORY: ("points_avg_last_5", "rest_days", MISSING, "opponent"),
    Kind.OVER_UNDER: ("position", "points_avg_last_5", "opponent", MISSING, "line_value"),
}
CATEGORIES: dict[Kind, list[str]] = {
    Kind.POISSON: ["opponent", "position"],
    Kind.TWEEDIE: ["opponent", "position"],
    Kind.RMSE_INT_CATEGORY: ["opponent", "rest_days"],
    Kind.OVER_UNDER: ["opponent", "position"],
}
LOSS = {
    Kind.POISSON: "Poisson",
    Kind.TWEEDIE: "Tweedie:variance_power=1.5",
    Kind.RMSE_INT_CATEGORY: "RMSE",
}


def games(n: int, *, seed: int, missing_share: float = 0.1) -> list[dict[str, Any]]:
    """``n`` player games as flat rows (batch-row keys) with their ``actual_points``."""
    rng = np.random.default_rng(seed)
    talent = rng.gamma(4.0, 3.5, n)
    last5 = np.round(talent + rng.normal(0, 2.0, n), 3)
    minutes = np.round(np.clip(14 + talent * 0.9 + rng.normal(0, 3, n), 5, 42), 2)
    opponent = rng.integers(0, len(TEAMS), n)
    position = rng.integers(0, len(POSITIONS), n)
    rest = rng.integers(0, 4, n)
    team_effect = np.linspace(-2.0, 2.0, len(TEAMS))
    position_effect = np.array([1.0, 0.0, -1.5])
    expected = np.clip(
        0.85 * talent
        + 0.15 * (minutes - 28)
        + team_effect[opponent]
        + position_effect[position]
        - 1.0 * (rest == 0),
        0.5,
        None,
    )
    actual = rng.poisson(expected).astype(float)
    line = np.clip(np.round((expected + rng.normal(0, 2.0, n)) * 2) / 2, 0.5, None)
    missing = rng.random(n) < missing_share
    rows: list[dict[str, Any]] = []
    for i in range(n):
        rows.append(
            {
                "player_lookup": f"player_{i:04d}",
                "line_value": float(line[i]),
                "opponent": TEAMS[opponent[i]],
                "position": POSITIONS[position[i]],
                "rest_days": int(rest[i]),
                "points_avg_last_5": float(last5[i]),
                MISSING: None if missing[i] else float(minutes[i]),
                "actual_points": float(actual[i]),
            }
        )
    return rows


@dataclass(frozen=True)
class UserModel:
    """A fitted CatBoostRegressor / CatBoostClassifier and the .cbm it was saved to."""

    kind: Kind
    path: Path
    model: Any

    @property
    def over_under(self) -> bool:
        return self.kind is Kind.OVER_UNDER

    @property
    def file_name(self) -> str:
        return self.path.name

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The user's own answer: points from ``predict``, or the OVER probability."""
        frame = user_frame(self.model, rows)
        if self.over_under:
            column = list(self.model.classes_).index("OVER")
            return np.asarray(self.model.predict_proba(frame)[:, column], dtype=np.float64)
        return np.asarray(self.model.predict(frame), dtype=np.float64)


def user_frame(model: Any, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The DataFrame a user builds by hand: categories as they are (text, or ints),
    numbers as floats, a missing number as NaN."""
    categorical = set(model.get_cat_feature_indices())
    columns: dict[str, list[Any]] = {}
    for index, name in enumerate(model.feature_names_):
        if index in categorical:
            columns[name] = [row[name] for row in rows]
        else:
            columns[name] = [np.nan if row.get(name) is None else float(row[name]) for row in rows]
    return pd.DataFrame(columns)


def train(
    kind: Kind,
    out: Path,
    *,
    facts: Mapping[str, str],
    seed: int,
    rows: int = 1500,
    iterations: int = 40,
) -> UserModel:
    """Train as a user would (DataFrame, cat_features by name), set facts, save."""
    from catboost import CatBoostClassifier, CatBoostRegressor

    data = games(rows, seed=seed)
    frame = pd.DataFrame(data)[list(FEATURES[kind])]
    assert frame[MISSING].isna().any()  # the model learns with missing numbers
    common: dict[str, Any] = {
        "cat_features": CATEGORIES[kind],
        "iterations": iterations,
        "depth": 4,
        "learning_rate": 0.1,
        "random_seed": seed,
        "verbose": False,
        "allow_writing_files": False,
    }
    model: Any
    if kind is Kind.OVER_UNDER:
        labels = ["OVER" if g["actual_points"] > g["line_value"] else "UNDER" for g in data]
        model = CatBoostClassifier(**common)
        model.fit(frame, labels)
    else:
        model = CatBoostRegressor(loss_function=LOSS[kind], **common)
        model.fit(frame, [g["actual_points"] for g in data])
    metadata = model.get_metadata()
    for key, value in facts.items():
        metadata[key] = value
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out))
    return UserModel(kind, out, model)


def facts_for(
    system_id: str, *, start: date, end: date, trained_at: str, over_under: bool
) -> dict[str, str]:
    facts = {
        "system_id": system_id,
        "training_start_date": start.isoformat(),
        "training_end_date": end.isoformat(),
        "expected_hit_rate": "55.5",
        "trained_at": trained_at,
    }
    if not over_under:
        facts["expected_mae"] = "4.4"
    return facts


def slate(
    day: date, *, players: int, seed: int, two_lines: int = 3, without_book: int = 2
) -> list[dict[str, Any]]:
    """A day's batch rows: one line each; the first ``two_lines`` players a second line
    (the first of them at the same number from another book, the others 1.5 higher);
    the last ``without_book`` players name no sportsbook. Some recent minutes are
    missing; ``rest_days`` is an int. No ``actual_points`` (see ``results``)."""
    base = games(players, seed=seed)
    base[1][MISSING] = None  # always some missing numbers, whatever the seed
    base[min(4, players - 1)][MISSING] = None
    rows: list[dict[str, Any]] = []
    for index, game in enumerate(base):
        row = {k: v for k, v in game.items() if k != "actual_points"}
        row["game_date"] = day.isoformat()
        if index < players - without_book:
            row["sportsbook"] = MAIN_BOOK
        rows.append(row)
    for index, row in enumerate(rows[:two_lines]):
        step = 0.0 if index == 0 else 1.5
        rows.append({**row, "line_value": row["line_value"] + step, "sportsbook": OTHER_BOOK})
    return rows


def results(day: date, players: int, seed: int) -> list[dict[str, Any]]:
    """The players' actual points (the same games ``slate`` draws rows from)."""
    return [
        {"game_date": day, "player_lookup": g["player_lookup"], "actual_points": g["actual_points"]}
        for g in games(players, seed=seed)
    ]


def recommendation_for_points(points: float, line: float, min_edge: float = 1.0) -> str:
    edge = points - line
    return "PASS" if abs(edge) < min_edge else ("OVER" if edge > 0 else "UNDER")


def recommendation_for_probability(over: float, threshold: float = 0.524) -> str:
    if over >= threshold:
        return "OVER"
    return "UNDER" if 1.0 - over >= threshold else "PASS"
