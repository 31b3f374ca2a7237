"""The ``Warehouse`` port's contract, run on both adapters: DuckDB (embedded) and BigQuery
(through google-cloud-bigquery against local-bigquery).

Each test states what every warehouse must do, whatever runs it: BigQuery SQL with typed
``@parameters``, scripts whose last statement answers, rows that round-trip through dicts and
Arrow in every column type, inserts that take each key once, and updates that never touch a
row their guard excludes. Expected values are written from the inputs, never read back from
the adapter under test. What only one adapter has (DuckDB's file locks and thread races,
BigQuery's staging tables, partition filters and migrations on a dataset) is tested in
``test_duckdb_warehouse.py`` and ``test_bigquery_warehouse.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from bigquery_server import bigquery_emulator, empty_bq, require_partition_filters
from prediction_rows import PREDICTIONS, arrow, bare_prediction, count, full_prediction

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.adapters.google_cloud.bigquery_warehouse import BigQueryWarehouse
from attribution.ports import Warehouse
from attribution.warehouse.migrations import migrate
from attribution.warehouse.sql_text import sql
from attribution.warehouse.tables import table_spec

__all__ = ["bigquery_emulator", "empty_bq"]  # the server's fixtures, for the BigQuery case

NOW = datetime(2026, 2, 2, 18, 0, tzinfo=UTC)
D1, D2 = date(2026, 3, 2), date(2026, 3, 3)
# A filter on the partition column that keeps every row (BigQuery's tables can require one).
EVERY_DAY = "game_date BETWEEN '1900-01-01' AND '9999-12-31'"
EVERY_PREDICTION = f"SELECT * FROM {PREDICTIONS} WHERE {EVERY_DAY} ORDER BY prediction_id"


def _open(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        duck = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
        yield duck
        duck.close()
        return
    yield request.getfixturevalue("empty_bq")


ADAPTERS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("bigquery", id="bigquery", marks=pytest.mark.emulator),
]


@pytest.fixture(params=ADAPTERS)
def empty_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A warehouse with no tables yet."""
    yield from _open(request, tmp_path)


@pytest.fixture
def warehouse(empty_warehouse: Warehouse) -> Warehouse:
    """A warehouse with every table and view, as ``migrate`` makes it."""
    migrate(empty_warehouse)
    return empty_warehouse


@pytest.fixture
def guarded_warehouse(warehouse: Warehouse) -> Warehouse:
    """The same, where BigQuery's partitioned tables require a partition filter; an update's
    guard then has to bound the partition column for BigQuery to take it."""
    if isinstance(warehouse, BigQueryWarehouse):
        require_partition_filters(warehouse)
    return warehouse


def card_row(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "card_id": f"{n:064x}",
        "schema_version": 1,
        "system_id": "catboost_v9" if n % 2 else "catboost_v8",
        "model_file_name": f"model_{n}.cbm",
        "model_uri": f"gs://models/models/model_{n}.cbm",
        "model_sha256": f"{n:04d}" + "ab" * 30,
        "model_md5": "0" * 32,
        "size_bytes": 1000 + n,
        "status": "complete",
        "card_json": "{}",
        "feature_names": ["points_avg_last_5", "usage_rate"],
        "registered_at": NOW.replace(minute=n % 60),
    }
    return row | changes


def migration_rows(count: int, prefix: str = "m") -> list[dict[str, Any]]:
    return [{"migration_id": f"{prefix}{i:04d}", "applied_at": NOW} for i in range(count)]


def prediction_row(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "prediction_id": f"p{n:03d}",
        "batch_id": "b1",
        "system_id": "catboost_v9",
        "game_date": D1,
        "player_lookup": f"player_{n:03d}",
        "line_value": 20.5,
        "predicted_points": 22.0 + n,
        "edge": 1.5 + n,
        "recommendation": "OVER",
        "created_at": NOW,
    }
    return row | changes


# --- tables ------------------------------------------------------------------------------------


def test_table_columns_and_create_table(empty_warehouse: Warehouse) -> None:
    assert empty_warehouse.table_columns("model_cards") is None
    assert empty_warehouse.required_columns("model_cards") == set()
    empty_warehouse.create_table("model_cards")
    empty_warehouse.create_table("model_cards")  # once there, left as it is
    spec = table_spec("model_cards")
    assert empty_warehouse.table_columns("model_cards") == spec.column_names
    assert empty_warehouse.required_columns("model_cards") == {
        c.name for c in spec.columns if c.required
    }


def test_a_view_has_columns_too(warehouse: Warehouse) -> None:
    assert warehouse.table_columns("no_such_table") is None
    assert warehouse.table_columns("prediction_accuracy")


# --- queries: BigQuery SQL with @parameters ----------------------------------------------------


def test_typed_parameters_and_bigquery_functions(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "SELECT DATE_DIFF(@end, @start, DAY) AS days, SAFE_DIVIDE(@hits, @total) AS rate, "
        "SAFE_DIVIDE(@hits, 0) AS undefined, @when AS at_time, @nothing IS NULL AS is_null, "
        "@flag AS flag, ARRAY_LENGTH(@ids) AS ids, @ids[OFFSET(1)] AS second, "
        "STARTS_WITH(@text, 'ab') AS starts, @day AS day",
        {
            "start": date(2025, 11, 2),
            "end": date(2026, 1, 31),
            "hits": 3,
            "total": 4,
            "when": NOW,
            "nothing": None,
            "flag": True,
            "ids": ["a", "b", "c"],
            "text": "abc",
            "day": D1,
            "unused": "ignored",
        },
    )
    assert rows == [
        {
            "days": 90,
            "rate": 0.75,
            "undefined": None,
            "at_time": NOW,
            "is_null": True,
            "flag": True,
            "ids": 3,
            "second": "b",
            "starts": True,
            "day": D1,
        }
    ]


def test_countif_counts_zero_where_no_row_counts(warehouse: Warehouse) -> None:
    # BigQuery's COUNTIF is 0 when no row counts; DuckDB's COUNT_IF is NULL when its
    # condition is NULL on every row, and over no rows.
    rows = warehouse.query(
        "SELECT COUNTIF(x = 1) AS all_null, COUNTIF(x IS NULL) AS counted, "
        "(SELECT COUNTIF(TRUE) FROM UNNEST([1]) AS y WHERE FALSE) AS no_rows "
        "FROM UNNEST([CAST(NULL AS INT64), NULL]) AS x"
    )
    assert rows == [{"all_null": 0, "counted": 2, "no_rows": 0}]
    grouped = warehouse.query(
        "SELECT g, COUNTIF(x > 1) AS n FROM (SELECT 'a' AS g, 2 AS x "
        "UNION ALL SELECT 'b', CAST(NULL AS INT64)) GROUP BY g ORDER BY g"
    )
    assert grouped == [{"g": "a", "n": 1}, {"g": "b", "n": 0}]


def test_registry_queries_and_hostile_parameters(warehouse: Warehouse) -> None:
    warehouse.insert_rows("model_cards", [card_row(n) for n in range(1, 5)])
    everything = warehouse.query(sql("cards_list"), {"system_id": None})
    assert [r["model_file_name"] for r in everything] == [f"model_{n}.cbm" for n in range(1, 5)]
    v9 = warehouse.query(sql("cards_list"), {"system_id": "catboost_v9"})
    assert {r["model_file_name"] for r in v9} == {"model_1.cbm", "model_3.cbm"}
    assert len(warehouse.query(sql("cards_by_reference"), {"ref": "0003abab"})) == 1
    assert warehouse.query(sql("cards_by_reference"), {"ref": "0003"}) == []  # too short
    assert len(warehouse.query(sql("cards_by_reference"), {"ref": "model_2.cbm"})) == 1
    found = warehouse.query(
        sql("card_for_object_bytes"),
        {"model_uri": "gs://models/models/model_4.cbm", "model_sha256": "0004" + "ab" * 30},
    )
    assert [r["card_id"] for r in found] == [f"{4:064x}"]
    hostile = "x' OR '1'='1"
    assert warehouse.query(sql("cards_list"), {"system_id": hostile}) == []
    assert warehouse.query(sql("card_by_id"), {"card_id": "'; DROP TABLE model_cards; --"}) == []
    assert count(warehouse, "model_cards") == 4


def test_a_script_runs_every_statement_and_the_last_answers(warehouse: Warehouse) -> None:
    warehouse.execute(
        "INSERT INTO schema_migrations (migration_id, applied_at) VALUES ('a', @at);\n"
        "INSERT INTO schema_migrations (migration_id, applied_at) VALUES ('b', @at)",
        {"at": NOW, "unused": "ignored"},
    )
    assert count(warehouse, "schema_migrations", "migration_id IN ('a', 'b')") == 2
    script = (
        "INSERT INTO schema_migrations (migration_id, applied_at) VALUES (@id, @at);\n"
        "SELECT COUNT(*) * @n AS doubled FROM schema_migrations WHERE migration_id IN ('a', @id)"
    )
    params = {"id": "c", "at": NOW, "n": 2, "reference": "not @ref"}
    assert warehouse.query(script, params) == [{"doubled": 4}]
    params["id"] = "d"
    assert warehouse.query_arrow(script, params).to_pylist() == [{"doubled": 4}]


def test_a_statement_without_a_result_answers_no_rows(warehouse: Warehouse) -> None:
    statement = "DELETE FROM schema_migrations WHERE migration_id = 'nothing'"
    assert warehouse.query(statement) == []
    assert warehouse.query_arrow(statement).num_rows == 0


# --- writes ------------------------------------------------------------------------------------


def test_insert_rows_round_trips_every_column_type(warehouse: Warehouse) -> None:
    row = card_row(
        7,
        training_start_date=date(2025, 11, 2),
        training_end_date=date(2026, 1, 31),
        expected_mae=4.12,
        expected_hit_rate=74.6,
        trained_at=datetime(2026, 2, 1, 6, 30, 0, 123456, tzinfo=UTC),
        tree_count=300,
        missing_facts=["expected_mae", "expected_hit_rate"],
        card_json=json.dumps({"quote": 'it\'s "fine"', "unicode": "é ✓"}),
    )
    bare = card_row(8)
    warehouse.insert_rows("model_cards", [row])
    warehouse.insert_rows(
        "model_cards", pa.Table.from_pylist([bare], table_spec("model_cards").arrow_schema)
    )
    got = warehouse.query("SELECT * FROM model_cards ORDER BY card_id")
    columns = table_spec("model_cards").column_names
    assert got[0] == {c: row.get(c) for c in columns}
    # BigQuery has no NULL arrays: an absent REPEATED field reads as []; DuckDB keeps NULL.
    assert got[1]["missing_facts"] in (None, [])
    assert {c: v for c, v in got[1].items() if c != "missing_facts"} == {
        c: bare.get(c) for c in columns if c != "missing_facts"
    }
    assert warehouse.query_arrow("SELECT * FROM model_cards ORDER BY card_id").to_pylist() == got


def test_a_row_missing_a_required_column_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(Exception, match="model_sha256"):
        warehouse.insert_rows("model_cards", [card_row(1, model_sha256=None)])
    assert count(warehouse, "model_cards") == 0


def test_insert_new_rows_inserts_only_new_keys(warehouse: Warehouse) -> None:
    before = count(warehouse, "schema_migrations")
    key = ["migration_id"]
    assert warehouse.insert_new_rows("schema_migrations", migration_rows(3), key) == 3
    assert warehouse.insert_new_rows("schema_migrations", migration_rows(3), key) == 0
    assert warehouse.insert_new_rows("schema_migrations", migration_rows(5), key) == 2
    assert warehouse.insert_new_rows("schema_migrations", [], key) == 0
    assert count(warehouse, "schema_migrations") == before + 5


def test_duplicates_within_one_call_are_inserted_once(warehouse: Warehouse) -> None:
    rows = [card_row(1), card_row(2), card_row(1, card_json='{"second": true}'), card_row(2)]
    assert warehouse.insert_new_rows("model_cards", rows, ["card_id"]) == 2
    assert warehouse.insert_new_rows("model_cards", rows, ["card_id"]) == 0
    assert count(warehouse, "model_cards") == 2


def test_unique_keys_the_caller_vouches_for(warehouse: Warehouse) -> None:
    rows = [card_row(1), card_row(2)]
    assert warehouse.insert_new_rows("model_cards", rows, ["card_id"], unique_keys=True) == 2
    more = [card_row(2), card_row(3)]
    assert warehouse.insert_new_rows("model_cards", more, ["card_id"], unique_keys=True) == 1
    assert count(warehouse, "model_cards") == 3


def test_composite_keys(warehouse: Warehouse) -> None:
    def result(day: int, player: str, points: float) -> dict[str, Any]:
        return {
            "game_date": date(2026, 2, day),
            "player_lookup": player,
            "actual_points": points,
            "loaded_at": NOW,
        }

    key = ["game_date", "player_lookup"]
    first = [result(1, "a", 10), result(1, "b", 20), result(2, "a", 30)]
    assert warehouse.insert_new_rows("player_game_results", first, key) == 3
    again = [result(1, "a", 99), result(2, "b", 5)]
    assert warehouse.insert_new_rows("player_game_results", again, key) == 1
    points = warehouse.query(
        "SELECT actual_points FROM player_game_results WHERE game_date = @d AND player_lookup = @p",
        {"d": date(2026, 2, 1), "p": "a"},
    )
    assert points == [{"actual_points": 10.0}]


def test_insert_new_rows_within_a_scope(warehouse: Warehouse) -> None:
    """A duplicate is only looked for among the rows in scope (batch and partition)."""
    scope = {"batch_id": "b1", "game_date": D1}
    first = [prediction_row(n) for n in range(4)]
    key = ["prediction_id"]
    assert warehouse.insert_new_rows(PREDICTIONS, first, key, scope=scope) == 4
    assert warehouse.insert_new_rows(PREDICTIONS, first, key, scope=scope) == 0
    # The same keys under another scope are not seen there: the scope bounds the check.
    other = [prediction_row(n, batch_id="b2") for n in range(2)]
    other_scope = {"batch_id": "b2", "game_date": D1}
    assert warehouse.insert_new_rows(PREDICTIONS, other, key, scope=other_scope) == 2
    assert count(warehouse, PREDICTIONS, EVERY_DAY) == 6
    assert count(warehouse, PREDICTIONS, f"batch_id = @b AND {EVERY_DAY}", b="b1") == 4


def test_update_rows_never_changes_a_row_the_guard_excludes(guarded_warehouse: Warehouse) -> None:
    stamped = {
        "model_file_name": "stamped.cbm",
        "model_sha256": "s" * 64,
        "attribution_method": "stamped",
    }
    rows = [
        prediction_row(0),
        prediction_row(1, attribution_method="ledger_inferred", model_file_name="old.cbm"),
        prediction_row(2, **stamped),
        prediction_row(3, game_date=D2),
    ]
    guarded_warehouse.insert_rows(PREDICTIONS, rows)
    changes = [
        {
            "prediction_id": f"p{n:03d}",
            "model_file_name": "inferred.cbm",
            "model_sha256": "i" * 64,
            "model_training_end_date": date(2026, 1, 31),
            "attribution_method": "replay_verified",
        }
        for n in (0, 0, 1, 2, 3, 99)  # p000 twice, p099 unknown
    ]
    guard = (
        "(attribution_method IS NULL OR attribution_method = 'ledger_inferred') "
        "AND game_date BETWEEN @first_date AND @last_date"
    )
    updated = guarded_warehouse.update_rows(
        PREDICTIONS,
        changes,
        ["prediction_id"],
        only_where=guard,
        params={"first_date": D1, "last_date": D1},
    )
    assert updated == 2
    after = {r["prediction_id"]: r for r in guarded_warehouse.query(EVERY_PREDICTION)}
    for changed in ("p000", "p001"):
        assert after[changed]["model_file_name"] == "inferred.cbm"
        assert after[changed]["attribution_method"] == "replay_verified"
        assert after[changed]["model_training_end_date"] == date(2026, 1, 31)
        assert after[changed]["predicted_points"] == rows[int(changed[1:])]["predicted_points"]
    assert {k: after["p002"][k] for k in stamped} == stamped  # stamped: never changed
    assert after["p003"]["attribution_method"] is None  # outside the dates
    assert guarded_warehouse.update_rows(PREDICTIONS, [], ["prediction_id"], only_where="TRUE") == 0


# --- Arrow in and out --------------------------------------------------------------------------


def test_every_column_type_round_trips_through_arrow_nulls_included(warehouse: Warehouse) -> None:
    rows = [full_prediction(1), bare_prediction(2)]
    assert warehouse.insert_new_rows(PREDICTIONS, arrow(rows), ["prediction_id"]) == 2
    assert warehouse.query(EVERY_PREDICTION) == rows
    table = warehouse.query_arrow(EVERY_PREDICTION)
    assert [(f.name, f.type) for f in table.schema] == [
        (c.name, c.arrow_type) for c in table_spec(PREDICTIONS).columns
    ]
    assert table.to_pylist() == rows
    # Every column set from Arrow: the full row becomes bare and the bare one full.
    changes = arrow([bare_prediction(3) | {"prediction_id": "p1"}, full_prediction(2)])
    updated = warehouse.update_rows(PREDICTIONS, changes, ["prediction_id"], only_where="TRUE")
    assert updated == 2
    assert warehouse.query(EVERY_PREDICTION) == changes.to_pylist()
    assert warehouse.query_arrow(EVERY_PREDICTION).to_pylist() == changes.to_pylist()
    assert warehouse.query_arrow(f"SELECT * FROM {PREDICTIONS} WHERE FALSE").num_rows == 0


def test_update_rows_from_arrow_never_changes_a_row_the_guard_excludes(
    guarded_warehouse: Warehouse,
) -> None:
    rows = [full_prediction(n) | {"attribution_method": None} for n in range(4)]
    rows[1]["attribution_method"] = "stamped"  # stamped since the changes were decided
    guarded_warehouse.insert_rows(PREDICTIONS, arrow(rows))
    changes = pa.table(
        {
            # Typed by the table, whatever Arrow types they arrive as.
            "prediction_id": pa.array(["p0", "p0", "p1", "p2", "p3", "p9"], pa.large_string()),
            "model_expected_mae": pa.array([4] * 6, pa.int64()),
            "attribution_method": ["replay_verified"] * 6,
        }
    )
    updated = guarded_warehouse.update_rows(
        PREDICTIONS,
        changes,
        ["prediction_id"],
        only_where="attribution_method IS NULL AND game_date BETWEEN @first AND @last",
        params={"first": date(2026, 3, 1), "last": date(2026, 3, 3)},
    )
    assert updated == 2
    after = {r["prediction_id"]: r for r in guarded_warehouse.query(EVERY_PREDICTION)}
    for changed in ("p0", "p2"):
        expected = rows[int(changed[1:])]
        assert after[changed] == expected | {
            "model_expected_mae": 4.0,
            "attribution_method": "replay_verified",
        }
    assert after["p1"] == rows[1]  # the guard no longer holds: not changed
    assert after["p3"] == rows[3]  # outside the dates


def test_an_update_naming_a_column_the_table_lacks_is_refused(warehouse: Warehouse) -> None:
    warehouse.insert_rows(PREDICTIONS, arrow([full_prediction(0)]))
    with pytest.raises(KeyError, match="no column nope"):
        warehouse.update_rows(
            PREDICTIONS,
            pa.table({"prediction_id": ["p0"], "nope": [1]}),
            ["prediction_id"],
            only_where=EVERY_DAY,
        )
    assert warehouse.query(EVERY_PREDICTION) == [full_prediction(0)]
