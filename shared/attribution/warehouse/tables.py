"""Table definitions, read from ``schemas/bigquery/*.json`` (the one source of truth).

From them come the DuckDB DDL, the Arrow schema used for bulk writes, and row validation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pyarrow as pa

from attribution.package_folders import schemas_dir

_DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "INTEGER": "BIGINT",
    "FLOAT64": "DOUBLE",
    "FLOAT": "DOUBLE",
    "BOOL": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
}

_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "INTEGER": pa.int64(),
    "FLOAT64": pa.float64(),
    "FLOAT": pa.float64(),
    "BOOL": pa.bool_(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    mode: str = "NULLABLE"
    description: str = ""

    @property
    def required(self) -> bool:
        return self.mode == "REQUIRED"

    @property
    def repeated(self) -> bool:
        return self.mode == "REPEATED"

    @property
    def duckdb_type(self) -> str:
        base = _DUCKDB_TYPES[self.type]
        return f"{base}[]" if self.repeated else base

    @property
    def arrow_type(self) -> pa.DataType:
        base = _ARROW_TYPES[self.type]
        return pa.list_(base) if self.repeated else base


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_field: str | None = None
    clustering: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")

    def duckdb_ddl(self, columns: Sequence[Column] | None = None) -> str:
        body = ",\n  ".join(
            f'"{c.name}" {c.duckdb_type}{" NOT NULL" if c.required else ""}'
            for c in (columns or self.columns)
        )
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" (\n  {body}\n)'

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns]
        )


@cache
def table_specs() -> dict[str, TableSpec]:
    folder = schemas_dir() / "bigquery"
    options = json.loads((folder / "tables.json").read_text())
    specs: dict[str, TableSpec] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name == "tables.json":
            continue
        name = path.stem
        fields = json.loads(path.read_text())
        opts = options.get(name, {})
        specs[name] = TableSpec(
            name=name,
            columns=tuple(
                Column(
                    name=f["name"],
                    type=f["type"],
                    mode=f.get("mode", "NULLABLE"),
                    description=f.get("description", ""),
                )
                for f in fields
            ),
            key=tuple(opts.get("key", ())),
            partition_field=opts.get("partition_field"),
            clustering=tuple(opts.get("clustering", ())),
        )
    return specs


def table_spec(name: str) -> TableSpec:
    try:
        return table_specs()[name]
    except KeyError:
        raise KeyError(f"no schema file for table {name!r}") from None


class RowError(ValueError):
    """A row does not fit its table; the message names the column and the problem."""


def _coerce(column: Column, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if kind == "STRING":
        if isinstance(value, str):
            return value
        raise RowError(f"{column.name}: expected text, got {type(value).__name__}")
    if kind in ("INT64", "INTEGER"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RowError(f"{column.name}: expected a whole number, got {value!r}")
        return value
    if kind in ("FLOAT64", "FLOAT"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RowError(f"{column.name}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise RowError(f"{column.name}: {value!r} is not a finite number")
        return float(value)
    if kind in ("BOOL", "BOOLEAN"):
        if isinstance(value, bool):
            return value
        raise RowError(f"{column.name}: expected true or false, got {value!r}")
    if kind == "DATE":
        if isinstance(value, datetime):
            raise RowError(f"{column.name}: expected a date, got a timestamp")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise RowError(f"{column.name}: {value!r} is not a date") from None
        raise RowError(f"{column.name}: expected a date, got {value!r}")
    if kind == "TIMESTAMP":
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise RowError(f"{column.name}: {value!r} is not a timestamp") from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        raise RowError(f"{column.name}: expected a timestamp, got {value!r}")
    raise RowError(f"{column.name}: unsupported column type {kind}")


def validate_row(spec: TableSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the row coerced to the table's types, or raise RowError naming every problem."""
    unknown = set(row) - set(spec.column_names)
    problems: list[str] = [f"{name}: not a column of {spec.name}" for name in sorted(unknown)]
    clean: dict[str, Any] = {}
    for column in spec.columns:
        value = row.get(column.name)
        if column.repeated:
            value = [] if value is None else value
            if not isinstance(value, list | tuple):
                problems.append(f"{column.name}: expected a list")
                continue
            try:
                clean[column.name] = [_coerce(column, v) for v in value]
            except RowError as exc:
                problems.append(str(exc))
            continue
        if value is None and column.required:
            problems.append(f"{column.name}: required by {spec.name} but missing")
            continue
        try:
            clean[column.name] = _coerce(column, value)
        except RowError as exc:
            problems.append(str(exc))
    if problems:
        raise RowError("; ".join(problems))
    return clean


def to_arrow(spec: TableSpec, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist([dict(r) for r in rows], schema=spec.arrow_schema)


def conformed(columns: Sequence[Column], rows: pa.Table) -> pa.Table:
    """``rows`` as exactly ``columns``, in their order and types (absent ones NULL, a NULL
    list empty, as ``validate_row`` makes them); a column ``columns`` lacks is refused, and
    so is a NULL in a required one."""
    unknown = sorted(set(rows.column_names) - {c.name for c in columns})
    if unknown:
        raise RowError(f"not columns of the table: {', '.join(unknown)}")
    arrays = [_conformed_column(c, rows) for c in columns]
    schema = pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in columns])
    for column, array in zip(columns, arrays, strict=True):
        if column.required and array.null_count:
            raise RowError(f"{column.name}: required but missing in {array.null_count} row(s)")
    return pa.Table.from_arrays(arrays, schema=schema)


def _conformed_column(column: Column, rows: pa.Table) -> pa.ChunkedArray:
    if column.name not in rows.column_names:
        values = pa.chunked_array([pa.nulls(rows.num_rows, column.arrow_type)])
    else:
        values = rows.column(column.name).cast(column.arrow_type)
    if column.repeated:
        return values.fill_null(pa.scalar([], column.arrow_type))
    return values


@dataclass(frozen=True)
class RowChanges:
    """Partial rows for an update: the key columns, then the columns they set."""

    key: tuple[Column, ...]
    columns: tuple[Column, ...]
    data: pa.Table

    @property
    def set_names(self) -> list[str]:
        return [c.name for c in self.columns]


def row_changes(
    spec: TableSpec, rows: Sequence[Mapping[str, Any]] | pa.Table, key: Sequence[str]
) -> RowChanges:
    """Typed Arrow rows of only ``key`` plus the columns the rows set: an Arrow table's
    other columns, or those of the first dict."""
    names = rows.column_names if isinstance(rows, pa.Table) else list(rows[0])
    missing = [k for k in key if k not in names]
    if missing:
        raise RowError(f"the changes lack the key column(s) {', '.join(missing)}")
    key_columns = tuple(spec.column(k) for k in key)
    set_columns = tuple(spec.column(c) for c in names if c not in key)
    chosen = key_columns + set_columns
    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in chosen])
    if isinstance(rows, pa.Table):
        data = rows.select([c.name for c in chosen]).cast(schema)
    else:
        data = pa.Table.from_pylist([dict(r) for r in rows], schema=schema)
    return RowChanges(key=key_columns, columns=set_columns, data=data)
