"""Results are graded against only when plausible; every refused row is kept, once, in
``player_game_results_rejects``. Real files read as the CLI reads them, on DuckDB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa
import pytest

from attribution.batches.rows import read_rows
from attribution.bootstrap import App
from attribution.cli.main import main
from attribution.verification.game_results import MAX_PLAUSIBLE_POINTS, load_results, reject_id

DAY = "2026-03-01"


def strict(text: str) -> Any:
    def refuse(constant: str) -> NoReturn:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def results_of(app: App) -> dict[str, float]:
    rows = app.warehouse.query("SELECT player_lookup, actual_points FROM player_game_results")
    return {r["player_lookup"]: r["actual_points"] for r in rows}


def rejects_of(app: App) -> list[dict[str, Any]]:
    return app.warehouse.query("SELECT * FROM player_game_results_rejects ORDER BY row_number")


# The finding's 1e400 arrives as infinity from every JSON reader; so does a huge CSV cell.
JSONL = (
    "\n".join(
        [
            f'{{"game_date": "{DAY}", "player_lookup": "p_ok", "actual_points": 23}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_inf", "actual_points": 1e400}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_neginf", "actual_points": -1e400}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_nan", "actual_points": NaN}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_neg", "actual_points": -1}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_huge", "actual_points": 250}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_max", "actual_points": 200}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_zero", "actual_points": 0}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_text", "actual_points": "lots"}}',
            f'{{"game_date": "{DAY}", "player_lookup": "p_none", "actual_points": null}}',
            '{"game_date": "someday", "player_lookup": " ", "actual_points": 1e400}',
        ]
    )
    + "\n"
).encode()

EXPECTED = {
    1: "actual_points must be a finite number, not Infinity",
    2: "actual_points must be a finite number, not -Infinity",
    3: "actual_points is missing",  # NaN is how spreadsheets spell a missing number
    4: "actual_points must be at least 0, not -1",
    5: "actual_points 250 is implausible: more than 200 points in one game",
    8: "actual_points must be a number, not 'lots'",
    9: "actual_points is missing",
    10: "game_date 'someday' is not a date; player_lookup is missing; "
    "actual_points must be a finite number, not Infinity",
}


def test_non_finite_and_implausible_points_are_refused_and_kept(embedded_app: App) -> None:
    table = read_rows(JSONL, "jsonl", source="results.jsonl")

    load = load_results(embedded_app.warehouse, table, source="results.jsonl")

    assert MAX_PLAUSIBLE_POINTS == 200
    assert dict(load.rejected) == EXPECTED
    assert (load.received, load.loaded, load.rejects_recorded) == (11, 3, len(EXPECTED))
    assert results_of(embedded_app) == {"p_ok": 23.0, "p_max": 200.0, "p_zero": 0.0}

    kept = rejects_of(embedded_app)
    assert {r["row_number"]: r["reason"] for r in kept} == EXPECTED
    assert {r["source"] for r in kept} == {"results.jsonl"}
    by_row = {r["row_number"]: r for r in kept}
    assert by_row[1]["player_lookup"] == "p_inf"
    assert str(by_row[1]["game_date"]) == DAY
    assert (by_row[10]["player_lookup"], by_row[10]["game_date"]) == (None, None)
    for row in kept:
        raw = strict(row["raw_row"])  # valid JSON, non-finite numbers spelled as text
        assert row["reject_id"] == reject_id("results.jsonl", row["row_number"], row["raw_row"])
        assert raw["game_date"] in (DAY, "someday")
    assert strict(by_row[1]["raw_row"])["actual_points"] == "Infinity"
    assert strict(by_row[3]["raw_row"])["actual_points"] is None  # the reader's missing
    assert strict(by_row[8]["raw_row"])["actual_points"] == "lots"


def test_loading_the_same_rows_again_keeps_each_reject_once(embedded_app: App) -> None:
    table = read_rows(JSONL, "jsonl", source="r.jsonl")
    first = load_results(embedded_app.warehouse, table, source="r.jsonl")
    again = load_results(embedded_app.warehouse, table, source="r.jsonl")

    assert (first.rejects_recorded, again.rejects_recorded) == (len(EXPECTED), 0)
    assert again.rejected == first.rejected  # still reported
    assert (again.loaded, again.already_present) == (0, 3)
    assert len(rejects_of(embedded_app)) == len(EXPECTED)

    # another source with the same rows is another record of them
    other = load_results(embedded_app.warehouse, table, source="elsewhere.jsonl")
    assert other.rejects_recorded == len(EXPECTED)


def test_a_csv_with_infinite_and_implausible_cells(embedded_app: App) -> None:
    data = (
        "game_date,player_lookup,actual_points\n"
        f"{DAY},p_a,12\n"
        f"{DAY},p_b,inf\n"
        f"{DAY},p_c,1e400\n"
        f"{DAY},p_d,200.5\n"
        f"{DAY},p_e,\n"
    ).encode()
    table = read_rows(data, "csv", source="r.csv")

    load = load_results(embedded_app.warehouse, table, source="r.csv")

    assert dict(load.rejected) == {
        1: "actual_points must be a finite number, not Infinity",
        2: "actual_points must be a finite number, not Infinity",
        3: "actual_points 200.5 is implausible: more than 200 points in one game",
        4: "actual_points is missing",
    }
    assert results_of(embedded_app) == {"p_a": 12.0}
    assert len(rejects_of(embedded_app)) == 4


def test_a_parquet_file_with_nan_and_infinity(embedded_app: App, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "results.parquet"
    pq.write_table(
        pa.table(
            {
                "game_date": [DAY] * 3,
                "player_lookup": ["p_a", "p_nan", "p_inf"],
                "actual_points": pa.array([7.5, float("nan"), float("inf")], pa.float64()),
            }
        ),
        path,
    )
    table = read_rows(path.read_bytes(), "parquet", source=str(path))

    load = load_results(embedded_app.warehouse, table, source=str(path))

    assert dict(load.rejected) == {
        1: "actual_points must be a finite number, not NaN",
        2: "actual_points must be a finite number, not Infinity",
    }
    kept = {r["row_number"]: strict(r["raw_row"]) for r in rejects_of(embedded_app)}
    assert kept == {
        1: {"game_date": DAY, "player_lookup": "p_nan", "actual_points": "NaN"},
        2: {"game_date": DAY, "player_lookup": "p_inf", "actual_points": "Infinity"},
    }


def test_the_results_command_reports_and_keeps_refused_rows(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.jsonl"
    path.write_bytes(JSONL)

    assert main(["results", "--input", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "results: 3 loaded, 0 already present, 8 rejected"
    assert "  row 1: actual_points must be a finite number, not Infinity" in out
    assert "kept in player_game_results_rejects" in out

    assert main(["--json", "results", "--input", str(path)]) == 1
    document = strict(capsys.readouterr().out)
    assert (document["loaded"], document["already_present"], document["rejects_recorded"]) == (
        0,
        3,
        0,
    )
    assert {row: reason for row, reason in document["rejected"]} == EXPECTED


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("game_date,player,points", "player_lookup and no actual_points"),
        ("game_date,player_lookup,points", "actual_points"),
    ],
)
def test_a_file_without_the_result_columns_is_refused_naming_them(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, missing: str
) -> None:
    path = tmp_path / "results.csv"
    path.write_text(f"{header}\n{DAY},p_ok,23\n")

    assert main(["results", "--input", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: results need the columns game_date, player_lookup, actual_points; these rows "
        f"have no {missing} column (bad_results)\n"
    )


def test_rows_written_by_another_tool_are_read_back_finite_in_json(
    embedded_app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    """The warehouse may already hold an infinity (written before these checks, or by another
    tool): ``--json`` output stays JSON and says what the number was."""
    from datetime import UTC, date, datetime

    table = pa.table(
        {
            "game_date": pa.array([date(2026, 3, 1)], pa.date32()),
            "player_lookup": ["p_inf"],
            "actual_points": pa.array([float("inf")], pa.float64()),
            "loaded_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
        }
    )
    embedded_app.warehouse.insert_new_rows(
        "player_game_results", table, key=["game_date", "player_lookup"]
    )
    from attribution.cli.output import print_json

    print_json({"rows": results_of(embedded_app)})
    document = strict(capsys.readouterr().out)
    assert document == {"rows": {"p_inf": None, "non_finite": {"p_inf": "Infinity"}}}


def test_a_player_lookup_longer_than_a_key_is_refused(embedded_app: App) -> None:
    long_name = "p" * 257
    table = pa.Table.from_pylist(
        [
            {"game_date": DAY, "player_lookup": "p" * 256, "actual_points": 10.0},
            {"game_date": DAY, "player_lookup": long_name, "actual_points": 10.0},
        ]
    )

    load = load_results(embedded_app.warehouse, table, source="long.jsonl")

    assert load.rejected == [(1, "player_lookup is longer than 256 characters")]
    assert list(results_of(embedded_app)) == ["p" * 256]
    (kept,) = rejects_of(embedded_app)
    assert strict(kept["raw_row"])["player_lookup"] == long_name  # the raw row, whole
