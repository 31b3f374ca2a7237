"""The embedded warehouse: DuckDB, running the same BigQuery SQL through sqlglot."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from attribution.errors import BackendUnavailableError, WarehouseLockedError
from attribution.ports import Row
from attribution.warehouse.tables import TableSpec, row_changes, table_spec, to_arrow


def _count_if_as_count(node: exp.Expr) -> exp.Expr:
    """``COUNTIF(x)`` as ``COUNT(CASE WHEN x THEN 1 END)``.

    BigQuery's COUNTIF is 0 when no row makes ``x`` TRUE; DuckDB's COUNT_IF is NULL when
    ``x`` is NULL on every row, and over no rows at all. COUNT is 0 on both.
    """
    if isinstance(node, exp.CountIf):
        case = exp.Case(ifs=[exp.If(this=node.this.copy(), true=exp.Literal.number(1))])
        return exp.Count(this=case)
    return node


@lru_cache(maxsize=512)
def to_duckdb(sql_text: str) -> tuple[str, ...]:
    """Transpile BigQuery SQL to DuckDB; one ALTER per action, as DuckDB requires."""
    statements: list[str] = []
    for parsed in sqlglot.parse(sql_text, read="bigquery"):
        if parsed is None:
            continue
        tree = parsed.transform(_count_if_as_count)
        if isinstance(tree, exp.Alter) and len(tree.args.get("actions") or []) > 1:
            for action in tree.args["actions"]:
                single = tree.copy()
                single.set("actions", [action.copy()])
                statements.append(single.sql(dialect="duckdb"))
        else:
            statements.append(tree.sql(dialect="duckdb"))
    return tuple(statements)


# DuckDB answers these with the number of rows they changed; BigQuery with no rows.
_ROW_COUNTING = frozenset(
    {
        duckdb.StatementType.INSERT,
        duckdb.StatementType.UPDATE,
        duckdb.StatementType.DELETE,
        duckdb.StatementType.MERGE_INTO,
    }
)


@lru_cache(maxsize=512)
def _answers_rows(statement: str) -> bool:
    return duckdb.extract_statements(statement)[0].type not in _ROW_COUNTING


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def unavailable(path: str | Path, exc: Exception) -> BackendUnavailableError:
    """What a DuckDB error opening (or first reading) the file ``path`` means, in words.

    Another process holding the file is ``WarehouseLockedError`` (transient: it may let go); a
    file DuckDB cannot read as a database (garbage, truncated, a folder, no permission) is
    ``warehouse_unusable``, which no retry fixes.
    """
    text = str(exc).removeprefix("IO Error: ").replace(f' "{path}"', "").rstrip("!. ")
    if "Could not set lock" in text or "Conflicting lock" in text:
        holder = _LOCK_HOLDER.search(text)
        who = f"process {holder.group(2)} ({holder.group(1)})" if holder else "another process"
        return WarehouseLockedError(
            "warehouse_locked",
            f"the warehouse {path} is in use by {who}: stop that process, or run both with "
            "DUCKDB_ACCESS=shared",
        )
    return BackendUnavailableError(
        "warehouse_unusable",
        f"the warehouse {path} cannot be opened as a DuckDB database ({text}): "
        "move it aside to start an empty one, or set DUCKDB_PATH to the right file",
    )


def is_unreadable_database(exc: Exception) -> bool:
    """Whether a DuckDB error says the database file itself is damaged (not the SQL)."""
    if isinstance(exc, duckdb.IOException | duckdb.SerializationException):
        return True
    return isinstance(exc, duckdb.Error) and "corrupt" in str(exc).lower()


_path_locks: dict[str, threading.RLock] = {}
_path_locks_guard = threading.Lock()


def _lock_for(path: str) -> threading.RLock:
    """One write lock per database file: every instance on it shares DuckDB's database."""
    if path == ":memory:":
        return threading.RLock()
    with _path_locks_guard:
        return _path_locks.setdefault(str(Path(path).resolve()), threading.RLock())


class DuckDBWarehouse:
    """One DuckDB database file per process; a lock per file makes keyed inserts exact."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = duckdb.connect(self.path)
        except duckdb.Error as exc:
            raise unavailable(self.path, exc) from exc
        self._write_lock = _lock_for(self.path)
        self._local = threading.local()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            # Timestamps read as UTC, as BigQuery gives them, not in the machine's zone.
            cursor.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cursor
        return cursor

    def close(self) -> None:
        self._connection.close()

    def _up_to_last(
        self, sql: str, params: Mapping[str, Any] | None
    ) -> tuple[duckdb.DuckDBPyConnection, str, dict[str, Any] | None]:
        """Run every statement of ``sql`` but the last, the one that answers; return the
        cursor, that statement and its parameters."""
        *before, last = to_duckdb(sql)
        cursor = self._cursor()
        for statement in before:
            cursor.execute(statement, _used(statement, params))
        return cursor, last, _used(last, params)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        cursor, last, used = self._up_to_last(sql, params)
        result = cursor.execute(last, used)
        if result.description is None or not _answers_rows(last):
            return []
        names = [d[0] for d in result.description]
        return [dict(zip(names, values, strict=True)) for values in result.fetchall()]

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        cursor, last, used = self._up_to_last(sql, params)
        # A relation hands its rows to Arrow directly; an executed statement's result
        # would be copied once more. A statement without a result runs and gives None.
        relation = cursor.sql(last, params=used)
        if relation is None or not _answers_rows(last):
            return pa.table({})
        return relation.to_arrow_table()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self._write_lock:
            cursor = self._cursor()
            for statement in to_duckdb(sql):
                cursor.execute(statement, _used(statement, params))

    def table_columns(self, table: str) -> list[str] | None:
        rows = (
            self._cursor()
            .execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = $t AND table_schema = current_schema() "
                "ORDER BY ordinal_position",
                {"t": table},
            )
            .fetchall()
        )
        return [r[0] for r in rows] or None

    def required_columns(self, table: str) -> set[str]:
        rows = (
            self._cursor()
            .execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = $t AND table_schema = current_schema() "
                "AND is_nullable = 'NO'",
                {"t": table},
            )
            .fetchall()
        )
        return {r[0] for r in rows}

    def create_table(self, table: str) -> None:
        self.create_table_from(table_spec(table))

    def create_table_from(self, spec: TableSpec, columns: Sequence[str] | None = None) -> None:
        chosen = [spec.column(c) for c in columns] if columns else None
        with self._write_lock:
            self._cursor().execute(spec.duckdb_ddl(chosen))

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> None:
        data = self._arrow(table, rows)
        if data.num_rows == 0:
            return
        with self._write_lock:
            cursor = self._cursor()
            cursor.register("incoming_rows", data)
            try:
                cursor.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM incoming_rows')
            finally:
                cursor.unregister("incoming_rows")

    def insert_new_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        key: Sequence[str],
        *,
        scope: Mapping[str, Any] | None = None,
        unique_keys: bool = False,
    ) -> int:
        data = self._arrow(table, rows)
        if data.num_rows == 0:
            return 0
        scope = dict(scope or {})
        match = " AND ".join(
            [f'existing."{k}" = incoming."{k}"' for k in key]
            + [f'existing."{column}" = $scope_{i}' for i, column in enumerate(scope)]
        )
        scope_params = {f"scope_{i}": value for i, value in enumerate(scope.values())} or None
        partition = ", ".join(f'"{k}"' for k in key)
        with self._write_lock:
            cursor = self._cursor()
            cursor.register("incoming_rows", data)
            try:
                cursor.execute("BEGIN TRANSACTION")
                conditions: list[str] = []
                if unique_keys or _keys_distinct(cursor, partition, data.num_rows):
                    # Nothing to deduplicate: skip the window, which costs far more than the
                    # check (one hash aggregate) on a large batch.
                    source = "SELECT * FROM incoming_rows AS incoming"
                else:
                    source = (
                        f"SELECT * EXCLUDE (_n) FROM ("
                        f"  SELECT *, ROW_NUMBER() OVER (PARTITION BY {partition}) AS _n"
                        f"  FROM incoming_rows) AS incoming"
                    )
                    conditions.append("_n = 1")
                # A scope that holds no rows yet (a batch's first delivery) cannot hold a
                # duplicate, so the anti-join is needed only when it holds some.
                params = None
                if not scope or _scope_holds_rows(cursor, table, scope, scope_params):
                    conditions.append(
                        f'NOT EXISTS (SELECT 1 FROM "{table}" AS existing WHERE {match})'
                    )
                    params = scope_params
                where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
                inserted = cursor.execute(
                    f'INSERT INTO "{table}" BY NAME {source}{where}', params
                ).fetchone()
                cursor.execute("COMMIT")
            except Exception:
                cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.unregister("incoming_rows")
        return int(inserted[0]) if inserted else 0

    def update_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        key: Sequence[str],
        *,
        only_where: str,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        if len(rows) == 0:
            return 0
        changes = row_changes(table_spec(table), rows, key)
        columns, data = changes.set_names, changes.data
        assignments = ", ".join(f'"{c}" = changes."{c}"' for c in columns)
        match = " AND ".join(f'"{table}"."{k}" = changes."{k}"' for k in key)
        keys = ", ".join(f'"{k}"' for k in key)
        guard = _qualified_condition(only_where, table)
        with self._write_lock:
            cursor = self._cursor()
            cursor.register("changes", data)
            try:
                # One change per key, as on BigQuery (which refuses a target row matched twice).
                statement = (
                    f'UPDATE "{table}" SET {assignments} '
                    f"FROM (SELECT DISTINCT ON ({keys}) * FROM changes) AS changes "
                    f"WHERE {match} AND ({guard})"
                )
                result = cursor.execute(statement, _used(statement, params)).fetchone()
            finally:
                cursor.unregister("changes")
        return int(result[0]) if result else 0

    @staticmethod
    def _arrow(table: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> pa.Table:
        if isinstance(rows, pa.Table):
            return rows
        return to_arrow(table_spec(table), rows)


@lru_cache(maxsize=128)
def _qualified_condition(condition: str, table: str) -> str:
    """A BigQuery boolean expression over ``table``'s columns, qualified, in DuckDB SQL."""
    tree = sqlglot.condition(condition, dialect="bigquery")
    for column in tree.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(table, quoted=True))
    return tree.sql(dialect="duckdb")


def _keys_distinct(cursor: duckdb.DuckDBPyConnection, partition: str, rows: int) -> bool:
    """Whether no two ``incoming_rows`` share a key (NULLs equal, as in PARTITION BY)."""
    if rows <= 1:
        return True
    (distinct,) = cursor.execute(
        f"SELECT COUNT(*) FROM (SELECT DISTINCT {partition} FROM incoming_rows)"
    ).fetchall()
    return int(distinct[0]) == rows


def _scope_holds_rows(
    cursor: duckdb.DuckDBPyConnection,
    table: str,
    scope: Mapping[str, Any],
    params: Mapping[str, Any] | None,
) -> bool:
    """Whether any row of ``table`` is in ``scope`` (column = ``$scope_i`` for each)."""
    where = " AND ".join(f'"{column}" = $scope_{i}' for i, column in enumerate(scope))
    return bool(cursor.execute(f'SELECT 1 FROM "{table}" WHERE {where} LIMIT 1', params).fetchall())


def _used(statement: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """DuckDB refuses parameters a statement does not name; pass only the named ones."""
    if not params:
        return None
    used = {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", statement)}
    return used or None
