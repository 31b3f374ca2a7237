"""Synthetic NBA-like player data and CatBoost models trained on it the way teams train.

The data is generated, never downloaded: a player's points depend on recent form,
minutes, usage, pace, the opponent and the player's position, with noise. Models are
trained as a user would: ``CatBoostRegressor`` (any regression loss) or an over/under
``CatBoostClassifier``, on a pandas DataFrame with the opponent and position as
categorical columns and a few missing values, the declared facts set in the model's
metadata before ``save_model``. Errors look like the reference system's (MAE around 4-5 points).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attribution.profiles.building import embed_profile

FEATURES: tuple[str, ...] = (
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "minutes_avg_last_5",
    "usage_rate",
    "opponent_def_rating",
    "pace",
    "home_game",
    "rest_days",
    "back_to_back",
)
CATEGORICAL: tuple[str, ...] = ("opponent", "position")
# The feature that goes missing now and then (a player back from injury has no recent minutes).
SOMETIMES_MISSING = "minutes_avg_last_5"
TEAMS: tuple[str, ...] = (
    "ATL", "BKN", "BOS", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW",
    "HOU", "IND", "LAC", "LAL", "MEM", "MIA", "MIL", "MIN", "NOP", "NYK",
    "OKC", "ORL", "PHI", "PHX", "POR", "SAC", "SAS", "TOR", "UTA", "WAS",
)  # fmt: skip
POSITIONS: tuple[str, ...] = ("G", "F", "C")
OVER, UNDER = "OVER", "UNDER"


@dataclass(frozen=True)
class PlayerGames:
    features: np.ndarray
    points: np.ndarray
    player_lookup: list[str]
    line_value: np.ndarray
    opponent: np.ndarray
    position: np.ndarray


def synthetic_player_games(rows: int, *, seed: int = 0, n_players: int = 450) -> PlayerGames:
    rng = np.random.default_rng(seed)
    player = rng.integers(0, n_players, rows)
    talent = np.random.default_rng(1234).gamma(4.0, 3.2, n_players)
    season = talent[player] + rng.normal(0, 1.0, rows)
    last10 = season + rng.normal(0, 2.0, rows)
    last5 = last10 + rng.normal(0, 2.0, rows)
    minutes = np.clip(14 + season * 0.9 + rng.normal(0, 3, rows), 5, 42)
    usage = np.clip(0.12 + season / 120 + rng.normal(0, 0.03, rows), 0.08, 0.4)
    defence = rng.normal(112, 4, rows)
    pace = rng.normal(99, 3, rows)
    home = rng.integers(0, 2, rows).astype(float)
    rest = rng.integers(0, 4, rows).astype(float)
    b2b = (rest == 0).astype(float)
    # Categories come from a stream of their own: the numbers above stay as they were.
    categories = np.random.default_rng([seed, 2])
    opponent = categories.integers(0, len(TEAMS), rows)
    position = np.random.default_rng(4321).integers(0, len(POSITIONS), n_players)[player]
    team_effect = np.random.default_rng(99).normal(0, 1.2, len(TEAMS))
    position_effect = np.array([0.6, 0.0, -0.8])
    expected = (
        0.45 * season
        + 0.25 * last10
        + 0.15 * last5
        + 0.12 * (minutes - 25)
        + 20 * (usage - 0.2)
        - 0.25 * (defence - 112)
        + 0.15 * (pace - 99)
        + 0.8 * home
        - 1.2 * b2b
        + team_effect[opponent]
        + position_effect[position]
    )
    points = expected + rng.normal(0, 4.5, rows)
    points = np.clip(points, 0, None)
    features = np.column_stack(
        [last5, last10, season, minutes, usage, defence, pace, home, rest, b2b]
    ).astype(np.float64)
    # A sharp book: the line is the true expectation, blurred a little.
    line = np.round((expected + rng.normal(0, 2.5, rows)) * 2) / 2
    line = np.clip(line, 0.5, None)
    return PlayerGames(
        features=features,
        points=points,
        player_lookup=[f"player_{p:04d}" for p in player],
        line_value=line,
        opponent=np.array(TEAMS, dtype=object)[opponent],
        position=np.array(POSITIONS, dtype=object)[position],
    )


@dataclass(frozen=True)
class TrainingSpec:
    system_id: str = "catboost_v9"
    training_start: date = date(2025, 11, 2)
    training_end: date = date(2026, 1, 31)
    expected_mae: float | None = 4.12
    expected_hit_rate: float | None = 74.6
    trained_at: str | None = None
    seed: int = 0
    rows: int = 20_000
    iterations: int = 300
    depth: int = 6
    extra_metadata: Mapping[str, str] | None = None
    measure_expected: bool = False
    high_edge: float = 5.0
    # Any CatBoostRegressor loss (RMSE, MAE, Poisson, Tweedie:variance_power=1.5, ...);
    # ignored for an over/under classifier, which is trained with Logloss.
    loss_function: str = "RMSE"
    # An over/under CatBoostClassifier (labels OVER and UNDER, the line a feature) instead.
    over_under: bool = False
    # The opponent and position as categorical features (CatBoost's reason to exist).
    categorical: bool = True
    # Share of training rows whose recent minutes are missing (NaN).
    missing_share: float = 0.03
    over_probability_threshold: float = 0.524


def model_features(*, categorical: bool, over_under: bool) -> tuple[str, ...]:
    """Column order of a model's features: categories among the numbers, not at the end."""
    names = ("position", *FEATURES[:5], "opponent", *FEATURES[5:]) if categorical else FEATURES
    return (*names, "line_value") if over_under else names


def feature_frame(
    games: PlayerGames, names: tuple[str, ...], *, missing_share: float = 0.0, seed: int = 0
) -> pd.DataFrame:
    """The games as the DataFrame a training script would build: one column per feature."""
    columns: dict[str, Any] = {name: games.features[:, i] for i, name in enumerate(FEATURES)}
    columns |= {"opponent": games.opponent, "position": games.position}
    columns["line_value"] = games.line_value
    frame = pd.DataFrame({name: columns[name] for name in names})
    if missing_share and SOMETIMES_MISSING in frame:
        missing = np.random.default_rng([seed, 3]).random(len(frame)) < missing_share
        frame.loc[missing, SOMETIMES_MISSING] = np.nan
    return frame


class _IterationsDone:
    """A CatBoost training callback that reports each tree made."""

    def __init__(self, progress: Callable[[int], None]) -> None:
        self.progress = progress

    def after_iteration(self, info: Any) -> bool:
        self.progress(1)
        return True  # go on training


def train_model(
    spec: TrainingSpec,
    out: Path,
    *,
    declare_facts: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Train on synthetic data and save a .cbm whose metadata carries the declared facts and
    the profile of its training rows; ``progress`` is told of each iteration (tree) as it is
    trained."""
    from catboost import CatBoostClassifier, CatBoostRegressor

    if spec.training_end < spec.training_start:
        raise ValueError("training_end is before training_start")
    games = synthetic_player_games(spec.rows, seed=spec.seed)
    names = model_features(categorical=spec.categorical, over_under=spec.over_under)
    frame = feature_frame(games, names, missing_share=spec.missing_share, seed=spec.seed)
    common: dict[str, Any] = {
        "iterations": spec.iterations,
        "depth": spec.depth,
        "learning_rate": 0.08,
        "random_seed": spec.seed,
        "verbose": False,
        "allow_writing_files": False,
        "thread_count": -1,
        "cat_features": [n for n in names if n in CATEGORICAL],
    }
    callbacks = [_IterationsDone(progress)] if progress is not None else None
    model: Any
    if spec.over_under:
        model = CatBoostClassifier(loss_function="Logloss", **common)
        model.fit(
            frame, np.where(games.points > games.line_value, OVER, UNDER), callbacks=callbacks
        )
    else:
        model = CatBoostRegressor(loss_function=spec.loss_function, **common)
        model.fit(frame, games.points, callbacks=callbacks)
    declared = _declared_facts(spec, model) if declare_facts else {}
    metadata = model.get_metadata()
    for key, value in {**declared, **dict(spec.extra_metadata or {})}.items():
        if value is not None:
            metadata[key] = str(value)
    embed_profile(model, frame)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out))
    return out


def _declared_facts(spec: TrainingSpec, model: Any) -> dict[str, str | None]:
    expected_mae, expected_hit_rate = spec.expected_mae, spec.expected_hit_rate
    extra: dict[str, str | None] = {}
    if spec.measure_expected:
        measured = evaluate_on_holdout(model, spec, seed=spec.seed + 7919)
        expected_mae = measured.mae if expected_mae is None else expected_mae
        expected_hit_rate = measured.hit_rate if expected_hit_rate is None else expected_hit_rate
        if spec.over_under:
            extra = {
                "expected_brier_score": repr(measured.brier_score),
                "expected_log_loss": repr(measured.log_loss),
            }
    if spec.over_under:
        expected_mae = None  # a classifier predicts no points
    return {
        "system_id": spec.system_id,
        "training_start_date": spec.training_start.isoformat(),
        "training_end_date": spec.training_end.isoformat(),
        "expected_mae": None if expected_mae is None else repr(expected_mae),
        "expected_hit_rate": None if expected_hit_rate is None else repr(expected_hit_rate),
        "trained_at": spec.trained_at,
        **extra,
    }


@dataclass(frozen=True)
class HoldoutFigures:
    """A points model's MAE and high-edge hit rate, or a classifier's hit rate of its picks
    with its Brier score and log loss (MAE then means nothing and is None)."""

    mae: float | None
    hit_rate: float
    high_edge_picks: int
    brier_score: float | None = None
    log_loss: float | None = None


def evaluate_on_holdout(
    model: Any, spec: TrainingSpec | None = None, *, seed: int, rows: int = 20_000
) -> HoldoutFigures:
    """A points model: MAE, and hit rate (percent) of picks whose |edge| is at least the
    spec's ``high_edge``. An over/under classifier: hit rate of the picks its probability
    makes at the spec's threshold, Brier score and log loss."""
    spec = spec or TrainingSpec()
    games = synthetic_player_games(rows, seed=seed)
    names = tuple(str(n) for n in model.feature_names_)
    frame = feature_frame(games, names, missing_share=spec.missing_share, seed=seed)
    decided = games.points != games.line_value
    over = games.points > games.line_value
    if spec.over_under:
        over_column = list(model.classes_).index(OVER)
        p = np.asarray(model.predict_proba(frame), dtype=np.float64)[:, over_column]
        threshold = spec.over_probability_threshold
        picked = ((p >= threshold) | (1 - p >= threshold)) & decided
        correct = np.where(p >= threshold, over, ~over)
        clipped = np.clip(np.where(over, p, 1 - p), 1e-15, None)
        return HoldoutFigures(
            mae=None,
            hit_rate=_rate(correct, picked),
            high_edge_picks=int(picked.sum()),
            brier_score=round(float(np.mean((p[decided] - over[decided]) ** 2)), 4),
            log_loss=round(float(np.mean(-np.log(clipped[decided]))), 4),
        )
    predicted = np.asarray(model.predict(frame), dtype=np.float64)
    edge = predicted - games.line_value
    picked = (np.abs(edge) >= spec.high_edge) & decided
    correct = np.where(edge > 0, over, games.points < games.line_value)
    return HoldoutFigures(
        mae=round(float(np.abs(predicted - games.points).mean()), 2),
        hit_rate=_rate(correct, picked),
        high_edge_picks=int(picked.sum()),
    )


def _rate(correct: np.ndarray, picked: np.ndarray) -> float:
    picks = int(picked.sum())
    return round(float(100.0 * correct[picked].mean()) if picks else 0.0, 1)
