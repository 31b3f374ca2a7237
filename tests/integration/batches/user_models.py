"""Models trained the way teams train them, slates the way teams send them, and the user's
own idea of what CatBoost returns for those slates.

Nothing here asks the library how a model is called: the features, their types, the labels
and the over class are what the training code below chose, and the expected numbers come
from the fitted ``CatBoostRegressor`` / ``CatBoostClassifier`` objects themselves, fed a
pandas DataFrame built from the slate's rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoost, CatBoostClassifier, CatBoostRanker, CatBoostRegressor, Pool

TEAMS = ("ATL", "BOS", "CHI", "DAL", "DEN", "LAL", "MIA", "NYK", "PHX", "SAS")
POSITIONS = ("G", "F", "C")
ZONES = 6  # arena_zone: an integer-coded categorical, 0..5
NOTES = ("healthy", "probable ankle", "questionable knee soreness", "back from injury", "rest")

# The column order of every training frame: line_value sits in the middle on purpose, so a
# feature is found by its name and index, not by being last.
HOUSE_FEATURES = (
    "points_avg_last_10",
    "opponent",
    "minutes_avg_last_5",
    "position",
    "line_value",
    "usage_rate",
    "arena_zone",
)
HOUSE_CATEGORICAL = ("opponent", "position", "arena_zone")
TEXT_FEATURE = "injury_note"
BOOL_FEATURE = "back_to_back"  # a bool-coded categorical, in one team's model only
SOMETIMES_MISSING = "minutes_avg_last_5"
MISSING_TOKEN = "UNKNOWN"  # what the cat_missing_value team fills a missing category with

DECLARED = {
    "training_start_date": "2025-10-21",
    "training_end_date": "2026-02-15",
    "expected_mae": "4.4",
    "expected_hit_rate": "55.5",
    "trained_at": "2026-02-16T08:00:00Z",
}


@dataclass(frozen=True)
class UserModel:
    """One team's trained model: what they fit, on which columns, and what "over" means."""

    key: str
    system_id: str
    file_name: str
    path: Path
    model: Any  # the fitted CatBoostRegressor / CatBoostClassifier / CatBoostRanker
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    text: tuple[str, ...] = ()
    kind: str = "points"  # points | over | unservable
    over_label: Any = None  # the training label that means the OVER hit
    forbids_nan: bool = False
    missing_token: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f not in self.categorical + self.text)


# ---------------------------------------------------------------- training data and models


def player_games(rows: int, *, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A training frame (house features plus the text note) and the points scored."""
    rng = np.random.default_rng(seed)
    form = rng.gamma(4.0, 3.5, rows)
    minutes = np.clip(12 + form * 0.9 + rng.normal(0, 3, rows), 5, 42)
    usage = np.clip(0.12 + form / 110 + rng.normal(0, 0.03, rows), 0.08, 0.4)
    opponent = rng.choice(TEAMS, rows)
    position = rng.choice(POSITIONS, rows)
    zone = rng.integers(0, ZONES, rows)
    note = rng.choice(NOTES, rows)
    tired = rng.random(rows) < 0.25
    team_effect = dict(zip(TEAMS, np.linspace(-2.5, 2.5, len(TEAMS)), strict=True))
    position_effect = {"G": 1.2, "F": 0.0, "C": -1.2}
    expected = (
        0.8 * form
        + 0.15 * (minutes - 25)
        + 20 * (usage - 0.2)
        + np.array([team_effect[t] for t in opponent])
        + np.array([position_effect[p] for p in position])
        + 0.4 * (zone - 2.5)
        - 3.0 * (note == "questionable knee soreness")
        - 2.0 * tired
    )
    line = np.round(expected + rng.normal(0, 1.5, rows)) + 0.5  # half-point lines: no pushes
    points = np.maximum(0.0, np.round(expected + rng.normal(0, 4, rows)))
    minutes[rng.random(rows) < 0.1] = np.nan
    frame = pd.DataFrame(
        {
            "points_avg_last_10": np.round(form + rng.normal(0, 1, rows), 2),
            "opponent": opponent.astype(object),
            "minutes_avg_last_5": np.round(minutes, 2),
            "position": position.astype(object),
            "line_value": line,
            "usage_rate": np.round(usage, 3),
            "arena_zone": zone.astype(np.int64),
            TEXT_FEATURE: note.astype(object),
            BOOL_FEATURE: tired,
        }
    )
    return frame, points


def declare(model: CatBoost, system_id: str, extra: Mapping[str, str] = {}) -> None:
    """Set the declared facts in the model's metadata, as the training script does."""
    metadata = model.get_metadata()
    metadata["system_id"] = system_id
    for key, value in {**DECLARED, **extra}.items():
        metadata[key] = value


SMALL = {
    "iterations": 30,
    "depth": 4,
    "random_seed": 0,
    "verbose": 0,
    "thread_count": 2,
    "allow_writing_files": False,  # no catboost_info/ in the working folder
}


@dataclass(frozen=True)
class Recipe:
    key: str
    fit: Callable[[pd.DataFrame, np.ndarray], tuple[Any, dict[str, Any]]]
    columns: tuple[str, ...] = HOUSE_FEATURES
    categorical: tuple[str, ...] = HOUSE_CATEGORICAL
    metadata: Mapping[str, str] = field(default_factory=dict)


def _regressor(loss: str, **params: Any) -> Callable[..., tuple[Any, dict[str, Any]]]:
    def fit(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
        model = CatBoostRegressor(loss_function=loss, **SMALL, **params)
        model.fit(x, points, cat_features=list(HOUSE_CATEGORICAL))
        return model, {}

    return fit


def _over(labels: Callable[[np.ndarray], np.ndarray], over: Any) -> Callable[..., Any]:
    def fit(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
        hit = points > x["line_value"].to_numpy()
        model = CatBoostClassifier(**SMALL)
        model.fit(x, labels(hit), cat_features=list(HOUSE_CATEGORICAL))
        return model, {"kind": "over", "over_label": over}

    return fit


def _soft_labels(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
    """CrossEntropy on a probability of the OVER (a smoothed hit), not on a class label."""
    hit = points > x["line_value"].to_numpy()
    model = CatBoostClassifier(loss_function="CrossEntropy", **SMALL)
    model.fit(x, np.where(hit, 0.9, 0.1), cat_features=list(HOUSE_CATEGORICAL))
    return model, {"kind": "over", "over_label": 1}


def _bool_category(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
    model = CatBoostRegressor(loss_function="RMSE", **SMALL)
    model.fit(x, points, cat_features=[*HOUSE_CATEGORICAL, BOOL_FEATURE])
    return model, {}


def _text_model(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
    model = CatBoostRegressor(loss_function="RMSE", **SMALL)
    model.fit(x, points, cat_features=list(HOUSE_CATEGORICAL), text_features=[TEXT_FEATURE])
    return model, {"text": (TEXT_FEATURE,)}


def _forbidden(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
    keep = x[SOMETIMES_MISSING].notna().to_numpy()  # Forbidden: the team drops the gaps
    model = CatBoostRegressor(loss_function="RMSE", nan_mode="Forbidden", **SMALL)
    model.fit(x[keep], points[keep], cat_features=list(HOUSE_CATEGORICAL))
    return model, {"forbids_nan": True}


def _missing_token(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
    x = x.copy()
    gaps = np.random.default_rng(5).random(len(x))
    x.loc[gaps < 0.08, "opponent"] = MISSING_TOKEN  # a missing opponent, as the team fills it
    x.loc[gaps > 0.94, "position"] = MISSING_TOKEN
    model = CatBoostRegressor(loss_function="RMSE", **SMALL)
    model.fit(x, points, cat_features=list(HOUSE_CATEGORICAL))
    return model, {"missing_token": MISSING_TOKEN}


def _unservable(make: Callable[[pd.DataFrame, np.ndarray], Any]) -> Callable[..., Any]:
    def fit(x: pd.DataFrame, points: np.ndarray) -> tuple[Any, dict[str, Any]]:
        return make(x, points), {"kind": "unservable"}

    return fit


def _multiclass(x: pd.DataFrame, points: np.ndarray) -> Any:
    band = np.where(points < 8, "low", np.where(points < 16, "mid", "high"))
    model = CatBoostClassifier(loss_function="MultiClass", **SMALL)
    return model.fit(x, band, cat_features=list(HOUSE_CATEGORICAL))


def _yetirank(x: pd.DataFrame, points: np.ndarray) -> Any:
    games = np.arange(len(x)) // 10  # ten players a game, ranked within it
    model = CatBoostRanker(loss_function="YetiRank", **SMALL)
    return model.fit(Pool(x, points, cat_features=list(HOUSE_CATEGORICAL), group_id=games))


def _multirmse(x: pd.DataFrame, points: np.ndarray) -> Any:
    targets = np.column_stack([points, points * 0.3])  # points and rebounds, say
    model = CatBoostRegressor(loss_function="MultiRMSE", **SMALL)
    return model.fit(x, targets, cat_features=list(HOUSE_CATEGORICAL))


def _multiquantile(x: pd.DataFrame, points: np.ndarray) -> Any:
    model = CatBoostRegressor(loss_function="MultiQuantile:alpha=0.4,0.6", **SMALL)
    return model.fit(x, points, cat_features=list(HOUSE_CATEGORICAL))


def _uncertainty(x: pd.DataFrame, points: np.ndarray) -> Any:
    model = CatBoostRegressor(loss_function="RMSEWithUncertainty", **SMALL)
    return model.fit(x, points, cat_features=list(HOUSE_CATEGORICAL))


def _embedding(x: pd.DataFrame, points: np.ndarray) -> Any:
    rng = np.random.default_rng(11)
    frame = x[["points_avg_last_10", "line_value"]].copy()
    frame["shot_profile"] = pd.Series([rng.normal(size=4) for _ in range(len(x))], index=x.index)
    model = CatBoostRegressor(loss_function="RMSE", **SMALL)
    return model.fit(Pool(frame, points, embedding_features=["shot_profile"]))


def _ab(x: pd.DataFrame, points: np.ndarray) -> Any:
    model = CatBoostClassifier(**SMALL)
    labels = np.where(points > x["line_value"].to_numpy(), "A", "B")
    return model.fit(x, labels, cat_features=list(HOUSE_CATEGORICAL))


RECIPES: tuple[Recipe, ...] = (
    Recipe("rmse", _regressor("RMSE")),
    Recipe("mae", _regressor("MAE")),
    Recipe("quantile", _regressor("Quantile:alpha=0.6")),
    Recipe("poisson", _regressor("Poisson")),
    Recipe("tweedie", _regressor("Tweedie:variance_power=1.5")),
    Recipe("over_int", _over(lambda hit: hit.astype(np.int64), 1)),
    Recipe("over_bool", _over(lambda hit: hit.astype(bool), True)),
    Recipe("over_string", _over(lambda hit: np.where(hit, "OVER", "UNDER"), "OVER")),
    Recipe(
        "over_yes_no",
        _over(lambda hit: np.where(hit, "yes", "no"), "yes"),
        metadata={"over_class": "yes"},
    ),
    Recipe("over_soft", _soft_labels),
    Recipe("text", _text_model, columns=(*HOUSE_FEATURES, TEXT_FEATURE)),
    Recipe(
        "bool_category",
        _bool_category,
        columns=(*HOUSE_FEATURES, BOOL_FEATURE),
        categorical=(*HOUSE_CATEGORICAL, BOOL_FEATURE),
    ),
    Recipe("forbidden", _forbidden),
    Recipe("cat_token", _missing_token, metadata={"cat_missing_value": MISSING_TOKEN}),
    Recipe("multiclass", _unservable(_multiclass)),
    Recipe("yetirank", _unservable(_yetirank)),
    Recipe("multirmse", _unservable(_multirmse)),
    Recipe("multiquantile", _unservable(_multiquantile)),
    Recipe("uncertainty", _unservable(_uncertainty)),
    Recipe("embedding", _unservable(_embedding)),
    Recipe("classes_ab", _unservable(_ab)),
)


def train_all(folder: Path, *, rows: int = 3000) -> dict[str, UserModel]:
    frame, points = player_games(rows, seed=2026)
    trained: dict[str, UserModel] = {}
    for recipe in RECIPES:
        x = frame[list(recipe.columns)]
        model, facts = recipe.fit(x, points)
        system_id = f"team_{recipe.key}"
        declare(model, system_id, recipe.metadata)
        path = folder / f"{system_id}.cbm"
        model.save_model(str(path))
        names = tuple(str(n) for n in model.feature_names_)
        trained[recipe.key] = UserModel(
            key=recipe.key,
            system_id=system_id,
            file_name=path.name,
            path=path,
            model=model,
            features=names,
            categorical=tuple(c for c in recipe.categorical if c in names),
            metadata=dict(recipe.metadata),
            **facts,
        )
    return trained


# ---------------------------------------------------------------- slates


@dataclass(frozen=True)
class Case:
    """One slate row and what is wrong with it, if anything, in the team's own words."""

    row: dict[str, Any]
    problem: str | None = None  # every model rejects it, with a reason containing this
    missing_number: bool = False  # a numeric feature is absent: fine unless nan_mode Forbidden
    missing_category: str | None = None  # this categorical is absent: fine with a token
    missing_text: bool = False  # the text feature is absent: the text model rejects it

    @property
    def key(self) -> tuple[str, float, str | None]:
        return (self.row["player_lookup"], float(self.row["line_value"]), self.row["sportsbook"])


def _player_row(index: int, frame: pd.DataFrame) -> dict[str, Any]:
    source = frame.iloc[index]
    return {
        "player_lookup": f"player_{index:02d}",
        "line_value": float(source["line_value"]),
        "sportsbook": "DK",
        "points_avg_last_10": float(source["points_avg_last_10"]),
        "opponent": str(source["opponent"]),
        "minutes_avg_last_5": None
        if np.isnan(source["minutes_avg_last_5"])
        else float(source["minutes_avg_last_5"]),
        "position": str(source["position"]),
        "usage_rate": float(source["usage_rate"]),
        "arena_zone": int(source["arena_zone"]),
        TEXT_FEATURE: str(source[TEXT_FEATURE]),
        BOOL_FEATURE: bool(source[BOOL_FEATURE]),
    }


def slate_cases(*, players: int = 36, seed: int = 77) -> list[Case]:
    """Tonight's slate: one DK line a player, several players with a second line or book,
    an exact repeat, ints and strings in the integer-coded category, blanks and nulls."""
    frame, _ = player_games(players, seed=seed)
    frame["minutes_avg_last_5"] = frame["minutes_avg_last_5"].fillna(30.0)
    cases = [Case(_player_row(i, frame)) for i in range(players)]

    def edit(index: int, **changes: Any) -> dict[str, Any]:
        row = dict(cases[index].row)
        for name, value in changes.items():
            if value is _DROP:
                row.pop(name)
            else:
                row[name] = value
        return row

    for index in range(0, 6):  # a second line at another book
        row = edit(index, line_value=cases[index].row["line_value"] + 2.0, sportsbook="FD")
        cases.append(Case(row))
    for index in (6, 7):  # the same line at another book
        cases.append(Case(edit(index, sportsbook="FD")))
    cases.append(Case(edit(8, sportsbook=None, line_value=cases[8].row["line_value"] - 1.0)))
    cases.append(  # exactly the row of player_09 again
        Case(dict(cases[9].row), problem="the same player, line and sportsbook")
    )
    cases[10] = Case(edit(10, arena_zone=str(cases[10].row["arena_zone"])))  # "3" as text
    cases[11] = Case(edit(11, arena_zone=str(cases[11].row["arena_zone"])))
    cases[12] = Case(edit(12, minutes_avg_last_5=None), missing_number=True)
    cases[13] = Case(edit(13, minutes_avg_last_5=_DROP), missing_number=True)
    cases[14] = Case(edit(14, opponent=""), missing_category="opponent")
    cases[15] = Case(edit(15, opponent=None), missing_category="opponent")
    cases[16] = Case(edit(16, position="   "), missing_category="position")
    cases[17] = Case(edit(17, usage_rate="high"), problem="feature usage_rate is not a number")
    cases[18] = Case(edit(18, line_value=None), problem="line_value is missing")
    cases[19] = Case(edit(19, **{TEXT_FEATURE: ""}), missing_text=True)
    cases[20] = Case(edit(20, player_lookup="  "), problem="player_lookup is missing")
    cases[21] = Case(edit(21, opponent="SEA"))  # a team the model never saw: still a category
    return cases


_DROP = object()


@dataclass(frozen=True)
class Expectation:
    good: list[Case]
    rejected: dict[int, str]  # row number -> the reason text it must contain


def expectation(model: UserModel, cases: Sequence[Case]) -> Expectation:
    """Which rows a model can predict, by the team's reading of its own model."""
    good: list[Case] = []
    rejected: dict[int, str] = {}
    for number, case in enumerate(cases):
        reason = case.problem
        if reason is None and case.missing_number and model.forbids_nan:
            reason = f"feature {SOMETIMES_MISSING} is missing"
        if reason is None and case.missing_category and model.missing_token is None:
            reason = f"categorical feature {case.missing_category} is missing"
        if reason is None and case.missing_text and TEXT_FEATURE in model.text:
            reason = f"text feature {TEXT_FEATURE} is missing"
        if reason is None:
            good.append(case)
        else:
            rejected[number] = reason
    return Expectation(good, rejected)


# ---------------------------------------------------------------- what CatBoost says


def user_frame(model: UserModel, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The DataFrame the team would hand their own model for these rows."""
    data: dict[str, Any] = {}
    for name in model.features:
        values = [row.get(name) for row in rows]
        if name in model.categorical:
            if model.missing_token is not None:
                values = [
                    model.missing_token
                    if v is None or (isinstance(v, str) and not v.strip())
                    else v
                    for v in values
                ]
            data[name] = pd.Series(values, dtype=object)
        elif name in model.text:
            data[name] = pd.Series(values, dtype=object)
        else:
            data[name] = pd.Series([np.nan if v is None else float(v) for v in values])
    return pd.DataFrame(data, columns=list(model.features))


def catboost_says(model: UserModel, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """``predict`` for a points model, the OVER column of ``predict_proba`` for a classifier."""
    frame = user_frame(model, rows)
    if model.kind == "over":
        column = list(model.model.classes_).index(model.over_label)
        return np.asarray(model.model.predict_proba(frame)[:, column], dtype=np.float64)
    return np.asarray(model.model.predict(frame), dtype=np.float64)


# ---------------------------------------------------------------- files a team sends


def spreadsheet_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """A CSV as a spreadsheet exports it: a header, CRLF, blank cells for nothing, TRUE and
    FALSE for a tick box."""

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        return value

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return out.getvalue().encode()
