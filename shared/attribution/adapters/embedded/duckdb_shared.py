"""DuckDB shared between processes: the file is open only while someone is working on it.

While one process has a DuckDB file open, no other process can open it at all. The local
stack serves the functions from one process and the CLI next to it reads and writes the same
warehouse, so here nobody keeps the file: an operation (or a ``session()`` of several) opens
it, works, and closes it, waiting while another process holds it. Same SQL and semantics as
``DuckDBWarehouse``, which does the work; slower (an open costs some 15 ms), so the embedded
default keeps the exclusive adapter.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.errors import WarehouseLockedError
from attribution.ports import Row


class SharedDuckDBWarehouse:
    """A ``Warehouse`` over a DuckDB file that other processes open too."""

    def __init__(self, path: Path | str, *, wait_seconds: float = 60.0) -> None:
        self.path = Path(path)
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._open: DuckDBWarehouse | None = None
        self._users = 0

    def _connect(self) -> DuckDBWarehouse:
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.02
        while True:
            try:
                return DuckDBWarehouse(self.path)
            except WarehouseLockedError as exc:  # another process holds the file: wait for it
                if time.monotonic() >= deadline:
                    raise WarehouseLockedError(
                        exc.code,
                        f"{exc.message} (still locked after {self.wait_seconds:.0f} s: a process "
                        "that opened it with DUCKDB_ACCESS=exclusive keeps it until it exits)",
                    ) from exc
            time.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, 0.25)

    @contextmanager
    def session(self) -> Iterator[DuckDBWarehouse]:
        """Hold the file for several operations (threads of this process share it)."""
        with self._lock:
            if self._open is None:
                self._open = self._connect()
            self._users += 1
            warehouse = self._open
        try:
            yield warehouse
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._open = None
                    warehouse.close()

    def close(self) -> None:
        """Nothing stays open between sessions; kept for symmetry with the other adapters."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        with self.session() as warehouse:
            return warehouse.query(sql, params)

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        with self.session() as warehouse:
            return warehouse.query_arrow(sql, params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self.session() as warehouse:
            warehouse.execute(sql, params)

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> None:
        with self.session() as warehouse:
            warehouse.insert_rows(table, rows)

    def insert_new_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        key: Sequence[str],
        *,
        scope: Mapping[str, Any] | None = None,
        unique_keys: bool = False,
    ) -> int:
        with self.session() as warehouse:
            return warehouse.insert_new_rows(table, rows, key, scope=scope, unique_keys=unique_keys)

    def update_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        key: Sequence[str],
        *,
        only_where: str,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        with self.session() as warehouse:
            return warehouse.update_rows(table, rows, key, only_where=only_where, params=params)

    def table_columns(self, table: str) -> list[str] | None:
        with self.session() as warehouse:
            return warehouse.table_columns(table)

    def required_columns(self, table: str) -> set[str]:
        with self.session() as warehouse:
            return warehouse.required_columns(table)

    def create_table(self, table: str) -> None:
        with self.session() as warehouse:
            warehouse.create_table(table)
