"""Reading a batch's rows (JSONL, CSV, Parquet) and checking them column by column.

Property tests compare ``check_rows`` with a row-at-a-time reference: every input row ends
up good or rejected exactly once, good rows carry exactly the numbers sent, and a feature
that is not a number always rejects its row with a reason naming the feature. Reading the
same rows back from JSONL or CSV gives the same verdicts as sending them inline.
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
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.batch_rows import (
    CheckedRows,
    check_rows,
    format_of,
    parse_jsonl,
    read_rows,
    rows_to_table,
)
from attribution.errors import PermanentError

DAY = date(2026, 3, 1)
FEATURES = ("f_form", "f_minutes", "f_pace")
PLAYERS = ("p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08")

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(rows: Sequence[Mapping[str, Any]]) -> CheckedRows:
    return check_rows(rows_to_table(rows), feature_names=FEATURES, game_date=DAY)


# --- the row-at-a-time reference -------------------------------------------------------


def kind(value: Any) -> str:
    """number, missing, not_number or infinite: what one cell is, judged on its own."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "not_number"
    if isinstance(value, str):
        if not value.strip():
            return "missing"
        try:
            number = float(value)
        except ValueError:
            return "not_number"
        return (
            "not_number" if math.isnan(number) else "infinite" if math.isinf(number) else "number"
        )
    number = float(value)
    return "missing" if math.isnan(number) else "infinite" if math.isinf(number) else "number"


def expected_reasons(row: Mapping[str, Any], seen: set[str]) -> list[str]:
    reasons: list[str] = []
    player = row.get("player_lookup")
    if player is None or not str(player).strip():
        reasons.append("player_lookup is missing")
    line = kind(row.get("line_value"))
    if line != "number":
        reasons.append(f"line_value {line}")
    game_date = row.get("game_date")
    if game_date is not None and game_date != DAY.isoformat():
        reasons.append("game_date")
    for name in FEATURES:
        verdict = kind(row.get(name))
        if verdict != "number":
            reasons.append(f"feature {name} {verdict}")
    if player is not None:
        if player in seen:
            reasons.append("duplicate")
        seen.add(player)
    return reasons


# --- strategies --------------------------------------------------------------------------

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(finite_floats, st.integers(-(2**70), 2**70), st.integers(-50, 50))
non_numeric_text = st.text(string.ascii_letters + "-_#", min_size=1, max_size=8).filter(
    lambda s: kind(s) == "not_number"
)
non_numbers = st.one_of(st.booleans(), non_numeric_text)
numeric_text = numbers.map(lambda n: repr(float(n)) if isinstance(n, float) else str(n))
cells = st.one_of(
    numbers,
    numbers,
    non_numbers,
    numeric_text,
    st.none(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), "", "  ", "nan", "Infinity"]),
)
players = st.one_of(st.sampled_from(PLAYERS), st.none(), st.sampled_from(["", "   "]))
game_dates = st.sampled_from([None, DAY.isoformat(), "2026-03-02", "yesterday"])


@st.composite
def rows_strategy(draw: st.DrawFn, cell: st.SearchStrategy[Any] = cells) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 12))
    with_date = draw(st.booleans())
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {"player_lookup": draw(players), "line_value": draw(cell)}
        if with_date:
            row["game_date"] = draw(game_dates)
        for name in FEATURES:
            if draw(st.integers(0, 9)):  # now and then a row leaves a feature out
                row[name] = draw(cell)
        rows.append(row)
    return rows


# --- properties ----------------------------------------------------------------------------


def assert_partition(checked: CheckedRows, n: int) -> None:
    good = [int(i) for i in checked.row_numbers]
    rejected = [r.row_number for r in checked.rejects]
    assert checked.requested == n
    assert len(rejected) == len(set(rejected))
    assert sorted(good + rejected) == list(range(n))
    assert checked.features.shape == (len(good), len(FEATURES))
    assert len(checked.player_lookup) == len(checked.line_value) == len(good)


@PROPERTY
@given(rows_strategy())
def test_every_row_is_good_or_rejected_exactly_once(rows: list[dict[str, Any]]) -> None:
    checked = check(rows)
    assert_partition(checked, len(rows))

    seen: set[str] = set()
    expected = [expected_reasons(row, seen) for row in rows]
    assert [int(i) for i in checked.row_numbers] == [i for i, r in enumerate(expected) if not r]
    reasons = {r.row_number: r.reason for r in checked.rejects}
    for index, row in enumerate(rows):
        for name in FEATURES:
            verdict = kind(row.get(name))
            if verdict == "not_number":
                assert f"feature {name} is not a number" in reasons[index]
            elif verdict == "missing":
                assert f"feature {name} is missing" in reasons[index]
            elif verdict == "infinite":
                assert f"feature {name} is not finite" in reasons[index]
        if expected[index] and "duplicate" in expected[index]:
            assert "player_lookup appears more than once in the batch" in reasons[index]
        if index in reasons:
            assert checked.rejects[sorted(reasons).index(index)].raw_row.keys() >= row.keys()


@PROPERTY
@given(rows_strategy())
def test_good_rows_carry_exactly_the_numbers_sent(rows: list[dict[str, Any]]) -> None:
    checked = check(rows)
    for position, index in enumerate(checked.row_numbers):
        row = rows[int(index)]
        assert checked.player_lookup[position].as_py() == row["player_lookup"]
        assert checked.line_value[position] == float(row["line_value"])
        assert list(checked.features[position]) == [float(row[name]) for name in FEATURES]


@PROPERTY
@given(rows_strategy(), st.data())
def test_a_feature_that_is_not_a_number_always_rejects_its_row(
    rows: list[dict[str, Any]], data: st.DataObject
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

    checked = check(rows)
    assert where not in {int(i) for i in checked.row_numbers}
    (reject,) = [r for r in checked.rejects if r.row_number == where]
    assert f"feature {feature} is not a number" in reject.reason
    assert reject.raw_row[feature] is not None


def same_verdicts(a: CheckedRows, b: CheckedRows, *, reasons: bool) -> None:
    assert a.requested == b.requested
    assert list(a.row_numbers) == list(b.row_numbers)
    assert a.player_lookup.to_pylist() == b.player_lookup.to_pylist()
    assert np.array_equal(a.line_value, b.line_value)
    assert np.array_equal(a.features, b.features)
    assert [r.row_number for r in a.rejects] == [r.row_number for r in b.rejects]
    if reasons:
        assert [r.reason for r in a.rejects] == [r.reason for r in b.rejects]


def jsonl(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(dict(r)) + "\n" for r in rows).encode()


@PROPERTY
@given(rows_strategy())
def test_jsonl_round_trip(rows: list[dict[str, Any]]) -> None:
    data = jsonl(rows)
    assert parse_jsonl(data, source="t.jsonl") == json.loads(json.dumps(rows))
    if not rows:
        return
    from_file = check_rows(
        read_rows(data, "jsonl", source="t.jsonl"), feature_names=FEATURES, game_date=DAY
    )
    same_verdicts(from_file, check(rows), reasons=True)


csv_cells = st.one_of(numbers, numbers, non_numbers, numeric_text, st.none())


def csv_text(rows: Sequence[Mapping[str, Any]]) -> bytes:
    names = ["player_lookup", "line_value", "game_date", *FEATURES]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in row.items()}
        )
    return out.getvalue().encode()


@PROPERTY
@given(rows_strategy(csv_cells))
def test_csv_round_trip(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = read_rows(csv_text(rows), "csv", source="t.csv")
    assert table.num_rows == len(rows)
    from_file = check_rows(table, feature_names=FEATURES, game_date=DAY)
    # CSV cannot tell "" from a missing value nor "nan" from NA, so reasons may read
    # differently; which rows are good, and their numbers, may not.
    as_sent = [{k: (None if v == "" else v) for k, v in row.items()} for row in rows]
    same_verdicts(from_file, check(as_sent), reasons=False)


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


def reasons_of(rows: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    return {r.row_number: r.reason for r in check(rows).rejects}


def test_a_row_for_another_game_date_is_rejected() -> None:
    rows = [good_row("p1"), good_row("p2", game_date="2026-03-02")]
    assert reasons_of(rows) == {1: "game_date 2026-03-02 does not match the batch's 2026-03-01"}


def test_dates_a_reader_typed_as_timestamps_still_compare_as_days() -> None:
    data = jsonl([good_row("p1"), good_row("p2")])
    table = read_rows(data, "jsonl", source="t")
    assert not pa.types.is_string(table.column("game_date").type)  # pyarrow inferred a time
    assert check_rows(table, feature_names=FEATURES, game_date=DAY).good == 2
    other = check_rows(table, feature_names=FEATURES, game_date=date(2026, 3, 2))
    assert other.good == 0


def test_a_duplicate_player_keeps_the_first_row_only() -> None:
    rows = [good_row("p1", line_value=10.5), good_row("p2"), good_row("p1", line_value=30.5)]
    checked = check(rows)
    assert checked.player_lookup.to_pylist() == ["p1", "p2"]
    assert list(checked.line_value) == [10.5, 20.5]
    assert reasons_of(rows) == {2: "player_lookup appears more than once in the batch"}


def test_every_reason_of_a_row_is_given() -> None:
    rows = [good_row("p1", line_value="x", f_form=None, f_pace="fast", f_minutes=...)]
    assert reasons_of(rows) == {
        0: "line_value is not a number; feature f_form is missing; "
        "feature f_minutes is missing; feature f_pace is not a number"
    }


def test_a_missing_column_rejects_every_row() -> None:
    rows = [good_row("p1", f_pace=...), good_row("p2", f_pace=...)]
    assert reasons_of(rows) == {0: "feature f_pace is missing", 1: "feature f_pace is missing"}
    assert reasons_of([{"line_value": 1.0}]) == {
        0: "player_lookup is missing; feature f_form is missing; feature f_minutes is missing; "
        "feature f_pace is missing"
    }


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
        assert "feature f_form is not a number" in reasons[bad]


def test_an_integer_beyond_int64_is_a_number_not_a_crash() -> None:
    rows = [good_row("p1", f_form=2**70), good_row("p2", f_form=1.5)]
    checked = check(rows)
    assert checked.good == 2
    assert checked.features[0, 0] == float(2**70)


def test_nested_values_are_not_numbers() -> None:
    rows = [good_row("p1", f_form={"avg": 1}), good_row("p2", f_form=[1, 2])]
    assert set(reasons_of(rows).values()) == {"feature f_form is not a number"}


def test_no_rows_at_all() -> None:
    checked = check([])
    assert (checked.requested, checked.good, checked.rejects) == (0, 0, [])


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


def test_the_three_formats_read_the_same_rows() -> None:
    rows = [good_row("p1"), good_row("p2", f_pace=101.25)]
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    verdicts = [
        check_rows(read_rows(data, fmt, source=fmt), feature_names=FEATURES, game_date=DAY)
        for data, fmt in (
            (jsonl(rows), "jsonl"),
            (csv_text(rows), "csv"),
            (parquet.getvalue(), "parquet"),
        )
    ]
    for other in verdicts[1:]:
        same_verdicts(other, verdicts[0], reasons=True)
    assert verdicts[0].good == 2


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
    checked = check_rows(table, feature_names=FEATURES, game_date=DAY)
    assert checked.player_lookup.to_pylist() == ["p2", "p3"]
    assert list(checked.features[:, 0]) == [0.0, 1.0]
    assert [r.reason for r in checked.rejects] == ["feature f_form is not a number"]
