"""The Google Cloud warehouse: BigQuery through google-cloud-bigquery.

SQL arrives as the library writes it everywhere: BigQuery Standard SQL, ``@name``
parameters, and bare table names. Before running, every table reference that is not a
CTE gets qualified to ``project.dataset.table`` with sqlglot (views need qualified names,
and the job then does not depend on a default dataset).

Rows are written with load jobs of Parquet made from Arrow, never the streaming API:
streamed rows sit in a buffer that DML cannot update for a while, and the tables here are
updated later. ``query_arrow`` reads through the BigQuery Storage Read API when
google-cloud-bigquery-storage is installed (it is no dependency of this package), else
through the REST API's pages.

With an API endpoint (the ``api_endpoint`` argument, else ``BIGQUERY_EMULATOR_HOST``), the
client talks to that BigQuery-compatible server instead, with anonymous credentials: how
the tests run this adapter against a local server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.cloud import bigquery
from google.cloud.bigquery.format_options import ParquetOptions
from google.cloud.bigquery.table import RowIterator
from sqlglot import exp

from attribution.adapters.google_cloud.google_errors import transient_errors
from attribution.errors import TransientError
from attribution.ports import Row
from attribution.warehouse.tables import (
    Column,
    RowError,
    TableSpec,
    conformed,
    row_changes,
    table_spec,
    to_arrow,
)

QueryParameter = bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter

EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STAGING_LIFETIME = timedelta(hours=1)
_Read = TypeVar("_Read")

# --------------------------------------------------------------------------- SQL text


def _with_clause(node: exp.Expr) -> exp.With | None:
    found = node.args.get("with_") or node.args.get("with")
    return found if isinstance(found, exp.With) else None


def _cte_names(ctes: Sequence[exp.Expr]) -> set[str]:
    return {cte.alias_or_name.lower() for cte in ctes}


def is_cte_reference(table: exp.Table) -> bool:
    """True when the bare name ``table`` refers to a CTE visible where it is used.

    A CTE sees the CTEs before it (all of them, itself included, under RECURSIVE); the
    body of the statement sees every CTE of its WITH clause; nested WITH clauses count.
    """
    if table.args.get("db") is not None or table.args.get("catalog") is not None:
        return False
    name = table.name.lower()
    child: exp.Expr = table
    node = table.parent
    while node is not None:
        visible: set[str] = set()
        if isinstance(node, exp.With):
            if isinstance(child, exp.CTE):
                ctes = list(node.expressions)
                if node.args.get("recursive"):
                    visible = _cte_names(ctes)
                else:
                    position = next(i for i, cte in enumerate(ctes) if cte is child)
                    visible = _cte_names(ctes[:position])
        else:
            with_clause = _with_clause(node)
            if with_clause is not None and with_clause is not child:
                visible = _cte_names(list(with_clause.expressions))
        if name in visible:
            return True
        child, node = node, node.parent
    return False


def _qualify_statement(tree: exp.Expr, project: str, dataset: str) -> None:
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier) or not table.name:
            continue  # table functions and the like
        if table.args.get("db") is not None:
            continue  # already dataset.table or project.dataset.table: kept as written
        if is_cte_reference(table):
            continue
        table.set("db", exp.to_identifier(dataset))
        table.set("catalog", exp.to_identifier(project))


@lru_cache(maxsize=512)
def qualify_tables(sql_text: str, project: str, dataset: str) -> str:
    """Rewrite every bare, non-CTE table name to ``project.dataset.table``."""
    statements: list[str] = []
    for tree in sqlglot.parse(sql_text, read="bigquery"):
        if tree is None:
            continue
        _qualify_statement(tree, project, dataset)
        statements.append(tree.sql(dialect="bigquery"))
    return ";\n".join(statements)


def parameter_names(sql_text: str) -> set[str]:
    """The ``@name`` query parameters a statement uses (``@@`` system variables aside)."""
    return set(re.findall(r"(?<![@\w])@([A-Za-z_]\w*)", sql_text))


def _scalar_type(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, Decimal):
        return "NUMERIC"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bytes):
        return "BYTES"
    if isinstance(value, datetime):
        return "TIMESTAMP"
    if isinstance(value, date):
        return "DATE"
    raise TypeError(f"query parameter @{name}: no BigQuery type for {type(value).__name__}")


def _scalar_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def query_parameter(name: str, value: Any) -> QueryParameter:
    """A typed BigQuery parameter from a Python value; ``None`` is a STRING NULL."""
    if value is None:
        return bigquery.ScalarQueryParameter(name, "STRING", None)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        kinds = {_scalar_type(name, item) for item in items if item is not None}
        if len(kinds) > 1:
            raise TypeError(f"query parameter @{name}: mixed element types {sorted(kinds)}")
        kind = kinds.pop() if kinds else "STRING"
        return bigquery.ArrayQueryParameter(name, kind, [_scalar_value(v) for v in items])
    return bigquery.ScalarQueryParameter(name, _scalar_type(name, value), _scalar_value(value))


def query_parameters(sql_text: str, params: Mapping[str, Any] | None) -> list[QueryParameter]:
    """Typed parameters for the names ``sql_text`` uses (BigQuery wants no strays)."""
    if not params:
        return []
    used = parameter_names(sql_text)
    return [query_parameter(name, value) for name, value in params.items() if name in used]


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain column name")
    return f"`{name}`"


def merge_new_rows_sql(
    target: str,
    staging: str,
    columns: Sequence[str],
    key: Sequence[str],
    scope: Sequence[str] = (),
) -> str:
    """One MERGE inserting the staged rows whose key the target lacks (once per key).

    ``scope`` columns bound the existing rows a duplicate can be among: they are compared
    with the parameters ``@scope_0``, ``@scope_1``... (which also prunes partitions).
    Columns are named, not ``INSERT ROW``: that one is positional, and a migrated table's
    column order may differ from the schema file's.
    """
    if not key:
        raise ValueError("insert_new_rows needs at least one key column")
    names = ", ".join(_identifier(c) for c in columns)
    match = " AND ".join(
        [f"target.{_identifier(k)} = incoming.{_identifier(k)}" for k in key]
        + [f"target.{_identifier(c)} = @scope_{i}" for i, c in enumerate(scope)]
    )
    return (
        f"MERGE `{target}` AS target\n"
        f"USING {_deduplicated(staging, key)} AS incoming\n"
        f"ON {match}\n"
        f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({names})"
    )


def _deduplicated(staging: str, key: Sequence[str]) -> str:
    """The staged rows, one per key (BigQuery refuses DML matching a target row twice)."""
    partition = ", ".join(_identifier(k) for k in key)
    return (
        f"(\n"
        f"  SELECT * EXCEPT (_attribution_row)\n"
        f"  FROM (\n"
        f"    SELECT *, ROW_NUMBER() OVER (PARTITION BY {partition}) AS _attribution_row\n"
        f"    FROM `{staging}`\n"
        f"  )\n"
        f"  WHERE _attribution_row = 1\n"
        f")"
    )


def target_condition(condition: str, alias: str = "target") -> str:
    """A boolean BigQuery expression over the target's columns, its columns qualified."""
    tree = sqlglot.condition(condition, dialect="bigquery")
    for column in tree.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(alias))
    return tree.sql(dialect="bigquery")


def update_rows_sql(
    target: str, staging: str, columns: Sequence[str], key: Sequence[str], only_where: str
) -> str:
    """One UPDATE setting ``columns`` from the staged rows, where ``only_where`` still holds
    at write time (a condition over the target's columns)."""
    if not key:
        raise ValueError("update_rows needs at least one key column")
    if not columns:
        raise ValueError("update_rows needs at least one column to set")
    assignments = ", ".join(f"{_identifier(c)} = changes.{_identifier(c)}" for c in columns)
    match = " AND ".join(f"target.{_identifier(k)} = changes.{_identifier(k)}" for k in key)
    return (
        f"UPDATE `{target}` AS target\n"
        f"SET {assignments}\n"
        f"FROM {_deduplicated(staging, key)} AS changes\n"
        f"WHERE {match} AND ({target_condition(only_where)})"
    )


# --------------------------------------------------------------------------- rows


def load_payload(columns: Sequence[Column], rows: pa.Table) -> bytes:
    """Rows as a Parquet file for a load job, typed as exactly ``columns``: a required
    column a required field, so the file's schema is the table's."""
    buffer = io.BytesIO()
    pq.write_table(conformed(columns, rows), buffer)
    return buffer.getvalue()


def schema_fields(columns: TableSpec | Sequence[Column]) -> list[bigquery.SchemaField]:
    """BigQuery schema fields for a table (or some of its columns)."""
    chosen = columns.columns if isinstance(columns, TableSpec) else columns
    return [
        bigquery.SchemaField(c.name, c.type, mode=c.mode, description=c.description)
        if c.description
        else bigquery.SchemaField(c.name, c.type, mode=c.mode)
        for c in chosen
    ]


# --------------------------------------------------------------------------- adapter

_clients: dict[tuple[str | None, str, str | None], bigquery.Client] = {}
_clients_lock = threading.Lock()


def emulator_endpoint(value: str | None) -> str | None:
    """An API endpoint URL from ``http://host:port`` or a bare ``host:port``; None if empty."""
    if not value:
        return None
    return value if "://" in value else f"http://{value}"


def bigquery_client(
    project: str | None, location: str, api_endpoint: str | None = None
) -> bigquery.Client:
    """The process's BigQuery client for ``project`` and ``location`` (and the endpoint)."""
    key = (project, location, api_endpoint)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if api_endpoint:
                from google.auth.credentials import AnonymousCredentials

                client = bigquery.Client(
                    project=project or "local-emulator",
                    location=location,
                    credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                    client_options=ClientOptions(api_endpoint=api_endpoint),
                )
            else:
                client = bigquery.Client(project=project, location=location)
            _clients[key] = client
        return client


@cache
def storage_read_api_installed() -> bool:
    return importlib.util.find_spec("google.cloud.bigquery_storage") is not None


def _is_concurrent_update(exc: BaseException) -> bool:
    return isinstance(exc, api_exceptions.BadRequest) and "concurrent update" in str(exc).lower()


class BigQueryWarehouse:
    """A ``Warehouse`` over one BigQuery dataset."""

    def __init__(
        self,
        project: str | None,
        dataset: str,
        location: str = "US",
        *,
        job_timeout: float = 300.0,
        api_endpoint: str | None = None,
    ) -> None:
        self.project = project
        self.dataset = dataset
        self.location = location
        self.job_timeout = job_timeout
        self.api_endpoint = emulator_endpoint(api_endpoint)

    @property
    def endpoint(self) -> str | None:
        """The BigQuery-compatible server talked to instead of BigQuery, if any."""
        return self.api_endpoint or emulator_endpoint(os.environ.get(EMULATOR_ENV))

    @property
    def client(self) -> bigquery.Client:
        return bigquery_client(self.project, self.location, self.endpoint)

    @property
    def project_id(self) -> str:
        return self.project or str(self.client.project)

    def table_id(self, table: str) -> str:
        return f"{self.project_id}.{self.dataset}.{table}"

    def qualify(self, sql_text: str) -> str:
        return qualify_tables(sql_text, self.project_id, self.dataset)

    def _run(
        self,
        sql_text: str,
        params: Mapping[str, Any] | None,
        read: Callable[[RowIterator], _Read],
    ) -> tuple[bigquery.QueryJob, _Read]:
        """Run the job and ``read`` its result, both under the same error handling."""
        text = self.qualify(sql_text)
        config = bigquery.QueryJobConfig(query_parameters=query_parameters(text, params))
        with transient_errors("BigQuery query"):
            try:
                job = self.client.query(text, job_config=config, location=self.location)
                answer = read(job.result(timeout=self.job_timeout))
            except api_exceptions.BadRequest as exc:
                if _is_concurrent_update(exc):  # DML serialization conflict: retry later
                    raise TransientError(f"BigQuery query: {exc}") from exc
                raise
        return job, answer

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self._run(sql, params, _dicts)[1]

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        # The Storage Read API client would talk to BigQuery itself, never to an endpoint.
        storage = self.endpoint is None and storage_read_api_installed()
        return self._run(sql, params, lambda rows: _arrow(rows, storage))[1]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, params, _ignored)

    def table_columns(self, table: str) -> list[str] | None:
        with transient_errors(f"reading table {table}"):
            try:
                found = self.client.get_table(self.table_id(table))
            except api_exceptions.NotFound:
                return None
        return [field.name for field in found.schema]

    def required_columns(self, table: str) -> set[str]:
        with transient_errors(f"reading table {table}"):
            try:
                found = self.client.get_table(self.table_id(table))
            except api_exceptions.NotFound:
                return set()
        return {field.name for field in found.schema if field.mode == "REQUIRED"}

    def create_table(self, table: str) -> None:
        spec = table_spec(table)
        definition = bigquery.Table(self.table_id(table), schema=schema_fields(spec))
        if spec.partition_field:
            definition.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=spec.partition_field
            )
        if spec.clustering:
            definition.clustering_fields = list(spec.clustering)
        with transient_errors(f"creating table {table}"):
            self.client.create_table(definition, exists_ok=True)

    def ensure_dataset(self) -> None:
        """Create the dataset when missing (Terraform normally does)."""
        dataset = bigquery.Dataset(f"{self.project_id}.{self.dataset}")
        dataset.location = self.location
        with transient_errors(f"creating dataset {self.dataset}"):
            self.client.create_dataset(dataset, exists_ok=True)

    def _load(self, payload: bytes, destination: str) -> None:
        parquet = ParquetOptions()  # type: ignore[no-untyped-call]
        parquet.enable_list_inference = True  # a Parquet LIST is a REPEATED column
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
        )
        config.parquet_options = parquet
        with transient_errors(f"loading rows into {destination}"):
            job = self.client.load_table_from_file(
                io.BytesIO(payload), destination, job_config=config, location=self.location
            )
            job.result(timeout=self.job_timeout)

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> None:
        spec = table_spec(table)
        data = _table(spec, rows)
        if not data.num_rows:
            return
        # The destination's own columns: a table made before a migration added one takes the
        # rows still, as long as they hold nothing for the columns it lacks.
        present = set(self.table_columns(table) or spec.column_names)  # absent: load says
        columns = [c for c in spec.columns if c.name in present]
        for missing in sorted(set(data.column_names) - present):
            if data.column(missing).null_count != data.num_rows:
                raise RowError(f"{missing}: not a column of {table} yet (run the migrations)")
        kept = data.select([c.name for c in columns if c.name in data.column_names])
        self._load(load_payload(columns, kept), self.table_id(table))

    def _staged(self, table: str, columns: Sequence[Column], rows: pa.Table) -> str:
        """Load ``rows`` into a new, expiring staging table; return its id."""
        payload = load_payload(columns, rows)
        staging_id = self.table_id(f"staging_{table}_{uuid.uuid4().hex}")
        staging = bigquery.Table(staging_id, schema=schema_fields(columns))
        staging.expires = datetime.now(UTC) + _STAGING_LIFETIME
        with transient_errors(f"creating staging table for {table}"):
            self.client.create_table(staging)
        try:
            self._load(payload, staging_id)
        except BaseException:
            self._drop(staging_id)
            raise
        return staging_id

    def _drop(self, staging_id: str) -> None:
        # The staging table expires by itself: a failed drop must not mask the outcome.
        with contextlib.suppress(Exception):
            self.client.delete_table(staging_id, not_found_ok=True)

    def insert_new_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        key: Sequence[str],
        *,
        scope: Mapping[str, Any] | None = None,
        unique_keys: bool = False,
    ) -> int:
        spec = table_spec(table)
        scope = dict(scope or {})
        data = _table(spec, rows)
        if not data.num_rows:
            return 0
        staging_id = self._staged(table, spec.columns, data)
        try:
            job, _ = self._run(
                merge_new_rows_sql(
                    self.table_id(table), staging_id, spec.column_names, key, list(scope)
                ),
                {f"scope_{i}": value for i, value in enumerate(scope.values())},
                _ignored,
            )
        finally:
            self._drop(staging_id)
        return int(job.num_dml_affected_rows or 0)

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
        staged = [
            replace(c, mode="REPEATED" if c.repeated else "NULLABLE")
            for c in changes.key + changes.columns
        ]
        staging_id = self._staged(table, staged, changes.data)
        try:
            job, _ = self._run(
                update_rows_sql(
                    self.table_id(table), staging_id, changes.set_names, key, only_where
                ),
                params,
                _ignored,
            )
        finally:
            self._drop(staging_id)
        return int(job.num_dml_affected_rows or 0)


def _table(spec: TableSpec, rows: Sequence[Mapping[str, Any]] | pa.Table) -> pa.Table:
    return rows if isinstance(rows, pa.Table) else to_arrow(spec, rows)


def _dicts(rows: RowIterator) -> list[Row]:
    return [dict(row.items()) for row in rows]


def _arrow(rows: RowIterator, storage_read_api: bool) -> pa.Table:
    return rows.to_arrow(create_bqstorage_client=storage_read_api)


def _ignored(rows: RowIterator) -> None:
    """A statement's result nobody reads (DML, DDL, a script): nothing is fetched."""
