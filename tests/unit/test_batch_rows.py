"""Reading a batch's rows (JSONL, CSV, Parquet) and checking them column by column.

Property tests compare ``check_rows`` with a row-at-a-time reference: every input row ends
up good or rejected exactly once, good rows carry exactly the values sent (a missing number
as NaN, unless the model was trained with nan_mode Forbidden), and a feature that is not a
number always rejects its row with a reason naming the feature. Categorical and text
features are judged the same way, cell by cell, against the text CatBoost's Python package
makes of a value. A prediction is a player, a line and a sportsbook: repeats of all three
are rejected, against a set-based reference. Reading the same rows back from JSONL or CSV
gives the same verdicts as sending them inline.
"""

from __future__ import annotations

import csv
import io
import json
import math
import string
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.batches.rows import (
    MISSING_SPELLINGS,
    CheckedRows,
    check_rows,
    format_of,
    parse_jsonl,
    read_rows,
    rows_to_table,
)
from attribution.errors import PermanentError
from attribution.model_card.interface import FeatureType, ModelFeature, ModelInterface

DAY = date(2026, 3, 1)
FEATURES = ("f_form", "f_minutes", "f_pace")
PLAYERS = ("p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08")
REPEATED = "the same player, line and sportsbook appear more than once in the batch"

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def interface(
    features: Sequence[tuple[str, FeatureType]],
    *,
    nan_mode: str = "Min",
    token: str | None = None,
) -> ModelInterface:
    return ModelInterface(
        features=tuple(
            ModelFeature(name=name, index=i, type=kind) for i, (name, kind) in enumerate(features)
        ),
        nan_mode=nan_mode,
        categorical_missing_value=token,
    )


MIN = interface([(name, FeatureType.NUMERIC) for name in FEATURES])
FORBIDDEN = interface([(name, FeatureType.NUMERIC) for name in FEATURES], nan_mode="Forbidden")
NAN_MODES = pytest.mark.parametrize("model", [MIN, FORBIDDEN], ids=["Min", "Forbidden"])


def check(rows: Sequence[Mapping[str, Any]], model: ModelInterface = MIN) -> CheckedRows:
    return check_rows(rows_to_table(rows), interface=model, game_date=DAY)


def text_columns(model: ModelInterface) -> tuple[str, ...]:
    return tuple(f.name for f in model.features if f.type is not FeatureType.NUMERIC)


# --- the row-at-a-time reference -------------------------------------------------------


def kind(value: Any) -> str:
    """number, missing, not_number or infinite: what one cell is, judged on its own."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "not_number"
    if isinstance(value, str):
        if value.strip() in ("", *MISSING_SPELLINGS):
            return "missing"  # how spreadsheets spell a missing number
        try:
            number = float(value)
        except ValueError:
            return "not_number"
        return (
            "not_number" if math.isnan(number) else "infinite" if math.isinf(number) else "number"
        )
    number = float(value)
    return "missing" if math.isnan(number) else "infinite" if math.isinf(number) else "number"


def line_key(value: Any) -> Any:
    """The line as the repeat check compares it: any line that is no number at all is NaN,
    and NaN is alike to NaN there (such rows are rejected for their line anyway)."""
    return float(value) if kind(value) in ("number", "infinite") else "NaN"


def book_of(row: Mapping[str, Any]) -> str | None:
    book = row.get("sportsbook")
    return None if book is None or not str(book).strip() else str(book)


def label_of(value: Any, *, categorical: bool, token: str | None) -> tuple[str, str | None]:
    """("ok", text CatBoost makes of it) or ("missing" | "float", None), judged alone.

    A float that is a whole number (below 2**53, where floats still count every integer)
    stands for the integer: readers turn integers into floats when a column also holds a
    fraction or a NaN. A float with a fraction is no category (CatBoost refuses it).
    """
    blank = value is None or (isinstance(value, str) and not value.strip())
    if blank or (isinstance(value, float) and math.isnan(value)):
        return ("ok", token) if categorical and token is not None else ("missing", None)
    if isinstance(value, bool):
        return "ok", "1" if value else "0"
    if isinstance(value, int):
        return "ok", str(value)
    if isinstance(value, float):
        whole = value.is_integer() and abs(value) < 2**53
        return ("ok", str(int(value))) if whole else ("float", None)
    return "ok", str(value)


def absent_features(rows: Sequence[Mapping[str, Any]], model: ModelInterface) -> set[str]:
    """The features no row carries: a column the input lacks (most likely misnamed)."""
    return {f.name for f in model.features if all(f.name not in r for r in rows)}


def negative_line(row: Mapping[str, Any]) -> bool:
    value = row.get("line_value")
    return kind(value) == "number" and float(value) < 0


def expected_reasons(
    row: Mapping[str, Any],
    seen: set[tuple[Any, ...]],
    model: ModelInterface,
    absent: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    reasons: list[str] = []
    player = row.get("player_lookup")
    if player is None or not str(player).strip():
        reasons.append("player_lookup is missing")
    line = kind(row.get("line_value"))
    if line != "number":
        reasons.append(f"line_value {line}")
    elif negative_line(row):
        reasons.append("line_value negative")
    game_date = row.get("game_date")
    if game_date is not None and game_date != DAY.isoformat():
        reasons.append("game_date")
    for feature in model.features:
        value = row.get(feature.name)
        if feature.name in absent:
            reasons.append(f"feature {feature.name} absent")
        elif feature.type is FeatureType.NUMERIC:
            verdict = kind(value)
            if verdict in ("not_number", "infinite") or (
                verdict == "missing" and model.forbids_missing
            ):
                reasons.append(f"feature {feature.name} {verdict}")
        else:
            categorical = feature.type is FeatureType.CATEGORICAL
            verdict, _ = label_of(
                value, categorical=categorical, token=model.categorical_missing_value
            )
            if verdict != "ok":
                reasons.append(f"feature {feature.name} {verdict}")
    if player is not None:
        key = (player, line_key(row.get("line_value")), book_of(row))
        if key in seen:
            reasons.append("duplicate")
        seen.add(key)
    return reasons


def expected_verdicts(rows: Sequence[Mapping[str, Any]], model: ModelInterface) -> list[list[str]]:
    seen: set[tuple[Any, ...]] = set()
    absent = absent_features(rows, model)
    return [expected_reasons(row, seen, model, absent) for row in rows]


# --- strategies --------------------------------------------------------------------------

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(finite_floats, st.integers(-(2**70), 2**70), st.integers(-50, 50))
non_numeric_text = st.text(string.ascii_letters + "-_#", min_size=1, max_size=8).filter(
    lambda s: kind(s) == "not_number"
)
non_numbers = st.one_of(st.booleans(), non_numeric_text)
numeric_text = numbers.map(lambda n: repr(float(n)) if isinstance(n, float) else str(n))
missing_numbers = st.sampled_from([None, float("nan"), "", "  "])
cells = st.one_of(
    numbers,
    numbers,
    non_numbers,
    numeric_text,
    st.none(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), "", "  ", "nan", "Infinity"]),
)
# A few common lines, so that the same player and line turn up more than once.
common_lines = st.sampled_from([10.5, 20.5, "10.5", 20, 20.0])
players = st.one_of(st.sampled_from(PLAYERS), st.none(), st.sampled_from(["", "   "]))
game_dates = st.sampled_from([None, DAY.isoformat(), "2026-03-02", "yesterday"])
books = st.sampled_from([None, "", "  ", "dk", "fd"])
ABSENT = object()  # a key the row leaves out


@st.composite
def rows_strategy(
    draw: st.DrawFn,
    cell: st.SearchStrategy[Any] = cells,
    features: Sequence[str] = FEATURES,
    players: st.SearchStrategy[Any] = players,
) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 12))
    with_date = draw(st.booleans())
    with_book = draw(st.booleans())
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {
            "player_lookup": draw(players),
            "line_value": draw(st.one_of(common_lines, cell)),
        }
        if with_date:
            row["game_date"] = draw(game_dates)
        if with_book:
            row["sportsbook"] = draw(books)
        for name in features:
            if draw(st.integers(0, 9)):  # now and then a row leaves a feature out
                row[name] = draw(cell)
        rows.append(row)
    return rows


# --- properties ----------------------------------------------------------------------------


def assert_partition(checked: CheckedRows, n: int, model: ModelInterface = MIN) -> None:
    good = [int(i) for i in checked.row_numbers]
    rejected = [r.row_number for r in checked.rejects]
    assert checked.requested == n
    assert len(rejected) == len(set(rejected))
    assert sorted(good + rejected) == list(range(n))
    assert checked.features.shape == (len(good), len(model.features))
    if model.all_numeric:
        assert isinstance(checked.features, np.ndarray)
        assert checked.features.dtype == np.float64
    else:
        assert isinstance(checked.features, pd.DataFrame)
        assert list(checked.features.columns) == [f.name for f in model.features]
    assert (
        len(checked.player_lookup)
        == len(checked.line_value)
        == len(checked.sportsbook)
        == len(good)
    )
    assert pa.types.is_string(checked.sportsbook.type)


def assert_reasons_match(
    checked: CheckedRows, rows: Sequence[Mapping[str, Any]], model: ModelInterface
) -> None:
    """Each rejected row gives the reasons the reference finds, and no others."""
    expected = expected_verdicts(rows, model)
    assert [int(i) for i in checked.row_numbers] == [i for i, r in enumerate(expected) if not r]
    reasons = {r.row_number: r.reason for r in checked.rejects}
    absent = absent_features(rows, model)
    for index, row in enumerate(rows):
        if not expected[index]:
            continue
        reason = reasons[index]
        line = kind(row.get("line_value"))
        if negative_line(row):
            assert "line_value is negative" in reason
        elif line == "number":
            assert "line_value" not in reason
        else:
            wording = {"missing": "missing", "not_number": "not a number", "infinite": "not finite"}
            assert f"line_value is {wording[line]}" in reason
        for feature in model.features:
            name = feature.name
            if name in absent:
                assert reason.count(f"feature {name} ") == 1
                assert f"feature {name} is not in the input" in reason
            elif feature.type is FeatureType.NUMERIC:
                verdict = kind(row.get(name))
                if verdict == "not_number":
                    assert f"feature {name} is not a number" in reason
                elif verdict == "infinite":
                    assert f"feature {name} is not finite" in reason
                elif verdict == "missing" and model.forbids_missing:
                    assert f"feature {name} is missing" in reason
                else:
                    assert f"feature {name} " not in reason
            else:
                verdict, _ = label_of(
                    row.get(name),
                    categorical=feature.type is FeatureType.CATEGORICAL,
                    token=model.categorical_missing_value,
                )
                if verdict == "float":
                    assert f"feature {name} is categorical but got the number" in reason
                elif verdict == "missing":
                    assert f"{feature.type.value} feature {name} is missing" in reason
                else:
                    assert f"feature {name} " not in reason
        assert ("duplicate" in expected[index]) == (REPEATED in reason)
        (reject,) = [r for r in checked.rejects if r.row_number == index]
        assert reject.raw_row.keys() >= row.keys()
        assert reject.player_lookup == row.get("player_lookup")


@NAN_MODES
@PROPERTY
@given(rows=rows_strategy())
def test_every_row_is_good_or_rejected_exactly_once(
    model: ModelInterface, rows: list[dict[str, Any]]
) -> None:
    checked = check(rows, model)
    assert_partition(checked, len(rows), model)
    assert_reasons_match(checked, rows, model)


def assert_good_rows_as_sent(
    checked: CheckedRows, rows: Sequence[Mapping[str, Any]], model: ModelInterface
) -> None:
    token = model.categorical_missing_value
    for position, index in enumerate(checked.row_numbers):
        row = rows[int(index)]
        assert checked.player_lookup[position].as_py() == row["player_lookup"]
        assert checked.line_value[position] == float(row["line_value"])
        assert checked.sportsbook[position].as_py() == book_of(row)
        for column, feature in enumerate(model.features):
            value = row.get(feature.name)
            if isinstance(checked.features, np.ndarray):
                got = checked.features[position, column]
            else:
                got = checked.features[feature.name].iloc[position]
            if feature.type is FeatureType.NUMERIC:
                assert kind(value) in ("number", "missing")
                assert not (model.forbids_missing and kind(value) == "missing")
                if kind(value) == "missing":
                    assert math.isnan(got)
                else:
                    assert value is not None and got == float(value)
            else:
                categorical = feature.type is FeatureType.CATEGORICAL
                assert label_of(value, categorical=categorical, token=token) == ("ok", got)
                assert type(got) is str


@NAN_MODES
@PROPERTY
@given(rows=rows_strategy())
def test_good_rows_carry_exactly_the_values_sent(
    model: ModelInterface, rows: list[dict[str, Any]]
) -> None:
    assert_good_rows_as_sent(check(rows, model), rows, model)


@NAN_MODES
@PROPERTY
@given(rows=rows_strategy(), data=st.data())
def test_a_feature_that_is_not_a_number_always_rejects_its_row(
    model: ModelInterface, rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    good = {
        "player_lookup": "p_target",
        "line_value": 10.5,
        **{name: data.draw(numbers) for name in FEATURES},
    }
    feature = data.draw(st.sampled_from(FEATURES))
    bad = dict(good, **{feature: data.draw(non_numbers)})
    where = data.draw(st.integers(0, len(rows)))
    rows = [*rows[:where], bad, *rows[where:]]

    checked = check(rows, model)
    assert where not in {int(i) for i in checked.row_numbers}
    (reject,) = [r for r in checked.rejects if r.row_number == where]
    assert f"feature {feature} is not a number" in reject.reason
    assert reject.raw_row[feature] is not None


@NAN_MODES
@PROPERTY
@given(rows=rows_strategy(), data=st.data())
def test_a_missing_number_is_nan_unless_the_model_forbids_it(
    model: ModelInterface, rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    target: dict[str, Any] = {
        "player_lookup": "p_target",
        "line_value": 10.5,
        **{name: data.draw(numbers) for name in FEATURES},
    }
    feature = data.draw(st.sampled_from(FEATURES))
    missing = data.draw(st.one_of(missing_numbers, st.just(ABSENT)))
    if missing is ABSENT:
        del target[feature]
    else:
        target[feature] = missing
    where = data.draw(st.integers(0, len(rows)))
    rows = [*rows[:where], target, *rows[where:]]

    checked = check(rows, model)
    good = [int(i) for i in checked.row_numbers]
    if feature in absent_features(rows, model):
        assert where not in good
        (reject,) = [r for r in checked.rejects if r.row_number == where]
        assert f"feature {feature} is not in the input" in reject.reason
    elif model.forbids_missing:
        assert where not in good
        (reject,) = [r for r in checked.rejects if r.row_number == where]
        assert f"feature {feature} is missing" in reject.reason
        assert reject.reason.count("feature ") == 1
    else:
        assert where in good
        values = checked.features[good.index(where)]
        assert isinstance(checked.features, np.ndarray)
        for column, name in enumerate(FEATURES):
            expected = math.nan if name == feature else float(target[name])
            assert np.array_equal(values[column], expected, equal_nan=True)


def same_features(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype == np.float64
        assert np.array_equal(a, b, equal_nan=True)
    else:
        pd.testing.assert_frame_equal(a, b)


def same_verdicts(a: CheckedRows, b: CheckedRows, *, reasons: bool) -> None:
    assert a.requested == b.requested
    assert list(a.row_numbers) == list(b.row_numbers)
    assert a.player_lookup.to_pylist() == b.player_lookup.to_pylist()
    assert np.array_equal(a.line_value, b.line_value)
    assert a.sportsbook.to_pylist() == b.sportsbook.to_pylist()
    same_features(a.features, b.features)
    assert [r.row_number for r in a.rejects] == [r.row_number for r in b.rejects]
    if reasons:
        assert [r.reason for r in a.rejects] == [r.reason for r in b.rejects]


def jsonl(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(dict(r)) + "\n" for r in rows).encode()


@NAN_MODES
@PROPERTY
@given(rows=rows_strategy())
def test_jsonl_round_trip(model: ModelInterface, rows: list[dict[str, Any]]) -> None:
    data = jsonl(rows)
    assert parse_jsonl(data) == (json.loads(json.dumps(rows)), ())
    if not rows:
        return
    from_file = check_rows(
        read_rows(data, "jsonl", source="t.jsonl"), interface=model, game_date=DAY
    )
    same_verdicts(from_file, check(rows, model), reasons=True)


csv_cells = st.one_of(numbers, numbers, non_numbers, numeric_text, st.none())
CSV_COLUMNS = ("player_lookup", "line_value", "game_date", "sportsbook")
# What pyarrow's CSV reader, as read_rows calls it, takes for a missing value.
CSV_NULLS = frozenset(pacsv.ConvertOptions().null_values)


def with_every_column(row: Mapping[str, Any], features: Sequence[str] = FEATURES) -> dict[str, Any]:
    """The row as a CSV holds it: a cell (blank where the row had none) in every column."""
    return {name: None for name in (*CSV_COLUMNS, *features)} | dict(row)


def csv_text(rows: Sequence[Mapping[str, Any]], features: Sequence[str] = FEATURES) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*CSV_COLUMNS, *features], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in row.items()}
        )
    return out.getvalue().encode()


@NAN_MODES
@PROPERTY
@given(rows=rows_strategy(csv_cells))
def test_csv_round_trip(model: ModelInterface, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = read_rows(csv_text(rows), "csv", source="t.csv")
    assert table.num_rows == len(rows)
    from_file = check_rows(table, interface=model, game_date=DAY)
    # In a CSV "" and the usual null markers ("NULL", "nan", "NA"...) are missing values,
    # so reasons may read differently; which rows are good, and their numbers, may not.
    as_sent = [
        {k: (None if v in CSV_NULLS else v) for k, v in with_every_column(row).items()}
        for row in rows
    ]
    same_verdicts(from_file, check(as_sent, model), reasons=False)


# --- categorical and text features ----------------------------------------------------------

LABELLED_FEATURES = (
    ("f_form", FeatureType.NUMERIC),
    ("c_team", FeatureType.CATEGORICAL),
    ("f_pace", FeatureType.NUMERIC),
    ("t_note", FeatureType.TEXT),
)
LABELLED = interface(LABELLED_FEATURES)
LABELLED_WITH_TOKEN = interface(LABELLED_FEATURES, token="__missing__")
TOKENS = pytest.mark.parametrize(
    "model", [LABELLED, LABELLED_WITH_TOKEN], ids=["no_token", "token"]
)
LABEL_NAMES = ("c_team", "t_note")

labels_text = st.sampled_from(["BOS", "LAL", "07", "x y", "3", "-2"])
blank_labels = st.sampled_from([None, "", "  "])
small_integers = st.integers(-1000, 1000)
# Each batch sends one kind of value per label column: text and integers (and blanks), or
# booleans, or numbers (integers, floats with and without a fraction, NaN).
LABEL_KINDS: dict[str, st.SearchStrategy[Any]] = {
    "labels": st.one_of(labels_text, small_integers, blank_labels),
    "booleans": st.one_of(st.booleans(), st.none()),
    "numbers": st.one_of(
        finite_floats,
        small_integers,
        small_integers.map(float),
        st.sampled_from([float(2**53 - 1), float(2**53), 0.5, -0.0, float("nan")]),
        st.none(),
    ),
}
simple_numbers = st.one_of(numbers, missing_numbers)


@st.composite
def labelled_rows(
    draw: st.DrawFn, kinds: Sequence[str] = tuple(LABEL_KINDS)
) -> list[dict[str, Any]]:
    """Rows for LABELLED, each label column of one of ``kinds``."""
    chosen = {name: draw(st.sampled_from(kinds)) for name in LABEL_NAMES}
    rows = draw(rows_strategy(simple_numbers, ("f_form", "f_pace")))
    for row in rows:
        for name, label_kind in chosen.items():
            if draw(st.integers(0, 9)):
                row[name] = draw(LABEL_KINDS[label_kind])
    return rows


@TOKENS
@PROPERTY
@given(rows=labelled_rows())
def test_categorical_and_text_features_as_catboost_reads_them(
    model: ModelInterface, rows: list[dict[str, Any]]
) -> None:
    checked = check(rows, model)
    assert_partition(checked, len(rows), model)
    assert_reasons_match(checked, rows, model)
    assert_good_rows_as_sent(checked, rows, model)
    for name in ("f_form", "f_pace"):
        assert checked.features[name].dtype == np.float64
    if rows:
        from_file = check_rows(
            read_rows(jsonl(rows), "jsonl", source="t.jsonl"), interface=model, game_date=DAY
        )
        same_verdicts(from_file, checked, reasons=True)


@TOKENS
@PROPERTY
@given(rows=labelled_rows(("labels",)))
def test_csv_reads_label_columns_as_the_text_sent(
    model: ModelInterface, rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    data = csv_text(rows, ("f_form", "c_team", "f_pace", "t_note"))
    table = read_rows(data, "csv", source="t.csv", text_columns=text_columns(model))
    from_file = check_rows(table, interface=model, game_date=DAY)
    # In a CSV every label is text as written ("NA" too): an integer is its digits, a blank
    # is missing.
    as_sent = [
        {
            k: (None if v is None else str(v))
            if k in LABEL_NAMES
            else (None if v in CSV_NULLS else v)
            for k, v in with_every_column(r, ("f_form", "c_team", "f_pace", "t_note")).items()
        }
        for r in rows
    ]
    same_verdicts(from_file, check(as_sent, model), reasons=False)
    assert_good_rows_as_sent(from_file, as_sent, model)


def labelled_row(player: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "player_lookup": player,
        "line_value": 20.5,
        "f_form": 22.1,
        "c_team": "BOS",
        "f_pace": 99.5,
        "t_note": "back to back",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


def test_labelled_features_are_a_frame_in_model_order() -> None:
    checked = check([labelled_row("p1"), labelled_row("p2", f_form=None, c_team=7)], LABELLED)
    frame = checked.features
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["f_form", "c_team", "f_pace", "t_note"]
    assert frame["f_form"].dtype == frame["f_pace"].dtype == np.float64
    assert frame["f_form"].iloc[0] == 22.1 and math.isnan(frame["f_form"].iloc[1])
    assert list(frame["c_team"]) == ["BOS", "7"]
    assert list(frame["t_note"]) == ["back to back", "back to back"]
    assert all(type(v) is str for v in [*frame["c_team"], *frame["t_note"]])


@pytest.mark.parametrize(
    ("values", "texts"),
    [
        ([True, False, None], ["1", "0"]),
        ([3, -2, 0], ["3", "-2", "0"]),
        ([3, "BOS", "07"], ["3", "BOS", "07"]),
        ([2**70, "x"], [str(2**70), "x"]),
    ],
)
def test_integers_and_booleans_become_the_text_catboost_makes(
    values: list[Any], texts: list[str]
) -> None:
    rows = [labelled_row(f"p{i}", c_team=v) for i, v in enumerate(values)]
    checked = check(rows, LABELLED)
    assert list(checked.features["c_team"]) == texts
    assert [int(i) for i in checked.row_numbers] == list(range(len(texts)))


@pytest.mark.parametrize(
    ("value", "sent"), [(1.5, "1.5"), (-0.25, "-0.25"), (1e300, "1e+300"), (2.0**60, None)]
)
def test_a_float_with_a_fraction_in_a_categorical_column_is_rejected(
    value: float, sent: str | None
) -> None:
    rows = [labelled_row("p1", c_team=value), labelled_row("p2", c_team=None)]
    for model in (LABELLED, LABELLED_WITH_TOKEN):
        checked = check(rows, model)
        reasons = {r.row_number: r.reason for r in checked.rejects}
        assert "feature c_team is categorical but got the number" in reasons[0]
        if sent is not None:
            assert f"got the number {sent}:" in reasons[0]
        assert 0 not in list(checked.row_numbers)
        assert (1 in list(checked.row_numbers)) == (model is LABELLED_WITH_TOKEN)


@pytest.mark.parametrize(
    ("values", "texts", "good"),
    [
        ([2.0, -3.0, -0.0, None], ["2", "-3", "0"], [0, 1, 2]),
        ([2, 1.5, 7], ["2", "7"], [0, 2]),  # an integer beside a fraction is still an integer
        ([4, math.nan, 5], ["4", "5"], [0, 2]),
    ],
)
def test_a_whole_number_float_is_the_integer_it_stands_for(
    values: list[Any], texts: list[str], good: list[int]
) -> None:
    rows = [labelled_row(f"p{i}", c_team=v) for i, v in enumerate(values)]
    checked = check(rows, LABELLED)
    assert [int(i) for i in checked.row_numbers] == good
    assert list(checked.features["c_team"]) == texts


@pytest.mark.parametrize("missing", [None, "", "   ", ABSENT])
def test_a_missing_category_is_rejected_or_replaced_by_the_token(missing: Any) -> None:
    change = ... if missing is ABSENT else missing
    rows = [labelled_row("p1"), labelled_row("p2", c_team=change)]

    assert {r.row_number: r.reason for r in check(rows, LABELLED).rejects} == {
        1: "categorical feature c_team is missing (declare the token the model was trained "
        "with for a missing category in its metadata as cat_missing_value)"
    }
    checked = check(rows, LABELLED_WITH_TOKEN)
    assert checked.rejects == []
    assert list(checked.features["c_team"]) == ["BOS", "__missing__"]


@pytest.mark.parametrize("missing", [None, "", "   ", ABSENT])
def test_a_missing_text_feature_is_rejected_whatever_the_token(missing: Any) -> None:
    change = ... if missing is ABSENT else missing
    rows = [labelled_row("p1"), labelled_row("p2", t_note=change)]
    for model in (LABELLED, LABELLED_WITH_TOKEN):
        assert {r.row_number: r.reason for r in check(rows, model).rejects} == {
            1: "text feature t_note is missing"
        }


def test_a_category_column_absent_from_every_row_rejects_them_whatever_the_token() -> None:
    rows = [labelled_row("p1", c_team=...), labelled_row("p2", c_team=...)]
    for model in (LABELLED, LABELLED_WITH_TOKEN):
        reasons = reasons_of(rows, model)
        assert set(reasons) == {0, 1}
        assert all(r.startswith("feature c_team is not in the input") for r in reasons.values())
    present_but_blank = [labelled_row("p1", c_team=None), labelled_row("p2", c_team=None)]
    assert (
        list(check(present_but_blank, LABELLED_WITH_TOKEN).features["c_team"])
        == ["__missing__"] * 2
    )


def csv_rows(*lines: str) -> bytes:
    return ("player_lookup,line_value,f_form,c_team,f_pace,t_note\n" + "\n".join(lines)).encode()


def test_csv_text_columns_keep_codes_as_written() -> None:
    data = csv_rows(
        "p1,20.5,1,07,2,0042", "p2,20.5,1,7,2,x", "p3,20.5,1,,2,y", "p4,20.5,1,NA,2,N/A"
    )
    table = read_rows(data, "csv", source="t.csv", text_columns=text_columns(LABELLED))
    # A text cell is what the sheet shows: a blank is blank, "NA" is a category.
    assert table.column("c_team").to_pylist() == ["07", "7", "", "NA"]
    checked = check_rows(table, interface=LABELLED, game_date=DAY)
    assert list(checked.features["c_team"]) == ["07", "7", "NA"]
    assert list(checked.features["t_note"]) == ["0042", "x", "N/A"]
    assert [r.row_number for r in checked.rejects] == [2]
    assert "categorical feature c_team is missing" in checked.rejects[0].reason

    # Read as numbers, "07" would become the category "7": why the option exists.
    as_numbers = read_rows(data, "csv", source="t.csv")
    codes = check_rows(as_numbers, interface=LABELLED, game_date=DAY).features["c_team"]
    assert list(codes) == ["7", "7"]  # and "NA" a missing number


# --- one prediction per player, line and sportsbook ----------------------------------------

triples = st.tuples(
    st.sampled_from(["p1", "p2", "p3"]),
    st.sampled_from([10.5, 11.5, "10.5", 11, 11.0, "11"]),
    st.one_of(books, st.just(ABSENT)),
)


def triple_rows(drawn: Sequence[tuple[str, Any, Any]]) -> list[dict[str, Any]]:
    rows = []
    for player, line, book in drawn:
        row = {"player_lookup": player, "line_value": line, "f_form": 1, "f_minutes": 2}
        if book is not ABSENT:
            row["sportsbook"] = book
        row["f_pace"] = 3
        rows.append(row)
    return rows


@PROPERTY
@given(st.lists(triples, max_size=25))
def test_each_player_line_and_sportsbook_is_predicted_once(
    drawn: list[tuple[str, Any, Any]],
) -> None:
    rows = triple_rows(drawn)
    checked = check(rows)
    assert_partition(checked, len(rows))

    seen: set[tuple[str, float, str | None]] = set()
    first: list[int] = []
    for index, row in enumerate(rows):
        key = (row["player_lookup"], float(row["line_value"]), book_of(row))
        if key not in seen:
            seen.add(key)
            first.append(index)
    assert [int(i) for i in checked.row_numbers] == first
    assert all(r.reason == REPEATED for r in checked.rejects)
    kept = list(
        zip(
            checked.player_lookup.to_pylist(),
            checked.line_value.tolist(),
            checked.sportsbook.to_pylist(),
            strict=True,
        )
    )
    assert len(set(kept)) == len(kept) == len(seen)
    assert set(kept) == seen

    if rows:
        for data, fmt in ((jsonl(rows), "jsonl"), (csv_text(rows), "csv")):
            table = read_rows(data, fmt, source=f"t.{fmt}")
            same_verdicts(check_rows(table, interface=MIN, game_date=DAY), checked, reasons=True)


# --- examples -----------------------------------------------------------------------------


def good_row(player: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "player_lookup": player,
        "line_value": 20.5,
        "game_date": DAY.isoformat(),
        "f_form": 22.1,
        "f_minutes": 33.0,
        "f_pace": 99.5,
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


def reasons_of(rows: Sequence[Mapping[str, Any]], model: ModelInterface = MIN) -> dict[int, str]:
    return {r.row_number: r.reason for r in check(rows, model).rejects}


def test_a_row_for_another_game_date_is_rejected() -> None:
    rows = [good_row("p1"), good_row("p2", game_date="2026-03-02")]
    assert reasons_of(rows) == {1: "game_date 2026-03-02 does not match the batch's 2026-03-01"}


def test_dates_a_reader_typed_as_timestamps_still_compare_as_days() -> None:
    data = jsonl([good_row("p1"), good_row("p2")])
    table = read_rows(data, "jsonl", source="t")
    assert not pa.types.is_string(table.column("game_date").type)  # pyarrow inferred a time
    assert check_rows(table, interface=MIN, game_date=DAY).good == 2
    other = check_rows(table, interface=MIN, game_date=date(2026, 3, 2))
    assert other.good == 0


def test_a_player_may_have_several_lines_but_not_the_same_line_twice() -> None:
    rows = [
        good_row("p1", line_value=10.5),
        good_row("p2"),
        good_row("p1", line_value=30.5),
        good_row("p1", line_value="10.5"),
        good_row("p1", line_value=10.5, sportsbook="dk"),
        good_row("p1", line_value=10.5, sportsbook="fd"),
        good_row("p1", line_value=10.5, sportsbook="dk"),
    ]
    checked = check(rows)
    assert checked.player_lookup.to_pylist() == ["p1", "p2", "p1", "p1", "p1"]
    assert list(checked.line_value) == [10.5, 20.5, 30.5, 10.5, 10.5]
    assert checked.sportsbook.to_pylist() == [None, None, None, "dk", "fd"]
    assert reasons_of(rows) == {3: REPEATED, 6: REPEATED}


def test_a_blank_sportsbook_is_no_sportsbook() -> None:
    rows = [good_row("p1", sportsbook=None), good_row("p1", sportsbook="  ")]
    assert reasons_of(rows) == {1: REPEATED}
    assert check(rows).sportsbook.to_pylist() == [None]


def test_every_reason_of_a_row_is_given() -> None:
    rows = [
        good_row("p1", line_value="x", f_form=None, f_pace="fast", f_minutes=None),
        good_row("p2", f_minutes=...),
    ]
    assert reasons_of(rows)[0] == "line_value is not a number; feature f_pace is not a number"
    forbidden = reasons_of(rows, FORBIDDEN)
    assert set(forbidden) == {0, 1}
    parts = forbidden[0].split("; ")
    assert len(parts) == 4
    assert parts[0] == "line_value is not a number"
    assert parts[1].startswith("feature f_form is missing")
    assert parts[2].startswith("feature f_minutes is missing")
    assert parts[3] == "feature f_pace is not a number"


def test_a_key_some_rows_leave_out_is_missing_there() -> None:
    rows = [good_row("p1", f_pace=...), good_row("p2")]
    checked = check(rows)
    assert checked.good == 2
    assert np.isnan(checked.features[0, 2]) and checked.features[1, 2] == good_row("p")["f_pace"]
    assert set(reasons_of(rows, FORBIDDEN)) == {0}


@NAN_MODES
def test_a_column_no_row_carries_rejects_every_row_and_names_its_look_alike(
    model: ModelInterface,
) -> None:
    """A misnamed column (a spreadsheet's capitals) is never predicted as missing values."""
    renamed = [
        {("F_Pace" if k == "f_pace" else k): v for k, v in good_row(p).items()} for p in "ab"
    ]
    reasons = reasons_of(renamed, model)
    assert set(reasons) == {0, 1}
    for reason in reasons.values():
        assert reason == (
            "feature f_pace is not in the input (column names must match the model's "
            "exactly: the input has 'F_Pace')"
        )
    (reason,) = reasons_of([{"line_value": 1.0}], model).values()
    assert reason.startswith("player_lookup is missing; feature f_form is not in the input")
    assert all(f"feature {name} is not in the input" in reason for name in FEATURES)


@NAN_MODES
@pytest.mark.parametrize("missing", [None, "", "  ", float("nan")])
def test_each_form_of_a_missing_number(model: ModelInterface, missing: Any) -> None:
    rows = [good_row("p1"), good_row("p2", f_minutes=missing)]
    checked = check(rows, model)
    if model.forbids_missing:
        assert list(reasons_of(rows, model)) == [1]
        assert reasons_of(rows, model)[1].startswith("feature f_minutes is missing")
    else:
        assert checked.good == 2 and checked.rejects == []
        assert isinstance(checked.features, np.ndarray)
        assert checked.features[0, 1] == 33.0 and math.isnan(checked.features[1, 1])


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("neighbour", [1.5, 2, "3.5", None])
def test_a_boolean_feature_is_never_a_number_whatever_its_neighbours(
    value: bool, neighbour: Any
) -> None:
    for rows in (
        [good_row("p1", f_form=neighbour), good_row("p2", f_form=value)],
        [good_row("p2", f_form=value), good_row("p1", f_form=neighbour)],
    ):
        reasons = reasons_of(rows)
        bad = next(i for i, r in enumerate(rows) if r["player_lookup"] == "p2")
        assert reasons == {bad: "feature f_form is not a number"}


def test_an_integer_beyond_int64_is_a_number_not_a_crash() -> None:
    rows = [good_row("p1", f_form=2**70), good_row("p2", f_form=1.5)]
    checked = check(rows)
    assert checked.good == 2
    assert checked.features[0, 0] == float(2**70)


def test_nested_values_are_not_numbers() -> None:
    rows = [good_row("p1", f_form={"avg": 1}), good_row("p2", f_form=[1, 2])]
    assert set(reasons_of(rows).values()) == {"feature f_form is not a number"}


@pytest.mark.parametrize("model", [MIN, LABELLED], ids=["numeric", "labelled"])
def test_no_rows_at_all(model: ModelInterface) -> None:
    checked = check([], model)
    assert (checked.requested, checked.good, checked.rejects) == (0, 0, [])
    assert_partition(checked, 0, model)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("rows.jsonl", "jsonl"),
        ("rows.ndjson", "jsonl"),
        ("rows.json", "jsonl"),
        ("ROWS.CSV", "csv"),
        ("a.b/rows.parquet", "parquet"),
    ],
)
def test_format_of(name: str, fmt: str) -> None:
    assert format_of(name) == fmt


@pytest.mark.parametrize("name", ["rows.txt", "rows", "rows.xlsx"])
def test_an_unknown_format_is_named(name: str) -> None:
    with pytest.raises(PermanentError) as caught:
        format_of(name)
    assert caught.value.code == "bad_input_format" and name in caught.value.message


@pytest.mark.parametrize(
    ("model", "rows"),
    [
        # Parquet takes its columns from the first row: each row names a sportsbook.
        (MIN, [good_row("p1", sportsbook=None), good_row("p2", f_pace=101.25, sportsbook="dk")]),
        (
            LABELLED,
            [
                labelled_row("p1", c_team="07", sportsbook=""),
                labelled_row("p2", f_pace=None, sportsbook="fd"),
            ],
        ),
    ],
    ids=["numeric", "labelled"],
)
def test_the_three_formats_read_the_same_rows(
    model: ModelInterface, rows: list[dict[str, Any]]
) -> None:
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    names = [name for name, _ in LABELLED_FEATURES] if model is LABELLED else FEATURES
    verdicts = [
        check_rows(
            read_rows(data, fmt, source=fmt, text_columns=text_columns(model)),
            interface=model,
            game_date=DAY,
        )
        for data, fmt in (
            (jsonl(rows), "jsonl"),
            (csv_text(rows, names), "csv"),
            (parquet.getvalue(), "parquet"),
        )
    ]
    for other in verdicts[1:]:
        same_verdicts(other, verdicts[0], reasons=True)
    assert verdicts[0].good == 2
    assert verdicts[0].sportsbook.to_pylist() == [None, rows[1]["sportsbook"]]


@pytest.mark.parametrize(
    ("data", "fmt", "needle"),
    [
        (b"not parquet", "parquet", "cannot read parquet rows"),
        (b'{"player_lookup": "p1"}\n{oops\n', "jsonl", "line 2 is not JSON"),
    ],
)
def test_unreadable_input_names_the_source(data: bytes, fmt: str, needle: str) -> None:
    with pytest.raises(PermanentError) as caught:
        read_rows(data, fmt, source="gs://b/batches/x")
    assert caught.value.code == "unreadable_input"
    assert needle in caught.value.message and "gs://b/batches/x" in caught.value.message


def test_a_csv_zero_is_a_number_even_next_to_false() -> None:
    rows = [good_row("p1", f_form=False), good_row("p2", f_form=0), good_row("p3", f_form=1)]
    table = read_rows(csv_text(rows), "csv", source="t.csv")
    checked = check_rows(table, interface=MIN, game_date=DAY)
    assert checked.player_lookup.to_pylist() == ["p2", "p3"]
    assert list(checked.features[:, 0]) == [0.0, 1.0]
    assert [r.reason for r in checked.rejects] == ["feature f_form is not a number"]


def test_a_player_name_longer_than_the_limit_rejects_only_its_row() -> None:
    rows = [good_row("p" * 1_000_000), good_row("p02")]
    checked = check(rows, MIN)
    assert checked.player_lookup.to_pylist() == ["p02"]
    (reject,) = checked.rejects
    assert reject.reason == "player_lookup is longer than 256 characters"
    assert reject.player_lookup == "p" * 256  # kept shortened; the raw row keeps it whole


def test_a_negative_line_is_rejected() -> None:
    rows = [good_row("p1", line_value=-3), good_row("p2", line_value=0), good_row("p3")]
    assert reasons_of(rows) == {0: "line_value is negative: a line is 0 or more"}


def test_spaces_around_a_csv_header_cell_are_not_part_of_its_name() -> None:
    data = b" player_lookup,line_value ,f_form , f_minutes,f_pace\r\np1,20.5,22.1,33,99.5\r\n"
    table = read_rows(data, "csv", source="export.csv")
    assert table.column_names == ["player_lookup", "line_value", "f_form", "f_minutes", "f_pace"]
    checked = check_rows(table, interface=MIN, game_date=DAY)
    assert checked.rejects == []
    assert checked.features.tolist() == [[22.1, 33.0, 99.5]]


def test_american_odds_are_kept_and_anything_else_rejects_its_row() -> None:
    rows = [
        good_row("p1", odds=-110),
        good_row("p2", odds=150),
        good_row("p3"),
        good_row("p4", odds=50),
        good_row("p5", odds="evens"),
        good_row("p6", odds=-100),
    ]
    checked = check(rows, MIN)
    assert checked.player_lookup.to_pylist() == ["p1", "p2", "p3", "p6"]
    assert [None if math.isnan(o) else o for o in checked.odds] == [-110.0, 150.0, None, -100.0]
    assert reasons_of(rows) == {
        3: "odds are not American odds: -100 or below, or +100 or above",
        4: "odds is not a number",
    }
