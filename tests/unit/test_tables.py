"""Table definitions come from schemas/bigquery/*.json; DDL and validation follow them."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from attribution.package_folders import schemas_dir
from attribution.warehouse.tables import (
    RowError,
    table_spec,
    table_specs,
    validate_row,
)

SCHEMA_DIR = schemas_dir() / "bigquery"
SCHEMA_FILES = sorted(p for p in SCHEMA_DIR.glob("*.json") if p.name != "tables.json")
DUCKDB_TYPE = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP WITH TIME ZONE",
}


def test_every_schema_file_is_a_table_and_every_table_has_options() -> None:
    options = json.loads((SCHEMA_DIR / "tables.json").read_text())
    assert set(table_specs()) == {p.stem for p in SCHEMA_FILES}
    assert set(options) == set(table_specs())
    for name, spec in table_specs().items():
        assert spec.key, f"{name} has no key in tables.json"
        for column in (*spec.key, *spec.clustering):
            spec.column(column)
        if spec.partition_field:
            assert spec.column(spec.partition_field).type in ("DATE", "TIMESTAMP")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_duckdb_ddl_has_every_column_of_the_schema_file(path: Path) -> None:
    fields = json.loads(path.read_text())
    spec = table_spec(path.stem)
    with duckdb.connect(":memory:") as db:
        db.execute(spec.duckdb_ddl())
        rows = db.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [path.stem],
        ).fetchall()
    assert [r[0] for r in rows] == [f["name"] for f in fields]
    for (name, data_type, nullable), field in zip(rows, fields, strict=True):
        mode = field.get("mode", "NULLABLE")
        expected = DUCKDB_TYPE[field["type"]] + ("[]" if mode == "REPEATED" else "")
        assert data_type == expected, name
        assert (nullable == "NO") == (mode == "REQUIRED"), name


def test_ddl_for_chosen_columns_only() -> None:
    spec = table_spec("player_prop_predictions")
    ddl = spec.duckdb_ddl([spec.column("prediction_id"), spec.column("game_date")])
    assert '"prediction_id" VARCHAR NOT NULL' in ddl
    assert '"game_date" DATE NOT NULL' in ddl
    assert "model_file_name" not in ddl


def good_prediction(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "prediction_id": "p1",
        "batch_id": "b1",
        "system_id": "catboost_v9",
        "game_date": date(2026, 2, 2),
        "player_lookup": "lebron_james",
        "line_value": 24.5,
        "predicted_points": 26.1,
        "created_at": datetime(2026, 2, 2, 18, 0, tzinfo=UTC),
        "model_file_name": "catboost_v9_2026_02.cbm",
        "model_expected_mae": 4,
    }
    return row | changes


def test_a_good_row_is_coerced_to_the_tables_types() -> None:
    spec = table_spec("player_prop_predictions")
    clean = validate_row(spec, good_prediction(game_date="2026-02-02", created_at="2026-02-02"))
    assert clean["game_date"] == date(2026, 2, 2)
    assert clean["created_at"] == datetime(2026, 2, 2, tzinfo=UTC)
    assert clean["model_expected_mae"] == 4.0
    assert isinstance(clean["model_expected_mae"], float)
    assert set(clean) == set(spec.column_names)
    assert clean["model_trained_at"] is None


def test_every_missing_required_column_is_named_at_once() -> None:
    spec = table_spec("prediction_execution_log")
    with pytest.raises(RowError) as caught:
        validate_row(spec, {"system_id": "catboost_v9"})
    message = str(caught.value)
    required = [c.name for c in spec.columns if c.required]
    assert required == ["batch_id", "status", "logged_at"]
    for name in required:
        assert f"{name}: required by prediction_execution_log but missing" in message
    assert "system_id" not in message


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"predicted_points": "26.1"}, "predicted_points: expected a number"),
        ({"predicted_points": True}, "predicted_points: expected a number"),
        ({"predicted_points": math.nan}, "predicted_points: nan is not a finite number"),
        ({"line_value": math.inf}, "line_value: inf is not a finite number"),
        ({"system_id": 9}, "system_id: expected text, got int"),
        ({"game_date": datetime(2026, 2, 2, tzinfo=UTC)}, "game_date: expected a date"),
        ({"game_date": "02/02/2026"}, "game_date: '02/02/2026' is not a date"),
        ({"created_at": "tonight"}, "created_at: 'tonight' is not a timestamp"),
        ({"created_at": 1738519200}, "created_at: expected a timestamp"),
        ({"player_lookup": None}, "player_lookup: required"),
        ({"shoe_size": 12}, "shoe_size: not a column of player_prop_predictions"),
    ],
)
def test_bad_values_are_named(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(RowError, match=re.escape(problem)):
        validate_row(table_spec("player_prop_predictions"), good_prediction(**change))


def test_whole_numbers_and_booleans_are_kept_apart() -> None:
    spec = table_spec("prediction_execution_log")
    base = {"batch_id": "b", "status": "ok", "logged_at": datetime(2026, 2, 2, tzinfo=UTC)}
    assert validate_row(spec, base | {"rows_written": 3})["rows_written"] == 3
    for bad in (True, 3.5, "3"):
        with pytest.raises(RowError, match="rows_written: expected a whole number"):
            validate_row(spec, base | {"rows_written": bad})


def test_repeated_columns_take_lists_of_their_type() -> None:
    spec = table_spec("model_cards")
    row = {
        "card_id": "c" * 64,
        "schema_version": 1,
        "model_file_name": "m.cbm",
        "model_uri": "gs://models/models/m.cbm",
        "model_sha256": "a" * 64,
        "model_md5": "b" * 32,
        "size_bytes": 10,
        "status": "complete",
        "card_json": "{}",
        "registered_at": datetime(2026, 2, 2, tzinfo=UTC),
    }
    assert validate_row(spec, row)["feature_names"] == []
    assert validate_row(spec, row | {"feature_names": ("a", "b")})["feature_names"] == ["a", "b"]
    with pytest.raises(RowError, match="feature_names: expected a list"):
        validate_row(spec, row | {"feature_names": "a,b"})
    with pytest.raises(RowError, match="feature_names: expected text"):
        validate_row(spec, row | {"feature_names": ["a", 2]})
