"""The embedded warehouse, for real: BigQuery SQL through sqlglot, parameters, exact inserts."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from prediction_rows import PREDICTIONS, arrow, bare_prediction, full_prediction

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse, to_duckdb
from attribution.errors import BackendUnavailableError, TransientError, WarehouseLockedError
from attribution.warehouse.migrations import migrate
from attribution.warehouse.sql_text import sql
from attribution.warehouse.tables import table_spec

NOW = datetime(2026, 2, 2, 18, 0, tzinfo=UTC)
EVERY_PREDICTION = f"SELECT * FROM {PREDICTIONS} ORDER BY prediction_id"


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    instance = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    migrate(instance)
    yield instance
    instance.close()


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
        "feature_names": ["points_avg_last_5"],
        "registered_at": NOW.replace(minute=n % 60),
    }
    return row | changes


def migration_rows(count: int, prefix: str = "m") -> list[dict[str, Any]]:
    return [{"migration_id": f"{prefix}{i:04d}", "applied_at": NOW} for i in range(count)]


def count(warehouse: DuckDBWarehouse, table: str) -> int:
    return int(warehouse.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


# --- queries: BigQuery SQL with @parameters ----------------------------------------------------


def test_bigquery_parameters_become_duckdb_parameters() -> None:
    (statement,) = to_duckdb("SELECT * FROM t WHERE a = @a AND STARTS_WITH(b, @prefix)")
    assert "$a" in statement
    assert "$prefix" in statement
    assert "@" not in statement


def test_registry_queries_run_with_parameters(warehouse: DuckDBWarehouse) -> None:
    warehouse.insert_rows("model_cards", [card_row(n) for n in range(1, 5)])
    everything = warehouse.query(sql("cards_list"), {"system_id": None})
    assert [r["model_file_name"] for r in everything] == [f"model_{n}.cbm" for n in range(1, 5)]
    v9 = warehouse.query(sql("cards_list"), {"system_id": "catboost_v9"})
    assert {r["model_file_name"] for r in v9} == {"model_1.cbm", "model_3.cbm"}
    by_prefix = warehouse.query(sql("cards_by_reference"), {"ref": "0003abab"})
    assert len(by_prefix) == 1
    too_short = warehouse.query(sql("cards_by_reference"), {"ref": "0003"})
    assert too_short == []
    by_name = warehouse.query(sql("cards_by_reference"), {"ref": "model_2.cbm"})
    assert len(by_name) == 1
    found = warehouse.query(
        sql("card_for_object_bytes"),
        {"model_uri": "gs://models/models/model_4.cbm", "model_sha256": "0004" + "ab" * 30},
    )
    assert [r["card_id"] for r in found] == [f"{4:064x}"]


def test_parameter_values_are_never_sql(warehouse: DuckDBWarehouse) -> None:
    warehouse.insert_rows("model_cards", [card_row(1)])
    hostile = "x' OR '1'='1"
    assert warehouse.query(sql("cards_list"), {"system_id": hostile}) == []
    assert warehouse.query(sql("card_by_id"), {"card_id": "'; DROP TABLE model_cards; --"}) == []
    assert count(warehouse, "model_cards") == 1


def test_typed_parameters_and_bigquery_functions(warehouse: DuckDBWarehouse) -> None:
    rows = warehouse.query(
        "SELECT DATE_DIFF(@end, @start, DAY) AS days, SAFE_DIVIDE(@hits, @total) AS rate, "
        "SAFE_DIVIDE(@hits, 0) AS undefined, @when AS at_time",
        {
            "start": date(2025, 11, 2),
            "end": date(2026, 1, 31),
            "hits": 3,
            "total": 4,
            "when": NOW,
        },
    )
    assert rows == [{"days": 90, "rate": 0.75, "undefined": None, "at_time": NOW}]


def test_countif_is_zero_when_no_row_counts_as_on_bigquery(warehouse: DuckDBWarehouse) -> None:
    # DuckDB's COUNT_IF is NULL when its condition is NULL on every row, and over no rows.
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


def test_unused_parameters_are_ignored_and_the_last_statement_answers(
    warehouse: DuckDBWarehouse,
) -> None:
    rows = warehouse.query(
        "CREATE TEMP TABLE scratch AS SELECT @n AS n; SELECT n * 2 AS doubled FROM scratch",
        {"n": 21, "unused": "ignored", "reference": "not @ref"},
    )
    assert rows == [{"doubled": 42}]


def test_a_statement_without_a_result_returns_no_rows(warehouse: DuckDBWarehouse) -> None:
    assert warehouse.query("CREATE TEMP TABLE nothing (x INT64)") == []


def test_query_arrow_runs_every_statement_and_the_last_answers(warehouse: DuckDBWarehouse) -> None:
    table = warehouse.query_arrow(
        "CREATE TEMP TABLE scratch AS SELECT @n AS n; SELECT n * 2 AS doubled FROM scratch",
        {"n": 21, "unused": "ignored"},
    )
    assert table.to_pylist() == [{"doubled": 42}]
    assert warehouse.query_arrow("CREATE TEMP TABLE nothing (x INT64)").num_rows == 0


# --- tables ------------------------------------------------------------------------------------


def test_table_columns_and_create_table(tmp_path: Path) -> None:
    instance = DuckDBWarehouse(tmp_path / "w.duckdb")
    assert instance.table_columns("model_cards") is None
    instance.create_table("model_cards")
    instance.create_table("model_cards")
    assert instance.table_columns("model_cards") == table_spec("model_cards").column_names
    instance.close()


def test_a_row_missing_a_required_column_is_refused(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(duckdb.ConstraintException, match="model_sha256"):
        warehouse.insert_rows("model_cards", [card_row(1, model_sha256=None)])
    assert count(warehouse, "model_cards") == 0


def test_an_unusable_database_file_is_refused_for_good(tmp_path: Path) -> None:
    """A folder or garbage where the database should be: no retry can help (not transient),
    and the message says what to do."""
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"not a database at all\n" * 100)
    for path in (tmp_path, garbage):  # a directory, then a file of garbage
        with pytest.raises(BackendUnavailableError) as caught:
            DuckDBWarehouse(path)
        assert not isinstance(caught.value, TransientError)
        assert caught.value.code == "warehouse_unusable"
        assert caught.value.message.startswith(f"the warehouse {path} cannot be opened")
        assert "move it aside" in caught.value.message


def test_a_file_another_process_holds_is_locked_and_transient(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_FILE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseLockedError) as caught:
            DuckDBWarehouse(path)
        assert isinstance(caught.value, TransientError)  # the shared adapter waits on it
        assert caught.value.code == "warehouse_locked"
        assert f"is in use by process {holder.pid} (" in caught.value.message
        assert caught.value.message.endswith("or run both with DUCKDB_ACCESS=shared")
    finally:
        holder.communicate("", timeout=30)
    DuckDBWarehouse(path).close()  # released with its holder


# Holds a DuckDB file open until its stdin closes.
HOLD_THE_FILE = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
connection.close()
"""


# --- insert_new_rows: exactly once -------------------------------------------------------------


def test_insert_new_rows_inserts_only_new_keys(warehouse: DuckDBWarehouse) -> None:
    before = count(warehouse, "schema_migrations")
    assert warehouse.insert_new_rows("schema_migrations", migration_rows(3), ["migration_id"]) == 3
    assert warehouse.insert_new_rows("schema_migrations", migration_rows(3), ["migration_id"]) == 0
    assert warehouse.insert_new_rows("schema_migrations", migration_rows(5), ["migration_id"]) == 2
    assert warehouse.insert_new_rows("schema_migrations", [], ["migration_id"]) == 0
    assert count(warehouse, "schema_migrations") == before + 5


def test_duplicates_within_one_call_are_inserted_once(warehouse: DuckDBWarehouse) -> None:
    rows = [card_row(1), card_row(2), card_row(1, card_json='{"second": true}'), card_row(2)]
    assert warehouse.insert_new_rows("model_cards", rows, ["card_id"]) == 2
    assert count(warehouse, "model_cards") == 2


def test_composite_keys(warehouse: DuckDBWarehouse) -> None:
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


def race(writers: list[DuckDBWarehouse], rows: list[dict[str, Any]]) -> list[int]:
    """Every writer inserts the same rows at the same moment, each on its own thread."""
    barrier = threading.Barrier(len(writers))
    results: list[int] = []
    errors: list[BaseException] = []

    def insert(writer: DuckDBWarehouse) -> None:
        try:
            barrier.wait()
            results.append(writer.insert_new_rows("schema_migrations", rows, ["migration_id"]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=insert, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def exactly_once(warehouse: DuckDBWarehouse, prefix: str) -> tuple[int, list[int]]:
    """How many keys start with ``prefix``, and the distinct numbers of copies of each."""
    counts = warehouse.query(
        "SELECT COUNT(*) AS n FROM schema_migrations "
        "WHERE STARTS_WITH(migration_id, @prefix) GROUP BY migration_id",
        {"prefix": prefix},
    )
    return len(counts), sorted({r["n"] for r in counts})


def test_threads_racing_with_the_same_rows_insert_each_row_once(
    warehouse: DuckDBWarehouse,
) -> None:
    rows = migration_rows(300, prefix="race-")
    results = race([warehouse] * 4, rows)
    assert sorted(results) == [0, 0, 0, 300]
    assert exactly_once(warehouse, "race-") == (300, [1])


def test_two_warehouses_on_one_file_racing_insert_each_row_once(
    warehouse: DuckDBWarehouse,
) -> None:
    other = DuckDBWarehouse(warehouse.path)
    rows = migration_rows(300, prefix="pair-")
    results = race([warehouse, other, warehouse, other], rows)
    assert sorted(results) == [0, 0, 0, 300]
    assert exactly_once(warehouse, "pair-") == (300, [1])


# --- Arrow in and out: query_arrow, insert_new_rows and update_rows of a table ----------------


def test_every_column_type_round_trips_through_arrow_nulls_included(
    warehouse: DuckDBWarehouse,
) -> None:
    rows = [full_prediction(1), bare_prediction(2)]
    assert warehouse.insert_new_rows(PREDICTIONS, arrow(rows), ["prediction_id"]) == 2
    assert warehouse.query(EVERY_PREDICTION) == rows
    assert warehouse.query_arrow(EVERY_PREDICTION).to_pylist() == rows
    # Every column set from Arrow: the full row becomes bare and the bare one full.
    changes = arrow([bare_prediction(3) | {"prediction_id": "p1"}, full_prediction(2)])
    assert warehouse.update_rows(PREDICTIONS, changes, ["prediction_id"], only_where="TRUE") == 2
    assert warehouse.query(EVERY_PREDICTION) == changes.to_pylist()
    assert warehouse.query_arrow(EVERY_PREDICTION).to_pylist() == changes.to_pylist()


def test_update_rows_from_arrow_never_changes_a_row_the_guard_excludes(
    warehouse: DuckDBWarehouse,
) -> None:
    rows = [full_prediction(n) | {"attribution_method": None} for n in range(4)]
    rows[1]["attribution_method"] = "stamped"  # stamped since the changes were decided
    warehouse.insert_rows(PREDICTIONS, arrow(rows))
    changes = pa.table(
        {
            # Typed by the table, whatever Arrow types they arrive as.
            "prediction_id": pa.array(["p0", "p1", "p2", "p3", "p9"], pa.large_string()),
            "model_expected_mae": pa.array([4] * 5, pa.int64()),
            "attribution_method": ["replay_verified"] * 5,
        }
    )
    updated = warehouse.update_rows(
        PREDICTIONS,
        changes,
        ["prediction_id"],
        only_where="attribution_method IS NULL AND game_date BETWEEN @first AND @last",
        params={"first": date(2026, 3, 1), "last": date(2026, 3, 3)},
    )
    assert updated == 2
    after = {r["prediction_id"]: r for r in warehouse.query(EVERY_PREDICTION)}
    for changed in ("p0", "p2"):
        expected = rows[int(changed[1:])]
        assert after[changed] == expected | {
            "model_expected_mae": 4.0,
            "attribution_method": "replay_verified",
        }
    assert after["p1"] == rows[1]  # the guard no longer holds: not changed
    assert after["p3"] == rows[3]  # outside the dates
    with pytest.raises(KeyError, match="no column nope"):
        warehouse.update_rows(
            PREDICTIONS,
            pa.table({"prediction_id": ["p0"], "nope": [1]}),
            ["prediction_id"],
            only_where="TRUE",
        )
