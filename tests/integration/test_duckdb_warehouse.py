"""The embedded warehouse, for real: BigQuery SQL through sqlglot, parameters, exact inserts."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse, to_duckdb
from attribution.errors import BackendUnavailableError, TransientError, WarehouseLockedError
from attribution.warehouse.migrations import migrate

NOW = datetime(2026, 2, 2, 18, 0, tzinfo=UTC)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    instance = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    migrate(instance)
    yield instance
    instance.close()


def migration_rows(count: int, prefix: str = "m") -> list[dict[str, Any]]:
    return [{"migration_id": f"{prefix}{i:04d}", "applied_at": NOW} for i in range(count)]


# --- BigQuery SQL run as DuckDB's ---------------------------------------------------------------


def test_bigquery_parameters_become_duckdb_parameters() -> None:
    (statement,) = to_duckdb("SELECT * FROM t WHERE a = @a AND STARTS_WITH(b, @prefix)")
    assert "$a" in statement
    assert "$prefix" in statement
    assert "@" not in statement


# --- the database file ---------------------------------------------------------------------


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


# --- insert_new_rows: exactly once under races ------------------------------------------------


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
