"""``migrate`` on DuckDB: fresh, re-run, and the seed's attribution columns on old tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.warehouse.migrations import SchemaDriftError, migrate, migration_files, view_files
from attribution.warehouse.tables import table_spec, table_specs

SEED_COLUMNS = [
    "model_file_name",
    "model_training_start_date",
    "model_training_end_date",
    "model_expected_mae",
    "model_expected_hit_rate",
    "model_trained_at",
]
SEED_MIGRATION = "0001_seed_model_attribution"
CREATED = datetime(2026, 1, 30, 18, 0, tzinfo=UTC)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    instance = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    yield instance
    instance.close()


def columns_added_by_migrations() -> dict[str, list[str]]:
    """Table -> the columns some migration adds to it, read from the migration files."""
    added: dict[str, list[str]] = {}
    for path in migration_files():
        for statement in path.read_text().split(";"):
            table = re.search(r"ALTER\s+TABLE\s+(\w+)", statement, re.IGNORECASE)
            if table:
                added.setdefault(table.group(1), []).extend(
                    re.findall(r"ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+(\w+)", statement, re.I)
                )
    return added


def applied(warehouse: DuckDBWarehouse) -> list[str]:
    rows = warehouse.query("SELECT migration_id FROM schema_migrations ORDER BY migration_id")
    return [r["migration_id"] for r in rows]


def test_the_seed_migration_adds_the_six_columns_to_both_tables() -> None:
    added = columns_added_by_migrations()
    for table in ("player_prop_predictions", "prediction_execution_log"):
        assert added[table][:6] == SEED_COLUMNS
    assert SEED_MIGRATION in [p.stem for p in migration_files()]
    text = (migration_files()[0]).read_text()
    assert text.count("ADD COLUMN IF NOT EXISTS") == 12


def test_a_fresh_migrate_creates_every_table_and_view(warehouse: DuckDBWarehouse) -> None:
    report = migrate(warehouse)
    assert sorted(report.created_tables) == sorted(table_specs())
    assert report.applied == [p.stem for p in migration_files()]
    assert report.views == [p.stem for p in view_files()] == ["prediction_accuracy"]
    for name, spec in table_specs().items():
        assert warehouse.table_columns(name) == spec.column_names, name
    assert applied(warehouse) == report.applied
    assert warehouse.query("SELECT COUNT(*) AS n FROM prediction_accuracy") == [{"n": 0}]


def test_running_migrate_again_applies_nothing(warehouse: DuckDBWarehouse) -> None:
    first = migrate(warehouse)
    second = migrate(warehouse)
    assert second.created_tables == []
    assert second.applied == []
    assert second.views == first.views
    assert applied(warehouse) == first.applied


def test_a_migration_applied_but_not_recorded_is_reapplied_safely(
    warehouse: DuckDBWarehouse,
) -> None:
    migrate(warehouse)
    warehouse.execute(
        "DELETE FROM schema_migrations WHERE migration_id = @id", {"id": SEED_MIGRATION}
    )
    report = migrate(warehouse)
    assert report.applied == [SEED_MIGRATION]
    assert applied(warehouse).count(SEED_MIGRATION) == 1


def create_pre_migration_tables(warehouse: DuckDBWarehouse) -> dict[str, list[str]]:
    """The two seed tables as they were before any migration: no attribution columns."""
    added = columns_added_by_migrations()
    before: dict[str, list[str]] = {}
    for name in ("player_prop_predictions", "prediction_execution_log"):
        spec = table_spec(name)
        before[name] = [c for c in spec.column_names if c not in added[name]]
        warehouse.create_table_from(spec, columns=before[name])
    return before


def test_the_seed_migration_on_tables_that_already_hold_rows(warehouse: DuckDBWarehouse) -> None:
    before = create_pre_migration_tables(warehouse)
    for name, columns in before.items():
        assert warehouse.table_columns(name) == columns
        assert not set(SEED_COLUMNS) & set(columns)
    for n, player in enumerate(["lebron_james", "stephen_curry", "nikola_jokic"]):
        warehouse.execute(
            "INSERT INTO player_prop_predictions "
            "(prediction_id, batch_id, system_id, game_date, player_lookup, line_value, "
            "predicted_points, recommendation, created_at) "
            "VALUES (@id, @batch, 'catboost_v8', @day, @player, @line, @points, 'OVER', @at)",
            {
                "id": f"p{n}",
                "batch": "b-2026-01-30",
                "day": date(2026, 1, 30),
                "player": player,
                "line": 24.5 + n,
                "points": 27.0 + n,
                "at": CREATED,
            },
        )
    warehouse.execute(
        "INSERT INTO prediction_execution_log (batch_id, system_id, status, rows_written, "
        "logged_at) VALUES ('b-2026-01-30', 'catboost_v8', 'success', 3, @at)",
        {"at": CREATED},
    )

    report = migrate(warehouse)

    assert "player_prop_predictions" not in report.created_tables
    assert "prediction_execution_log" not in report.created_tables
    assert report.applied == [p.stem for p in migration_files()]
    assert SEED_MIGRATION in applied(warehouse)
    assert applied(warehouse) == report.applied
    for name in before:
        columns = warehouse.table_columns(name) or []
        assert set(SEED_COLUMNS) <= set(columns)
        assert set(columns) == set(table_spec(name).column_names)
    old = warehouse.query("SELECT * FROM player_prop_predictions ORDER BY prediction_id")
    assert [(r["prediction_id"], r["player_lookup"], r["predicted_points"]) for r in old] == [
        ("p0", "lebron_james", 27.0),
        ("p1", "stephen_curry", 28.0),
        ("p2", "nikola_jokic", 29.0),
    ]
    assert all(r["created_at"] == CREATED for r in old)
    assert all(r[c] is None for r in old for c in [*SEED_COLUMNS, "model_sha256"])
    log = warehouse.query("SELECT * FROM prediction_execution_log")
    assert len(log) == 1
    assert log[0]["rows_written"] == 3
    assert all(log[0][c] is None for c in SEED_COLUMNS)

    # New rows carry attribution; the old ones are still graded by the view.
    warehouse.insert_rows(
        "player_prop_predictions",
        [
            {
                "prediction_id": "p9",
                "batch_id": "b-2026-02-02",
                "system_id": "catboost_v9",
                "game_date": date(2026, 2, 2),
                "player_lookup": "lebron_james",
                "predicted_points": 25.0,
                "created_at": CREATED,
                "model_file_name": "catboost_v9_2026_02.cbm",
                "model_training_start_date": date(2025, 11, 2),
                "model_training_end_date": date(2026, 1, 31),
                "model_expected_mae": 4.12,
                "model_expected_hit_rate": 74.6,
                "model_trained_at": CREATED,
            }
        ],
    )
    by_model = warehouse.query(
        "SELECT model_file_name, COUNT(*) AS n FROM prediction_accuracy "
        "GROUP BY model_file_name ORDER BY n DESC"
    )
    assert by_model == [
        {"model_file_name": None, "n": 3},
        {"model_file_name": "catboost_v9_2026_02.cbm", "n": 1},
    ]
    assert migrate(warehouse).applied == []


def test_a_column_no_migration_adds_is_reported_as_drift(warehouse: DuckDBWarehouse) -> None:
    spec = table_spec("model_cards")
    warehouse.create_table_from(spec, columns=[c for c in spec.column_names if c != "card_uri"])
    with pytest.raises(SchemaDriftError, match="model_cards: card_uri"):
        migrate(warehouse)


def test_a_column_made_nullable_in_its_schema_file_is_relaxed_on_old_tables(
    warehouse: DuckDBWarehouse,
) -> None:
    """predicted_points was REQUIRED before over/under classifiers; a table made then still
    refuses NULL until migrate relaxes it (and a fresh table is left as it is)."""
    spec = table_spec("player_prop_predictions")
    added = columns_added_by_migrations()["player_prop_predictions"]
    old_columns = [
        replace(c, mode="REQUIRED") if c.name == "predicted_points" else c
        for c in spec.columns
        if c.name not in added
    ]
    warehouse.create_table_from(replace(spec, columns=tuple(old_columns)))
    assert "predicted_points" in warehouse.required_columns("player_prop_predictions")
    row = {
        "prediction_id": "ou-1",
        "batch_id": "b-ou",
        "system_id": "catboost_ou",
        "game_date": date(2026, 2, 2),
        "player_lookup": "lebron_james",
        "created_at": CREATED,
    }
    with pytest.raises(duckdb.ConstraintException):
        warehouse.execute(
            "INSERT INTO player_prop_predictions (prediction_id, batch_id, system_id, "
            "game_date, player_lookup, predicted_points, created_at) VALUES (@prediction_id, "
            "@batch_id, @system_id, @game_date, @player_lookup, NULL, @created_at)",
            row,
        )

    report = migrate(warehouse)

    assert report.relaxed == ["player_prop_predictions.predicted_points"]
    required = warehouse.required_columns("player_prop_predictions")
    assert required == {c.name for c in spec.columns if c.required}
    warehouse.insert_rows("player_prop_predictions", [row | {"over_probability": 0.61}])
    stored = warehouse.query("SELECT predicted_points, over_probability FROM prediction_accuracy")
    assert stored == [{"predicted_points": None, "over_probability": 0.61}]
    assert migrate(warehouse).relaxed == []


def test_a_fresh_migrate_relaxes_nothing(warehouse: DuckDBWarehouse) -> None:
    assert migrate(warehouse).relaxed == []
