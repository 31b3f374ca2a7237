"""BigQueryWarehouse without a server: table qualification, parameter typing, load payloads,
and the calls it makes (through a recording stand-in for the client)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery
from sqlglot import exp

from attribution.adapters.google_cloud import bigquery_warehouse as bqw
from attribution.adapters.google_cloud.bigquery_warehouse import (
    BigQueryWarehouse,
    load_payload,
    merge_new_rows_sql,
    parameter_names,
    qualify_tables,
    query_parameter,
    query_parameters,
    schema_fields,
    target_condition,
    update_rows_sql,
)
from attribution.errors import TransientError
from attribution.warehouse import sql_text
from attribution.warehouse.migrations import migration_files, view_files
from attribution.warehouse.tables import RowError, table_spec, to_arrow

PROJECT = "proj"
DATASET = "nba_predictions"
SQL_DIR = Path(sql_text.__file__).resolve().parent / "sql"
assert list(SQL_DIR.glob("*.sql")), SQL_DIR  # an empty folder would test nothing


def api_error(kind: Callable[..., Exception], message: str, **details: Any) -> Exception:
    """A google.api_core error, as the client library would raise it."""
    return kind(message, **details)


def tables_in(sql_text: str) -> list[tuple[str, str, str]]:
    """(catalog, db, name) of every table reference, in document order."""
    found: list[tuple[str, str, str]] = []
    for tree in sqlglot.parse(sql_text, read="bigquery"):
        assert tree is not None
        found.extend((t.catalog, t.db, t.name) for t in tree.find_all(exp.Table))
    return found


def q(sql_text: str) -> str:
    return qualify_tables(sql_text, PROJECT, DATASET)


def full(name: str) -> tuple[str, str, str]:
    return (PROJECT, DATASET, name)


# --------------------------------------------------------------------------- qualification


def test_bare_table_gets_project_and_dataset_and_parameters_survive() -> None:
    out = q("SELECT card_json FROM model_cards WHERE card_id = @card_id")
    assert out == (
        "SELECT card_json FROM proj.nba_predictions.model_cards WHERE card_id = @card_id"
    )


def test_ctes_are_not_qualified_but_the_tables_they_read_are() -> None:
    out = q(
        "WITH recent AS (SELECT * FROM player_prop_predictions WHERE game_date = @d), "
        "graded AS (SELECT * FROM recent JOIN player_game_results USING (player_lookup)) "
        "SELECT * FROM graded"
    )
    assert tables_in(out) == [
        ("", "", "graded"),
        full("player_prop_predictions"),
        ("", "", "recent"),
        full("player_game_results"),
    ]


def test_a_cte_only_sees_the_ctes_before_it() -> None:
    # Inside ``a``, ``b`` is not yet defined: it is the dataset's table ``b``.
    out = q("WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a, b")
    assert sorted(tables_in(out)) == sorted([("", "", "a"), ("", "", "b"), full("b")])


def test_recursive_cte_references_itself() -> None:
    out = q(
        "WITH RECURSIVE days AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM days WHERE n < 3) "
        "SELECT * FROM days"
    )
    assert tables_in(out) == [("", "", "days"), ("", "", "days")]


def test_cte_names_do_not_leak_out_of_their_subquery() -> None:
    out = q("SELECT * FROM (WITH q AS (SELECT 1 AS x) SELECT * FROM q) AS s CROSS JOIN q")
    assert sorted(tables_in(out)) == sorted([("", "", "q"), full("q")])


def test_cte_names_match_case_insensitively() -> None:
    out = q("WITH Recent AS (SELECT 1 AS x) SELECT * FROM recent")
    assert tables_in(out) == [("", "", "recent")]


def test_already_qualified_names_are_kept() -> None:
    out = q(
        "SELECT * FROM other_dataset.model_cards AS a "
        "JOIN `other-project.ds.model_cards` AS b USING (card_id) "
        "JOIN `p2`.`d2`.`t2` USING (card_id)"
    )
    assert tables_in(out) == [
        ("", "other_dataset", "model_cards"),
        ("other-project", "ds", "model_cards"),
        ("p2", "d2", "t2"),
    ]


def test_unnest_and_array_paths_are_not_tables_of_the_dataset() -> None:
    out = q("SELECT f FROM model_cards AS c, c.feature_names AS f, UNNEST(@ids) AS i")
    assert tables_in(out) == [full("model_cards")]
    assert "UNNEST(c.feature_names) AS f" in out
    assert "UNNEST(@ids) AS i" in out


def test_project_ids_with_hyphens_are_quoted() -> None:
    out = qualify_tables("SELECT 1 FROM model_cards", "my-project-123", DATASET)
    assert out == "SELECT 1 FROM `my-project-123`.nba_predictions.model_cards"
    assert tables_in(out) == [("my-project-123", DATASET, "model_cards")]


def test_the_view_is_created_qualified_and_reads_qualified_tables() -> None:
    [view] = [p for p in view_files() if p.stem == "prediction_accuracy"]
    out = q(view.read_text())
    tree = sqlglot.parse_one(out, read="bigquery")
    assert isinstance(tree, exp.Create)
    assert tree.args["kind"] == "VIEW"
    assert tree.args.get("replace")
    assert tables_in(out) == [
        full("prediction_accuracy"),
        full("player_game_results"),
        full("player_prop_predictions"),
        full("challenger_predictions"),
    ]
    assert "AS p" in out and "AS r" in out  # aliases kept, so p.* and r.x still resolve


def test_alter_table_migrations_keep_every_action() -> None:
    for path in migration_files():
        out = q(path.read_text())
        statements = [s for s in sqlglot.parse(out, read="bigquery") if s is not None]
        originals = [s for s in sqlglot.parse(path.read_text(), read="bigquery") if s is not None]
        assert len(statements) == len(originals) >= 1
        for statement, original in zip(statements, originals, strict=True):
            assert isinstance(statement, exp.Alter)
            assert statement.this.catalog == PROJECT and statement.this.db == DATASET
            assert len(statement.args["actions"]) == len(original.args["actions"])
        assert out.count("ADD COLUMN IF NOT EXISTS") == path.read_text().count(
            "ADD COLUMN IF NOT EXISTS"
        )


def test_dml_and_ddl_targets_are_qualified() -> None:
    script = (
        "INSERT INTO model_deployments (deployment_id) SELECT deployment_id FROM staging_rows;\n"
        "UPDATE prediction_execution_log SET status = @s WHERE batch_id = @b;\n"
        "DELETE FROM prediction_rejects WHERE batch_id = @b;\n"
        "MERGE model_cards AS t USING incoming AS s ON t.card_id = s.card_id "
        "WHEN NOT MATCHED THEN INSERT ROW;\n"
        "DROP TABLE IF EXISTS staging_rows"
    )
    out = q(script)
    assert tables_in(out) == [
        full("model_deployments"),
        full("staging_rows"),
        full("prediction_execution_log"),
        full("prediction_rejects"),
        full("model_cards"),
        full("incoming"),
        full("staging_rows"),
    ]
    assert len(sqlglot.parse(out, read="bigquery")) == 5
    assert "INSERT ROW" in out


def test_merge_for_new_rows_is_kept_as_generated() -> None:
    merge = merge_new_rows_sql(
        "proj.nba_predictions.model_cards",
        "proj.nba_predictions.staging_model_cards_1",
        ["card_id", "system_id"],
        ["card_id"],
        ["system_id"],
    )
    out = q(merge)
    tree = sqlglot.parse_one(out, read="bigquery")
    assert isinstance(tree, exp.Merge)
    assert tables_in(out) == [
        full("model_cards"),
        full("staging_model_cards_1"),
    ]
    assert "target.`card_id` = incoming.`card_id`" in merge
    assert "target.`system_id` = @scope_0" in merge
    assert "PARTITION BY `card_id`" in merge
    assert "INSERT (`card_id`, `system_id`) VALUES (`card_id`, `system_id`)" in merge
    assert parameter_names(out) == {"scope_0"}


def test_merge_refuses_odd_column_names_and_no_key() -> None:
    with pytest.raises(ValueError, match="plain column name"):
        merge_new_rows_sql("p.d.t", "p.d.s", ["card_id; DROP TABLE x"], ["card_id"])
    with pytest.raises(ValueError, match="key"):
        merge_new_rows_sql("p.d.t", "p.d.s", ["card_id"], [])


def test_update_from_staged_changes_is_guarded_and_qualified() -> None:
    update = update_rows_sql(
        "proj.nba_predictions.player_prop_predictions",
        "proj.nba_predictions.staging_player_prop_predictions_1",
        ["model_card_id", "attribution_method"],
        ["prediction_id"],
        "attribution_method IS NULL OR attribution_method = 'ledger_inferred'",
    )
    out = q(update)
    tree = sqlglot.parse_one(out, read="bigquery")
    assert isinstance(tree, exp.Update)
    assert tables_in(out) == [
        full("player_prop_predictions"),
        full("staging_player_prop_predictions_1"),
    ]
    assert "SET `model_card_id` = changes.`model_card_id`" in update
    assert "target.`prediction_id` = changes.`prediction_id`" in update
    assert (
        "(target.attribution_method IS NULL OR target.attribution_method = 'ledger_inferred')"
        in update
    )
    with pytest.raises(ValueError, match="column to set"):
        update_rows_sql("p.d.t", "p.d.s", [], ["prediction_id"], "TRUE")


def test_guard_columns_are_qualified_to_the_target_only_when_bare() -> None:
    assert target_condition("a = 1 AND changes.b IS NULL") == ("target.a = 1 AND changes.b IS NULL")


@pytest.mark.parametrize("path", sorted(SQL_DIR.glob("*.sql")), ids=lambda p: p.stem)
def test_every_library_query_qualifies_to_dataset_tables(path: Path) -> None:
    text = path.read_text()
    out = q(text)
    ctes = {
        cte.alias_or_name.lower()
        for tree in sqlglot.parse(text, read="bigquery")
        if tree is not None
        for cte in tree.find_all(exp.CTE)
    }
    for catalog, db, name in tables_in(out):
        assert (catalog, db) == (PROJECT, DATASET) or name.lower() in ctes, (name, out)
    assert parameter_names(out) == parameter_names(text)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("catboost_v9", "STRING"),
        (True, "BOOL"),
        (False, "BOOL"),
        (7, "INT64"),
        (4.12, "FLOAT64"),
        (Decimal("1.5"), "NUMERIC"),
        (b"\x00", "BYTES"),
        (datetime(2026, 2, 2, 18, 0, tzinfo=UTC), "TIMESTAMP"),
        (date(2026, 2, 2), "DATE"),
    ],
)
def test_scalar_parameters_are_typed_from_the_python_value(value: Any, kind: str) -> None:
    param = query_parameter("p", value)
    assert isinstance(param, bigquery.ScalarQueryParameter)
    assert (param.name, param.type_, param.value) == ("p", kind, value)


def test_none_is_a_string_null() -> None:
    param = query_parameter("system_id", None)
    assert isinstance(param, bigquery.ScalarQueryParameter)
    assert (param.type_, param.value) == ("STRING", None)
    assert param.to_api_repr()["parameterType"] == {"type": "STRING"}
    assert param.to_api_repr()["parameterValue"].get("value") is None


def test_naive_datetimes_are_taken_as_utc_and_aware_ones_kept() -> None:
    naive = query_parameter("t", datetime(2026, 2, 2, 18, 0))
    assert isinstance(naive, bigquery.ScalarQueryParameter)
    assert naive.value == datetime(2026, 2, 2, 18, 0, tzinfo=UTC)
    eastern = datetime(2026, 2, 2, 13, 0, tzinfo=timezone(timedelta(hours=-5)))
    aware = query_parameter("t", eastern)
    assert isinstance(aware, bigquery.ScalarQueryParameter)
    assert aware.to_api_repr()["parameterValue"]["value"].startswith("2026-02-02 18:00:00")


def test_lists_become_typed_arrays() -> None:
    param = query_parameter("ids", ["a", "b"])
    assert isinstance(param, bigquery.ArrayQueryParameter)
    assert (param.array_type, param.values) == ("STRING", ["a", "b"])
    dates = query_parameter("days", (date(2026, 2, 1), date(2026, 2, 2)))
    assert isinstance(dates, bigquery.ArrayQueryParameter)
    assert dates.array_type == "DATE"
    empty = query_parameter("none", [])
    assert isinstance(empty, bigquery.ArrayQueryParameter)
    assert (empty.array_type, empty.values) == ("STRING", [])
    flags = query_parameter("flags", [True, False])
    assert isinstance(flags, bigquery.ArrayQueryParameter)
    assert flags.array_type == "BOOL"


def test_untypable_values_are_refused_with_the_parameter_name() -> None:
    with pytest.raises(TypeError, match="@mixed"):
        query_parameter("mixed", [1, "a"])
    with pytest.raises(TypeError, match="@odd"):
        query_parameter("odd", object())
    with pytest.raises(TypeError, match="@nested"):
        query_parameter("nested", {"a": 1})


def test_only_parameters_the_sql_uses_are_sent() -> None:
    text = "SELECT @@project_id, x FROM t WHERE a = @a AND b IN UNNEST(@bs) AND c = 'x@y'"
    assert parameter_names(text) == {"a", "bs"}
    params = query_parameters(text, {"a": 1, "bs": ["p"], "unused": "z", "project_id": "n"})
    assert [p.name for p in params] == ["a", "bs"]
    assert query_parameters(text, None) == []


# --------------------------------------------------------------------------- rows and schema


def parquet_rows(payload: bytes) -> list[dict[str, Any]]:
    return pq.read_table(io.BytesIO(payload)).to_pylist()  # type: ignore[no-any-return]


def test_load_payload_is_parquet_typed_as_the_columns() -> None:
    spec = table_spec("schema_migrations")
    rows: list[dict[str, Any]] = [
        {"migration_id": "0001_a", "applied_at": datetime(2026, 2, 2, 18, 0, tzinfo=UTC)},
        {"migration_id": "0002_b", "applied_at": datetime(2026, 2, 3, tzinfo=UTC)},
    ]
    payload = load_payload(spec.columns, to_arrow(spec, rows))
    assert pq.read_schema(io.BytesIO(payload)).remove_metadata() == spec.arrow_schema
    assert parquet_rows(payload) == rows


def test_load_payload_fills_absent_columns_and_empty_lists() -> None:
    spec = table_spec("model_cards")
    given = pa.table({"card_id": ["c1"], "feature_names": pa.array([None], pa.list_(pa.string()))})
    optional = [c for c in spec.columns if not c.required and c.name != "card_id"]
    [row] = parquet_rows(load_payload([spec.column("card_id"), *optional], given))
    assert row["card_id"] == "c1"
    assert row["feature_names"] == []  # BigQuery has no NULL arrays
    assert row["system_id"] is None  # absent: NULL


def test_load_payload_refuses_a_null_required_value_and_unknown_columns() -> None:
    spec = table_spec("schema_migrations")
    with pytest.raises(RowError, match="migration_id: required"):
        load_payload(spec.columns, pa.table({"migration_id": pa.array([None], pa.string())}))
    with pytest.raises(RowError, match="not columns of the table: nope"):
        load_payload(spec.columns, pa.table({"migration_id": ["m"], "nope": [1]}))


def test_schema_fields_follow_the_schema_file() -> None:
    spec = table_spec("model_cards")
    fields = {f.name: f for f in schema_fields(spec)}
    assert list(fields) == spec.column_names
    assert fields["card_id"].mode == "REQUIRED"
    assert fields["feature_names"].mode == "REPEATED"
    assert fields["trained_at"].field_type == "TIMESTAMP"
    assert fields["card_id"].description


# --------------------------------------------------------------------------- the adapter's calls


class FakeRows(list[dict[str, Any]]):
    """A query's result: iterated as rows, or read as Arrow (recording how)."""

    storage_read_api: list[bool] = []

    def to_arrow(self, create_bqstorage_client: bool) -> pa.Table:
        self.storage_read_api.append(create_bqstorage_client)
        return pa.Table.from_pylist(list(self))


@dataclass
class FakeJob:
    rows: list[dict[str, Any]] = field(default_factory=list)
    num_dml_affected_rows: int | None = None
    error: Exception | None = None

    def result(self, timeout: float | None = None) -> FakeRows:
        if self.error is not None:
            raise self.error
        return FakeRows(self.rows)


@dataclass
class FakeClient:
    """Records what the adapter asks BigQuery; answers from ``jobs`` in order."""

    project: str = PROJECT
    jobs: list[FakeJob] = field(default_factory=list)
    queries: list[tuple[str, list[Any]]] = field(default_factory=list)
    loads: list[tuple[str, bytes]] = field(default_factory=list)
    created: list[bigquery.Table] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    tables: dict[str, list[str]] = field(default_factory=dict)

    def query(self, text: str, job_config: Any, location: str) -> FakeJob:
        self.queries.append((text, list(job_config.query_parameters)))
        return self.jobs.pop(0) if self.jobs else FakeJob()

    def load_table_from_file(
        self, file_obj: Any, destination: str, job_config: Any, location: str
    ) -> FakeJob:
        assert job_config.source_format == "PARQUET"
        assert job_config.parquet_options.enable_list_inference
        assert job_config.write_disposition == "WRITE_APPEND"
        self.loads.append((destination, file_obj.read()))
        return FakeJob()

    def create_table(self, table: bigquery.Table, exists_ok: bool = False) -> bigquery.Table:
        self.created.append(table)
        return table

    def delete_table(self, table: str, not_found_ok: bool = False) -> None:
        self.deleted.append(table)

    def get_table(self, table: str) -> Any:
        if table not in self.tables:
            raise api_error(api_exceptions.NotFound, f"Not found: Table {table}")
        schema = [bigquery.SchemaField(name, "STRING") for name in self.tables[table]]
        return bigquery.Table(table, schema=schema)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    fake = FakeClient()
    monkeypatch.setattr(bqw, "bigquery_client", lambda project, location, api_endpoint=None: fake)
    return fake


@pytest.fixture
def warehouse(client: FakeClient) -> BigQueryWarehouse:
    return BigQueryWarehouse(PROJECT, DATASET)


def test_query_runs_qualified_sql_with_typed_parameters(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    client.jobs.append(FakeJob(rows=[{"card_json": "{}"}]))
    rows = warehouse.query(
        "SELECT card_json FROM model_cards WHERE card_id = @card_id", {"card_id": "abc"}
    )
    assert rows == [{"card_json": "{}"}]
    [(text, params)] = client.queries
    assert "FROM proj.nba_predictions.model_cards" in text
    assert [(p.name, p.type_, p.value) for p in params] == [("card_id", "STRING", "abc")]


def test_query_arrow_reads_through_the_storage_api_only_when_installed_and_no_endpoint(
    warehouse: BigQueryWarehouse, client: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeRows, "storage_read_api", [])
    monkeypatch.delenv(bqw.EMULATOR_ENV, raising=False)
    for installed in (False, True):
        monkeypatch.setattr(
            bqw, "storage_read_api_installed", lambda installed=installed: installed
        )
        client.jobs.append(FakeJob(rows=[{"card_id": "c1"}]))
        assert warehouse.query_arrow("SELECT card_id FROM model_cards").to_pylist() == [
            {"card_id": "c1"}
        ]
    monkeypatch.setenv(bqw.EMULATOR_ENV, "127.0.0.1:1")
    warehouse.query_arrow("SELECT 1")
    assert FakeRows.storage_read_api == [False, True, False]
    assert "FROM proj.nba_predictions.model_cards" in client.queries[0][0]


def test_table_columns_and_missing_tables(warehouse: BigQueryWarehouse, client: FakeClient) -> None:
    client.tables["proj.nba_predictions.model_cards"] = ["card_id", "system_id"]
    assert warehouse.table_columns("model_cards") == ["card_id", "system_id"]
    assert warehouse.table_columns("nope") is None


def test_create_table_partitions_and_clusters_from_the_table_options(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    warehouse.create_table("player_prop_predictions")
    warehouse.create_table("model_upload_rejects")
    predictions, rejects = client.created
    assert predictions.reference.table_id == "player_prop_predictions"
    assert predictions.time_partitioning is not None
    assert predictions.time_partitioning.field == "game_date"
    assert predictions.time_partitioning.type_ == "DAY"
    assert predictions.clustering_fields == ["system_id", "model_file_name"]
    assert [f.name for f in predictions.schema] == table_spec(
        "player_prop_predictions"
    ).column_names
    assert rejects.time_partitioning is None
    assert rejects.clustering_fields is None


def test_insert_rows_is_a_load_job_not_streaming(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    client.tables["proj.nba_predictions.schema_migrations"] = ["migration_id", "applied_at"]
    row = {"migration_id": "0001_a", "applied_at": datetime(2026, 2, 2, tzinfo=UTC)}
    warehouse.insert_rows("schema_migrations", [row])
    [(destination, payload)] = client.loads
    assert destination == "proj.nba_predictions.schema_migrations"
    assert parquet_rows(payload) == [row]
    warehouse.insert_rows("schema_migrations", [])
    assert len(client.loads) == 1


def test_insert_rows_writes_the_columns_the_destination_has(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    """A table made before a migration added a column takes rows that leave it empty, and
    refuses, by name, a row that holds a value for it."""
    client.tables["proj.nba_predictions.schema_migrations"] = ["migration_id"]
    warehouse.insert_rows("schema_migrations", [{"migration_id": "0001_a", "applied_at": None}])
    [(_, payload)] = client.loads
    assert parquet_rows(payload) == [{"migration_id": "0001_a"}]
    row = {"migration_id": "0002_b", "applied_at": datetime(2026, 2, 2, tzinfo=UTC)}
    with pytest.raises(RowError, match="applied_at: not a column of schema_migrations yet"):
        warehouse.insert_rows("schema_migrations", [row])
    assert len(client.loads) == 1


def test_insert_new_rows_stages_merges_counts_and_drops(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    client.jobs.append(FakeJob(num_dml_affected_rows=1))
    rows = [{"migration_id": "0001_a", "applied_at": datetime.now(UTC)}] * 2

    inserted = warehouse.insert_new_rows(
        "schema_migrations", rows, key=["migration_id"], scope={"migration_id": "0001_a"}
    )

    assert inserted == 1
    [staging] = client.created
    staging_id = f"{staging.project}.{staging.dataset_id}.{staging.table_id}"
    assert staging.table_id.startswith("staging_schema_migrations_")
    assert staging.expires is not None
    assert staging.expires - datetime.now(UTC) <= timedelta(hours=1)
    assert [destination for destination, _ in client.loads] == [staging_id]
    [(merge, params)] = client.queries
    assert merge.startswith("MERGE INTO `proj.nba_predictions.schema_migrations` AS target")
    assert staging_id in merge
    assert [(p.name, p.value) for p in params] == [("scope_0", "0001_a")]
    assert client.deleted == [staging_id]


def test_insert_new_rows_drops_the_staging_table_when_the_merge_fails(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    client.jobs.append(FakeJob(error=api_error(api_exceptions.BadRequest, "Unrecognized name: x")))
    with pytest.raises(api_exceptions.BadRequest):
        warehouse.insert_new_rows(
            "schema_migrations",
            [{"migration_id": "a", "applied_at": datetime.now(UTC)}],
            ["migration_id"],
        )
    assert len(client.deleted) == 1
    assert warehouse.insert_new_rows("schema_migrations", [], ["migration_id"]) == 0


def test_update_rows_stages_only_the_changed_columns(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    client.jobs.append(FakeJob(num_dml_affected_rows=2))
    changes = [
        {"prediction_id": "p1", "model_card_id": "c1", "attribution_method": "ledger_inferred"},
        {"prediction_id": "p2", "model_card_id": "c1", "attribution_method": "ledger_inferred"},
    ]

    updated = warehouse.update_rows(
        "player_prop_predictions",
        changes,
        key=["prediction_id"],
        only_where="attribution_method IS NULL",
    )

    assert updated == 2
    [staging] = client.created
    assert [(f.name, f.mode) for f in staging.schema] == [
        ("prediction_id", "NULLABLE"),
        ("model_card_id", "NULLABLE"),
        ("attribution_method", "NULLABLE"),
    ]
    [(_, payload)] = client.loads
    assert parquet_rows(payload) == changes
    [(update, params)] = client.queries
    assert update.startswith("UPDATE `proj.nba_predictions.player_prop_predictions` AS target SET")
    assert "target.attribution_method IS NULL" in update
    assert params == []
    assert len(client.deleted) == 1
    assert (
        warehouse.update_rows("player_prop_predictions", [], ["prediction_id"], only_where="TRUE")
        == 0
    )


@pytest.mark.parametrize(
    "error",
    [
        api_error(api_exceptions.ServiceUnavailable, "backend down"),
        api_error(api_exceptions.InternalServerError, "backendError"),
        api_error(api_exceptions.TooManyRequests, "slow down"),
        api_error(
            api_exceptions.Forbidden,
            "Exceeded rate limits",
            errors=[{"reason": "rateLimitExceeded", "message": "x"}],
        ),
        api_error(
            api_exceptions.BadRequest,
            "Could not serialize access to table t due to concurrent update",
        ),
    ],
    ids=["503", "500", "429", "403-rate-limit", "concurrent-update"],
)
def test_backend_unavailability_is_transient(
    warehouse: BigQueryWarehouse, client: FakeClient, error: Exception
) -> None:
    client.jobs.append(FakeJob(error=error))
    with pytest.raises(TransientError):
        warehouse.execute("DELETE FROM dead_letters WHERE TRUE")


@pytest.mark.parametrize(
    "error",
    [
        api_error(api_exceptions.BadRequest, "Syntax error"),
        api_error(api_exceptions.NotFound, "Not found: Table proj:nba_predictions.x"),
        api_error(api_exceptions.Forbidden, "Access Denied", errors=[{"reason": "accessDenied"}]),
    ],
    ids=["400", "404", "403-denied"],
)
def test_errors_about_the_request_are_raised_as_they_are(
    warehouse: BigQueryWarehouse, client: FakeClient, error: Exception
) -> None:
    client.jobs.append(FakeJob(error=error))
    with pytest.raises(type(error)):
        warehouse.query("SELECT 1 FROM x")


@pytest.mark.parametrize(
    ("given", "endpoint"),
    [
        (None, None),
        ("", None),
        ("127.0.0.1:9050", "http://127.0.0.1:9050"),
        ("http://localhost:9050", "http://localhost:9050"),
        ("https://bigquery.example:443", "https://bigquery.example:443"),
    ],
)
def test_emulator_endpoints(given: str | None, endpoint: str | None) -> None:
    assert bqw.emulator_endpoint(given) == endpoint


def test_an_endpoint_gets_a_client_of_its_own_with_anonymous_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.auth.credentials import AnonymousCredentials

    monkeypatch.setattr(bqw, "_clients", {})
    monkeypatch.delenv(bqw.EMULATOR_ENV, raising=False)
    explicit = BigQueryWarehouse(PROJECT, DATASET, api_endpoint="127.0.0.1:1")
    client = explicit.client
    assert client._connection.API_BASE_URL == "http://127.0.0.1:1"
    assert isinstance(client._credentials, AnonymousCredentials)
    assert client.project == PROJECT
    assert explicit.client is client  # one client per project, location and endpoint
    monkeypatch.setenv(bqw.EMULATOR_ENV, "127.0.0.1:2")
    from_env = BigQueryWarehouse(PROJECT, DATASET).client
    assert from_env._connection.API_BASE_URL == "http://127.0.0.1:2"
    assert explicit.client is client  # the argument wins over the environment
    assert BigQueryWarehouse(None, DATASET, api_endpoint="127.0.0.1:1").project_id == (
        "local-emulator"
    )


def test_project_defaults_to_the_clients(client: FakeClient) -> None:
    client.project = "from-adc"
    warehouse = BigQueryWarehouse(None, DATASET)
    assert warehouse.table_id("model_cards") == "from-adc.nba_predictions.model_cards"
    assert warehouse.qualify("SELECT 1 FROM t") == "SELECT 1 FROM `from-adc`.nba_predictions.t"
