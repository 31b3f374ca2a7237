"""What ``check_rows`` feeds a model, judged by CatBoost itself.

Tiny models are trained on pandas DataFrames (a text category, an integer-coded category,
a numeric column with NaN), saved, loaded back into a plain ``catboost.CatBoost`` and
described with ``interface_of``. Batch rows sent inline, as JSONL or as CSV are checked and
scored on ``checked.features``; the expected answer is the trained model's ``predict`` on
a DataFrame built here by hand from the values a user meant, so CatBoost's own conversion
of integers and booleans to categories is the reference, not the product's.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import catboost
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.batches.rows import CheckedRows, check_rows, read_rows, rows_to_table
from attribution.model_card.interface import FeatureType, ModelInterface
from attribution.model_card.interface_reading import interface_of

DAY = date(2026, 3, 1)
TEAM_EFFECT = {"BOS": 0.0, "LAL": 4.0, "07": 8.0, "7": 12.0, "NYK": 16.0}
CODE_EFFECT = {0: 0.0, 1: 6.0, 3: 12.0, 7: 18.0}
TOKEN = "__none__"
COLUMNS = ("minutes", "team", "code")


@dataclass(frozen=True)
class Served:
    trained: Any  # the user's CatBoostRegressor, as fitted
    loaded: Any  # the same model saved and loaded into catboost.CatBoost()
    interface: ModelInterface


def minutes_column(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.25, np.nan, rng.normal(30, 6, n))


def serve(model: Any, folder: Path, name: str, metadata: Mapping[str, str] | None = None) -> Served:
    for key, value in (metadata or {}).items():
        model.get_metadata()[key] = value
    path = folder / f"{name}.cbm"
    model.save_model(str(path))
    loaded = catboost.CatBoost()
    loaded.load_model(str(path))
    found = {str(k): str(v) for k, v in loaded.get_metadata().items()}
    return Served(model, loaded, interface_of(loaded, found))


def regressor(**params: Any) -> catboost.CatBoostRegressor:
    return catboost.CatBoostRegressor(
        iterations=5,
        depth=4,
        learning_rate=0.8,
        random_seed=0,
        verbose=False,
        allow_writing_files=False,
        **params,
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def categorical(folder: Path) -> Served:
    rng = np.random.default_rng(7)
    n = 600
    frame = pd.DataFrame(
        {
            "minutes": minutes_column(rng, n),
            "team": rng.choice(list(TEAM_EFFECT), n),
            "code": rng.choice(list(CODE_EFFECT), n),
        }
    )
    target = (
        frame["team"].map(TEAM_EFFECT)
        + frame["code"].map(CODE_EFFECT)
        + frame["minutes"].fillna(-20.0) * 0.5
    )
    model = regressor(cat_features=[1, 2])
    model.fit(frame, target)
    return serve(model, folder, "categorical")


@pytest.fixture(scope="module")
def with_token(folder: Path) -> Served:
    """Trained with missing teams written as TOKEN, and saying so in its metadata."""
    rng = np.random.default_rng(8)
    n = 600
    teams = [*TEAM_EFFECT, TOKEN]
    frame = pd.DataFrame(
        {
            "minutes": minutes_column(rng, n),
            "team": rng.choice(teams, n),
            "code": rng.choice(list(CODE_EFFECT), n),
        }
    )
    effect = {**TEAM_EFFECT, TOKEN: 30.0}
    target = frame["team"].map(effect) + frame["code"].map(CODE_EFFECT) + frame["minutes"].fillna(0)
    model = regressor(cat_features=[1, 2])
    model.fit(frame, target)
    return serve(model, folder, "with_token", {"cat_missing_value": TOKEN})


def numeric_model(folder: Path, nan_mode: str) -> Served:
    rng = np.random.default_rng(9)
    n = 400
    minutes = rng.normal(30, 6, n)
    if nan_mode != "Forbidden":
        minutes = minutes_column(rng, n)
    frame = pd.DataFrame({"minutes": minutes, "usage": rng.normal(0.2, 0.05, n)})
    target = np.nan_to_num(frame["minutes"].to_numpy(), nan=-10.0) + 40 * frame["usage"]
    model = regressor(nan_mode=nan_mode)
    model.fit(frame, target)
    return serve(model, folder, f"numeric_{nan_mode}")


def check(rows: Sequence[Mapping[str, Any]], served: Served) -> CheckedRows:
    return check_rows(rows_to_table(rows), interface=served.interface, game_date=DAY)


def read(data: bytes, fmt: str, served: Served) -> CheckedRows:
    names = [f.name for f in served.interface.features if f.type is not FeatureType.NUMERIC]
    table = read_rows(data, fmt, source=f"t.{fmt}", text_columns=names)
    return check_rows(table, interface=served.interface, game_date=DAY)


def jsonl(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(dict(r)) + "\n" for r in rows).encode()


def scored(served: Served, checked: CheckedRows) -> np.ndarray:
    """The served model's predictions on what check_rows made of the rows."""
    features = checked.features
    if isinstance(features, pd.DataFrame):
        kinds = (FeatureType.CATEGORICAL,)
        indexes = [f.index for f in served.interface.features if f.type in kinds]
        data: Any = catboost.Pool(features, cat_features=indexes)
    else:
        data = features
    output = served.interface.catboost_output
    assert output is not None
    return np.asarray(served.loaded.predict(data, prediction_type=output.value))


def user_frame(minutes: list[float], team: list[Any], code: list[Any]) -> pd.DataFrame:
    """The DataFrame a user would build: the values as meant, in an object column each."""
    return pd.DataFrame(
        {
            "minutes": np.array(minutes, dtype=np.float64),
            "team": pd.Series(team, dtype=object),
            "code": pd.Series(code, dtype=object),
        }
    )


def assert_same_predictions(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# --- the models read back -----------------------------------------------------------------


def test_the_interface_read_from_the_model(categorical: Served, with_token: Served) -> None:
    interface = categorical.interface
    assert [(f.name, f.index, f.type) for f in interface.features] == [
        ("minutes", 0, FeatureType.NUMERIC),
        ("team", 1, FeatureType.CATEGORICAL),
        ("code", 2, FeatureType.CATEGORICAL),
    ]
    assert interface.nan_mode == "Min" and not interface.forbids_missing
    assert interface.categorical_missing_value is None
    assert with_token.interface.categorical_missing_value == TOKEN


def test_the_model_tells_these_categories_apart(categorical: Served) -> None:
    """Else the tests below could not see a category turned into the wrong text."""
    model = categorical.trained
    pairs = [
        (user_frame([30.0], ["BOS"], ["1"]), user_frame([30.0], ["BOS"], ["true"])),
        (user_frame([30.0], ["07"], [3]), user_frame([30.0], ["7"], [3])),
        (user_frame([30.0], ["BOS"], [True]), user_frame([30.0], ["BOS"], [False])),
        (user_frame([np.nan], ["BOS"], [3]), user_frame([0.0], ["BOS"], [3])),
    ]
    for one, other in pairs:
        assert model.predict(one)[0] != model.predict(other)[0]
    # CatBoost's own conversion, which check_rows follows: True is "1", 3 is "3".
    assert model.predict(user_frame([30.0], ["BOS"], [True]))[0] == pytest.approx(
        model.predict(user_frame([30.0], ["BOS"], ["1"]))[0], abs=0
    )
    assert model.predict(user_frame([30.0], ["BOS"], [3]))[0] == pytest.approx(
        model.predict(user_frame([30.0], ["BOS"], ["3"]))[0], abs=0
    )


# --- integers, strings and blanks, inline, as JSONL and as CSV ------------------------------

MIXED_ROWS: list[dict[str, Any]] = [
    {"player_lookup": "p1", "line_value": 20.5, "minutes": 31.5, "team": "BOS", "code": 3},
    {"player_lookup": "p2", "line_value": 18.5, "minutes": None, "team": "07", "code": "7"},
    {"player_lookup": "p3", "line_value": 12.5, "minutes": "", "team": "7", "code": 0},
    {"player_lookup": "p4", "line_value": 9.5, "team": "LAL", "code": 1},
    {"player_lookup": "p5", "line_value": 9.5, "minutes": 25, "team": "  ", "code": 1},
    {"player_lookup": "p6", "line_value": 30.5, "minutes": 40, "team": "NYK", "code": 7},
    {"player_lookup": "p1", "line_value": 21.5, "minutes": 31.5, "team": "BOS", "code": None},
    {"player_lookup": "p1", "line_value": 22.5, "minutes": 28.0, "team": "NYK", "code": 1},
]
MIXED_CSV = b"""player_lookup,line_value,minutes,team,code
p1,20.5,31.5,BOS,3
p2,18.5,,07,7
p3,12.5,,7,0
p4,9.5,,LAL,1
p5,9.5,25,  ,1
p6,30.5,40,NYK,7
p1,21.5,31.5,BOS,
p1,22.5,28.0,NYK,1
"""
MIXED_GOOD = [0, 1, 2, 3, 5, 7]
MIXED_FRAME = user_frame(
    [31.5, np.nan, np.nan, np.nan, 40.0, 28.0],
    ["BOS", "07", "7", "LAL", "NYK", "NYK"],
    [3, "7", 0, 1, 7, 1],
)


@pytest.mark.parametrize("sent_as", ["inline", "jsonl", "csv"])
def test_integers_strings_and_blanks_predict_as_catboost_does(
    categorical: Served, sent_as: str
) -> None:
    if sent_as == "inline":
        checked = check(MIXED_ROWS, categorical)
    elif sent_as == "jsonl":
        checked = read(jsonl(MIXED_ROWS), "jsonl", categorical)
    else:
        checked = read(MIXED_CSV, "csv", categorical)

    assert [int(i) for i in checked.row_numbers] == MIXED_GOOD
    reasons = {r.row_number: r.reason for r in checked.rejects}
    assert set(reasons) == {4, 6}
    assert reasons[4].startswith("categorical feature team is missing")
    assert reasons[6].startswith("categorical feature code is missing")
    assert isinstance(checked.features, pd.DataFrame)
    assert list(checked.features["team"]) == ["BOS", "07", "7", "LAL", "NYK", "NYK"]
    assert list(checked.features["code"]) == ["3", "7", "0", "1", "7", "1"]
    expected = categorical.trained.predict(MIXED_FRAME)
    assert_same_predictions(scored(categorical, checked), expected)


# --- booleans (CSV has none: there a cell "True" is the text True) --------------------------

BOOL_ROWS: list[dict[str, Any]] = [
    {"player_lookup": "p1", "line_value": 20.5, "minutes": 30, "team": "LAL", "code": True},
    {"player_lookup": "p2", "line_value": 7.5, "minutes": math.nan, "team": "BOS", "code": False},
    {"player_lookup": "p3", "line_value": 7.5, "minutes": 22.5, "team": "07", "code": True},
    {"player_lookup": "p4", "line_value": 7.5, "minutes": 22.5, "team": "07", "code": None},
]


@pytest.mark.parametrize("sent_as", ["inline", "jsonl"])
def test_booleans_predict_as_catboost_does(categorical: Served, sent_as: str) -> None:
    checked = (
        check(BOOL_ROWS, categorical)
        if sent_as == "inline"
        else read(jsonl(BOOL_ROWS), "jsonl", categorical)
    )
    assert [int(i) for i in checked.row_numbers] == [0, 1, 2]
    assert [r.row_number for r in checked.rejects] == [3]
    assert list(checked.features["code"]) == ["1", "0", "1"]
    expected = categorical.trained.predict(
        user_frame([30.0, np.nan, 22.5], ["LAL", "BOS", "07"], [True, False, True])
    )
    assert_same_predictions(scored(categorical, checked), expected)


# --- floats in a categorical column -----------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, 2.5])
def test_a_float_with_a_fraction_is_no_category_as_catboost_says(
    categorical: Served, value: float
) -> None:
    with pytest.raises(catboost.CatBoostError, match="cat_feature"):
        categorical.trained.predict(user_frame([30.0], ["BOS"], [value]))

    rows = [
        {"player_lookup": "p1", "line_value": 1.5, "minutes": 30, "team": "BOS", "code": value},
        {"player_lookup": "p2", "line_value": 1.5, "minutes": 30, "team": "BOS", "code": 0.25},
    ]
    for checked in (check(rows, categorical), read(jsonl(rows), "jsonl", categorical)):
        assert checked.good == 0
        for reject in checked.rejects:
            assert "feature code is categorical but got the number" in reject.reason


def test_integer_codes_that_a_reader_made_floats_predict_as_the_integers(
    categorical: Served,
) -> None:
    """A fraction beside them (JSON) or a NaN (a Parquet file written from pandas) makes a
    reader type a column of integer codes as floats; the whole numbers are the integers."""
    rows: list[dict[str, Any]] = [
        {"player_lookup": "p1", "line_value": 1.5, "minutes": 30, "team": "BOS", "code": 3},
        {"player_lookup": "p2", "line_value": 1.5, "minutes": 25, "team": "LAL", "code": 2.5},
        {"player_lookup": "p3", "line_value": 1.5, "minutes": 20, "team": "NYK", "code": 7.0},
        {"player_lookup": "p4", "line_value": 1.5, "minutes": 20, "team": "NYK", "code": 1},
    ]
    parquet = io.BytesIO()
    frame = pd.DataFrame(rows).assign(code=[3, np.nan, 7, 1])
    assert frame["code"].dtype == np.float64
    frame.to_parquet(parquet)
    expected = categorical.trained.predict(
        user_frame([30.0, 20.0, 20.0], ["BOS", "NYK", "NYK"], [3, 7, 1])
    )
    for checked in (
        check(rows, categorical),
        read(jsonl(rows), "jsonl", categorical),
        read(parquet.getvalue(), "parquet", categorical),
    ):
        assert [int(i) for i in checked.row_numbers] == [0, 2, 3]
        assert list(checked.features["code"]) == ["3", "7", "1"]
        assert_same_predictions(scored(categorical, checked), expected)


# --- a missing category and the model's token --------------------------------------------


def test_a_missing_category_takes_the_token_the_model_was_trained_with(
    with_token: Served,
) -> None:
    rows: list[dict[str, Any]] = [
        {"player_lookup": "p1", "line_value": 1.5, "minutes": 30, "team": "BOS", "code": 3},
        {"player_lookup": "p2", "line_value": 1.5, "minutes": 30, "team": None, "code": 3},
        {"player_lookup": "p3", "line_value": 1.5, "minutes": 30, "team": "", "code": 1},
        {"player_lookup": "p4", "line_value": 1.5, "minutes": 30, "team": "   ", "code": 7},
        {"player_lookup": "p5", "line_value": 1.5, "minutes": 30, "code": 0},
    ]
    csv_text = b"player_lookup,line_value,minutes,team,code\n" + b"".join(
        f"{r['player_lookup']},1.5,30,{r.get('team') or ''},{r['code']}\n".encode() for r in rows
    )
    expected = with_token.trained.predict(
        user_frame([30.0] * 5, ["BOS", TOKEN, TOKEN, TOKEN, TOKEN], [3, 3, 1, 7, 0])
    )
    # The token is a category the model knows: a missing team does not predict as BOS.
    assert expected[1] != expected[0]
    for checked in (
        check(rows, with_token),
        read(jsonl(rows), "jsonl", with_token),
        read(csv_text, "csv", with_token),
    ):
        assert checked.rejects == []
        assert list(checked.features["team"]) == ["BOS", TOKEN, TOKEN, TOKEN, TOKEN]
        assert_same_predictions(scored(with_token, checked), expected)


# --- numeric models: a float matrix ------------------------------------------------------


@pytest.mark.parametrize("nan_mode", ["Min", "Max", "Forbidden"])
def test_a_numeric_model_is_fed_a_float_matrix(folder: Path, nan_mode: str) -> None:
    served = numeric_model(folder, nan_mode)
    assert served.interface.nan_mode == nan_mode
    assert served.interface.all_numeric
    rows: list[dict[str, Any]] = [
        {"player_lookup": "p1", "line_value": 1.5, "minutes": 31, "usage": 0.25},
        {"player_lookup": "p2", "line_value": 1.5, "minutes": None, "usage": 0.1},
        {"player_lookup": "p3", "line_value": 1.5, "minutes": "", "usage": "0.3"},
        {"player_lookup": "p4", "line_value": 1.5, "usage": 0.2},
        {"player_lookup": "p5", "line_value": 1.5, "minutes": "28.5", "usage": 0.15},
    ]
    checked = check(rows, served)
    assert isinstance(checked.features, np.ndarray)
    if served.interface.forbids_missing:
        assert [int(i) for i in checked.row_numbers] == [0, 4]
        for reject in checked.rejects:
            assert reject.reason.startswith("feature minutes is missing")
        frame = pd.DataFrame({"minutes": [31.0, 28.5], "usage": [0.25, 0.15]})
    else:
        assert checked.good == 5
        frame = pd.DataFrame(
            {"minutes": [31.0, np.nan, np.nan, np.nan, 28.5], "usage": [0.25, 0.1, 0.3, 0.2, 0.15]}
        )
    assert_same_predictions(scored(served, checked), served.trained.predict(frame))


# --- any rows, against CatBoost ---------------------------------------------------------------

teams = st.sampled_from([*TEAM_EFFECT, "SEA", "", "  ", None])
codes_as_labels = st.one_of(st.sampled_from(list(CODE_EFFECT)), st.sampled_from(["0", "3", "9"]))
minutes_cells = st.one_of(
    st.floats(0, 60), st.integers(0, 60), st.sampled_from([None, "", "  ", math.nan, "12.5"])
)


@st.composite
def catboost_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    # Per batch the code column holds integers and their text, or booleans.
    code = draw(st.sampled_from([codes_as_labels, st.booleans()]))
    rows = []
    for number in range(draw(st.integers(1, 10))):
        row: dict[str, Any] = {"player_lookup": f"p{number}", "line_value": 10.5}
        for name, cells in (("minutes", minutes_cells), ("team", teams), ("code", code)):
            if draw(st.integers(0, 5)):
                row[name] = draw(st.one_of(cells, st.none()))
        rows.append(row)
    return rows


def meant_minutes(value: Any) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    return float(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=catboost_rows(), as_jsonl=st.booleans())
def test_any_rows_predict_as_catboost_does(
    categorical: Served, rows: list[dict[str, Any]], as_jsonl: bool
) -> None:
    checked = read(jsonl(rows), "jsonl", categorical) if as_jsonl else check(rows, categorical)

    def present(value: Any) -> bool:
        return value is not None and not (isinstance(value, str) and not value.strip())

    good = [i for i, r in enumerate(rows) if present(r.get("team")) and present(r.get("code"))]
    if not any("minutes" in r for r in rows):
        good = []  # a feature no row carries is a misnamed column: every row is refused
    assert [int(i) for i in checked.row_numbers] == good
    if not good:
        return
    frame = user_frame(
        [meant_minutes(rows[i].get("minutes")) for i in good],
        [rows[i]["team"] for i in good],
        [rows[i]["code"] for i in good],
    )
    assert_same_predictions(scored(categorical, checked), categorical.trained.predict(frame))
