"""Models as users train them, on BigQuery (local-bigquery, BigQuery's REST API on DuckDB).

Migration 0004 makes ``predicted_points`` nullable (``ALTER COLUMN ... DROP NOT NULL``)
and adds ``sportsbook`` and ``over_probability``: a dataset made by the old schema
(``predicted_points`` REQUIRED) must take an over/under classifier's rows after
``migrate``, and so must a fresh one. On such a dataset an embedded App whose warehouse
is the BigQuery adapter publishes two models through the bucket trigger, promotes them
and runs one batch each on the bus: a ``CatBoostRegressor(loss_function="Poisson")``
with categorical opponent and position, and an OVER/UNDER ``CatBoostClassifier``, with
two lines (a sportsbook each) for some players and missing numbers. Stored values must
be what the user's own class answers, the classifier's rows without points, and the
``prediction_accuracy`` view must grade every line against the player's one result.

Like the other BigQuery tests, these run against the server of the ``bigquery_emulator``
fixture: skipped when it cannot start, failed under CI=true.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from app_support import inline_batch, upload_model
from bigquery_server import bigquery_emulator, drop_dataset, new_dataset
from google.cloud import bigquery
from user_trained_models import (
    Kind,
    UserModel,
    facts_for,
    recommendation_for_points,
    recommendation_for_probability,
    results,
    slate,
    train,
    user_frame,
)

from attribution.adapters.embedded.inprocess_bus import InProcessBus
from attribution.adapters.google_cloud.bigquery_warehouse import BigQueryWarehouse, schema_fields
from attribution.batches.stamping import batch_key
from attribution.bootstrap import App, build_app, use_app
from attribution.config import Settings
from attribution.model_card.card import ModelCard, attribution_columns
from attribution.ports import Row
from attribution.verification.game_results import load_results
from attribution.warehouse.migrations import MigrationReport, migrate, migration_files
from attribution.warehouse.tables import table_spec

pytestmark = pytest.mark.emulator
__all__ = ["bigquery_emulator"]  # the server's fixture, used by the fixtures below

MIGRATION = "0004_model_interface"
# What 0004 adds, per table, and the column it relaxes: the old schema lacks the first
# and has the second REQUIRED.
ADDED_BY_0004 = {
    "player_prop_predictions": ("sportsbook", "over_probability"),
    "model_cards": ("prediction_type", "servable"),
}
RELAXED_BY_0004 = ("player_prop_predictions", "predicted_points")
POINTS_SYSTEM, OU_SYSTEM = "bq_points", "bq_ou"
POINTS_DAY, OU_DAY = date(2026, 3, 2), date(2026, 3, 3)
PLAYERS, TWO_LINES = 12, 4
PUSH_PLAYER, NO_RESULT_PLAYER = "player_0003", f"player_{PLAYERS - 1:04d}"


# --------------------------------------------------------------------------- datasets


def create_old_tables(warehouse: BigQueryWarehouse) -> None:
    """The two tables 0004 alters, as the schema before it made them: without the columns
    it adds, ``predicted_points`` REQUIRED; partitioning and clustering as today."""
    for name, added in ADDED_BY_0004.items():
        spec = table_spec(name)
        fields = [
            bigquery.SchemaField(f.name, f.field_type, mode="REQUIRED")
            if (name, f.name) == RELAXED_BY_0004
            else f
            for f in schema_fields([c for c in spec.columns if c.name not in added])
        ]
        table = bigquery.Table(warehouse.table_id(name), schema=fields)
        if spec.partition_field:
            table.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=spec.partition_field
            )
        table.clustering_fields = list(spec.clustering) or None
        warehouse.client.create_table(table)


def modes(warehouse: BigQueryWarehouse, name: str) -> dict[str, str]:
    table = warehouse.client.get_table(warehouse.table_id(name))
    return {f.name: f.mode for f in table.schema}


@pytest.fixture
def empty_bq(bigquery_emulator: str) -> Iterator[BigQueryWarehouse]:
    warehouse = new_dataset(bigquery_emulator, "u")
    yield warehouse
    drop_dataset(warehouse)


def old_prediction(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "prediction_id": f"old-{n}",
        "batch_id": "old-batch",
        "system_id": POINTS_SYSTEM,
        "game_date": date(2026, 1, 30),
        "player_lookup": f"player_{n:04d}",
        "line_value": 20.5 + n,
        "predicted_points": 22.0 + n,
        "edge": 1.5,
        "recommendation": "OVER",
        "created_at": datetime(2026, 1, 30, 18, 0, tzinfo=UTC),
    }
    return row | changes


def classifier_row(n: int) -> dict[str, Any]:
    return old_prediction(
        n,
        prediction_id=f"ou-{n}",
        predicted_points=None,
        edge=None,
        over_probability=0.61,
        sportsbook="fanduel",
    )


# --------------------------------------------------------------------------- migrations


def test_migration_0004_adds_the_columns_this_file_takes_for_the_old_schema() -> None:
    """The old schema below is derived from what 0004 says it changes."""
    (path,) = [p for p in migration_files() if p.stem == MIGRATION]
    text = path.read_text()
    for name, added in ADDED_BY_0004.items():
        statement = re.search(rf"ALTER TABLE {name}\b(.*?);", text, re.S)
        assert statement, name
        found = re.findall(r"ADD COLUMN IF NOT EXISTS (\w+)", statement.group(1))
        assert tuple(found) == added, name
    table, column = RELAXED_BY_0004
    # migrate relaxes it from the schema file, only where a table still refuses NULL: a
    # script would fail on a fresh dataset, whose column never had the constraint.
    assert "DROP NOT NULL" not in text
    assert table_spec(table).column(column).mode == "NULLABLE"


@dataclass
class Upgrade:
    """A dataset made by the old schema, holding old rows, then migrated."""

    bq: BigQueryWarehouse
    modes_before: dict[str, str]
    null_refused_before: str | None  # the error a NULL predicted_points got, if any
    report: MigrationReport


@pytest.fixture(scope="module")
def upgraded(bigquery_emulator: str) -> Iterator[Upgrade]:
    """Shared by the batch tests below, which write batches of their own on it."""
    bq = new_dataset(bigquery_emulator, "u")
    create_old_tables(bq)
    before = modes(bq, "player_prop_predictions")
    bq.insert_rows("player_prop_predictions", [old_prediction(0), old_prediction(1)])
    refused: str | None = None
    try:
        bq.execute(
            "INSERT INTO player_prop_predictions (prediction_id, batch_id, system_id, "
            "game_date, player_lookup, predicted_points, created_at) VALUES "
            "('x', 'b', 's', '2026-01-30', 'p', NULL, CURRENT_TIMESTAMP())"
        )
    except Exception as exc:  # a REQUIRED column refuses a NULL
        refused = str(exc)
    yield Upgrade(bq, before, refused, migrate(bq))
    drop_dataset(bq)


def test_a_table_made_by_the_old_schema_takes_a_null_predicted_points_after_migrate(
    upgraded: Upgrade,
) -> None:
    bq = upgraded.bq
    assert upgraded.modes_before["predicted_points"] == "REQUIRED"
    assert "over_probability" not in upgraded.modes_before
    assert upgraded.null_refused_before is not None
    assert "predicted_points" in upgraded.null_refused_before

    report = upgraded.report

    assert MIGRATION in report.applied
    assert "player_prop_predictions" not in report.created_tables
    after = modes(bq, "player_prop_predictions")
    assert after["predicted_points"] == "NULLABLE"
    assert after["sportsbook"] == after["over_probability"] == "NULLABLE"
    assert set(after) == set(table_spec("player_prop_predictions").column_names)
    assert set(modes(bq, "model_cards")) == set(table_spec("model_cards").column_names)
    # A classifier's row: by a load job (the adapter's insert) and by DML.
    bq.insert_rows("player_prop_predictions", [classifier_row(2)])
    bq.execute(
        "INSERT INTO player_prop_predictions (prediction_id, batch_id, system_id, game_date, "
        "player_lookup, line_value, predicted_points, over_probability, sportsbook, "
        "created_at) VALUES ('ou-3', 'old-batch', @system, '2026-01-30', 'player_0003', "
        "23.5, NULL, 0.25, 'draftkings', CURRENT_TIMESTAMP())",
        {"system": POINTS_SYSTEM},
    )
    stored = bq.query(
        "SELECT prediction_id, predicted_points, over_probability, sportsbook "
        "FROM player_prop_predictions WHERE batch_id = 'old-batch' ORDER BY prediction_id"
    )
    assert [tuple(r.values()) for r in stored] == [
        ("old-0", 22.0, None, None),
        ("old-1", 23.0, None, None),
        ("ou-2", None, 0.61, "fanduel"),
        ("ou-3", None, 0.25, "draftkings"),
    ]
    assert migrate(bq).applied == []  # recorded: never run twice


def test_a_fresh_dataset_migrates_through_0004(empty_bq: BigQueryWarehouse) -> None:
    """Tables created from today's schema files already have predicted_points NULLABLE;
    0004 still runs on them (``migrate`` applies every migration to a new dataset)."""
    report = migrate(empty_bq)

    assert report.applied == [p.stem for p in migration_files()]
    assert modes(empty_bq, "player_prop_predictions")["predicted_points"] == "NULLABLE"
    empty_bq.insert_rows("player_prop_predictions", [classifier_row(0)])
    assert empty_bq.query(
        "SELECT predicted_points, over_probability FROM player_prop_predictions"
    ) == [{"predicted_points": None, "over_probability": 0.61}]


# --------------------------------------------------------------------------- batches


@dataclass
class World:
    """The upgraded old-schema dataset, on which an App wrote two user models' batches."""

    app: App
    bq: BigQueryWarehouse
    models: dict[str, UserModel]
    cards: dict[str, ModelCard]
    sent: dict[str, list[dict[str, Any]]]  # batch id: rows sent
    results: dict[str, float]  # "day|player": actual points


# batch id: (model, system, game date, slate seed)
BATCHES = {
    "bq-points": ("poisson", POINTS_SYSTEM, POINTS_DAY, 21),
    "bq-ou": ("classifier", OU_SYSTEM, OU_DAY, 22),
}


def run_batch(app: App, batch_id: str, system_id: str, day: date, rows: Sequence[Row]) -> None:
    request = inline_batch(batch_id, system_id, day, rows)
    bus = app.publisher
    assert isinstance(bus, InProcessBus)
    before = len(bus.deliveries)
    bus.publish(app.settings.prediction_batches_topic, request.encode(), {})
    delivered = [d for d in bus.deliveries[before:] if d.function == "prediction_batch"]
    assert [d.ok for d in delivered] == [True], delivered


def build_world(home: Path, bq: BigQueryWarehouse) -> World:
    embedded = build_app(Settings(home=home))
    close = getattr(embedded.warehouse, "close", None)
    if close is not None:
        close()
    app = dataclasses.replace(embedded, warehouse=bq, _stores={}, _cached={})
    use_app(app)  # the functions the bus delivers to use this App, so this warehouse
    models: dict[str, UserModel] = {}
    for key, kind, system_id, seed in (
        ("poisson", Kind.POISSON, POINTS_SYSTEM, 5),
        ("classifier", Kind.OVER_UNDER, OU_SYSTEM, 6),
    ):
        facts = facts_for(
            system_id,
            start=date(2025, 11, 1),
            end=date(2026, 2, 28),
            trained_at="2026-03-01T06:00:00Z",
            over_under=kind is Kind.OVER_UNDER,
        )
        models[key] = train(kind, home / "trained" / f"user_{key}.cbm", facts=facts, seed=seed)
    cards = {key: upload_model(app, m.path, m.path.name) for key, m in models.items()}
    active_from = datetime.now(UTC) - timedelta(hours=1)
    app.ledger.promote(POINTS_SYSTEM, cards["poisson"], at=active_from, by="tests")
    app.ledger.promote(OU_SYSTEM, cards["classifier"], at=active_from, by="tests")
    sent: dict[str, list[dict[str, Any]]] = {}
    actual: dict[str, float] = {}
    loaded: list[dict[str, Any]] = []
    for batch_id, (_, system_id, day, seed) in BATCHES.items():
        rows = slate(day, players=PLAYERS, seed=seed, two_lines=TWO_LINES)
        sent[batch_id] = rows
        run_batch(app, batch_id, system_id, day, rows)
        main_line = {r["player_lookup"]: r["line_value"] for r in rows[:PLAYERS]}
        for result in results(day, PLAYERS, seed):
            player = result["player_lookup"]
            if player == NO_RESULT_PLAYER:
                continue
            points = main_line[player] if player == PUSH_PLAYER else result["actual_points"]
            actual[f"{day}|{player}"] = points
            loaded.append({**result, "game_date": day.isoformat(), "actual_points": points})
    load_results(bq, pa.Table.from_pylist(loaded))
    return World(app, bq, models, cards, sent, actual)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, upgraded: Upgrade) -> World:
    home = tmp_path_factory.mktemp("bigquery-user-models")
    saved = dict(os.environ)
    os.environ["ATTRIBUTION_HOME"] = str(home)
    try:
        return build_world(home, upgraded.bq)
    finally:
        use_app(None)
        os.environ.clear()
        os.environ.update(saved)


def stored(world: World, batch_id: str) -> list[Row]:
    return world.bq.query(
        "SELECT * FROM player_prop_predictions WHERE batch_id = @b ORDER BY prediction_id",
        {"b": batch_id},
    )


def line_of(row: Mapping[str, Any]) -> tuple[str, float, str | None]:
    return (row["player_lookup"], float(row["line_value"]), row.get("sportsbook"))


@pytest.mark.parametrize("batch_id", sorted(BATCHES))
def test_stored_values_are_the_users_own_catboost_predictions(world: World, batch_id: str) -> None:
    key, system_id, day, _ = BATCHES[batch_id]
    model, card = world.models[key], world.cards[key]
    sent = world.sent[batch_id]
    expected = dict(zip(map(line_of, sent), model.predict(sent).tolist(), strict=True))
    rows = stored(world, batch_id)

    assert len(rows) == len(sent) == PLAYERS + TWO_LINES  # every line of every player
    assert {line_of(r) for r in rows} == set(expected)
    assert any(r["sportsbook"] is None for r in rows)
    prefix = batch_key(batch_id, system_id, day.isoformat())
    for row in rows:
        line = line_of(row)
        value = expected[line]
        parts = [prefix, row["player_lookup"], f"{line[1]:g}", *([line[2]] if line[2] else [])]
        assert row["prediction_id"] == ":".join(parts)
        columns = attribution_columns(card)
        assert {c: row[c] for c in columns} == columns
        assert row["attribution_method"] == "stamped"
        assert (row["system_id"], row["game_date"]) == (system_id, day)
        if model.over_under:
            assert row["predicted_points"] is None and row["edge"] is None, row
            assert row["over_probability"] == pytest.approx(value, abs=1e-12), line
            assert row["recommendation"] == recommendation_for_probability(value), line
        else:
            assert row["over_probability"] is None, row
            assert row["predicted_points"] == pytest.approx(value, abs=1e-9), line
            assert row["edge"] == pytest.approx(value - line[1], abs=1e-9), line
            assert row["recommendation"] == recommendation_for_points(value, line[1]), line
    (log,) = world.bq.query(
        "SELECT status, rows_requested, rows_written, rows_rejected, model_sha256 "
        "FROM prediction_execution_log WHERE batch_id = @b",
        {"b": batch_id},
    )
    assert log == {
        "status": "success",
        "rows_requested": len(sent),
        "rows_written": len(sent),
        "rows_rejected": 0,
        "model_sha256": card.model_sha256,
    }


def test_the_poisson_points_have_the_exponent_applied_and_the_probabilities_are_over(
    world: World,
) -> None:
    """What the checks above compare with is the user's class's answer, and it is not the
    raw formula value nor the UNDER column: the comparison can tell them apart."""
    poisson, classifier = world.models["poisson"], world.models["classifier"]
    rows = world.sent["bq-points"]
    raw = poisson.model.predict(user_frame(poisson.model, rows), prediction_type="RawFormulaVal")
    points = sorted(r["predicted_points"] for r in stored(world, "bq-points"))
    assert points == pytest.approx(sorted(math.exp(v) for v in raw), abs=1e-9)
    assert points != pytest.approx(sorted(raw), abs=1e-3)
    sent = world.sent["bq-ou"]
    classes = list(classifier.model.classes_)
    under = classifier.model.predict_proba(user_frame(classifier.model, sent))[
        :, classes.index("UNDER")
    ]
    by_line = {line_of(r): r["over_probability"] for r in stored(world, "bq-ou")}
    gaps = [abs(by_line[line_of(r)] - u) for r, u in zip(sent, under.tolist(), strict=True)]
    assert min(gaps) > 1e-6  # no row holds the UNDER probability


def expected_grades(world: World) -> dict[str, dict[str, Any]]:
    """The view's figures, computed here from the stored rows and the loaded results."""
    grades: dict[str, dict[str, Any]] = {}
    for batch_id in BATCHES:
        for row in stored(world, batch_id):
            actual = world.results.get(f"{row['game_date']}|{row['player_lookup']}")
            line = row["line_value"]
            hit = None if actual is None or actual == line else actual > line
            correct = None
            if hit is not None and row["recommendation"] in ("OVER", "UNDER"):
                correct = hit if row["recommendation"] == "OVER" else not hit
            p, points = row["over_probability"], row["predicted_points"]
            grades[row["prediction_id"]] = {
                "actual_points": actual,
                "prediction_correct": correct,
                "absolute_error": None
                if points is None or actual is None
                else abs(points - actual),
                "brier_score": None if hit is None or p is None else (p - float(hit)) ** 2,
                "log_loss": None
                if hit is None or p is None
                else -math.log(max(1e-15, p if hit else 1.0 - p)),
            }
    return grades


def test_the_accuracy_view_grades_every_line_of_both_kinds(world: World) -> None:
    expected = expected_grades(world)
    # The story holds what the view must grade: a push and a player without a result in
    # each batch, two lines graded against one result, points and probabilities.
    lines = {r["prediction_id"]: r for batch_id in BATCHES for r in stored(world, batch_id)}
    no_result = [i for i, g in expected.items() if g["actual_points"] is None]
    pushes = [i for i, g in expected.items() if g["actual_points"] == lines[i]["line_value"]]
    assert {lines[i]["player_lookup"] for i in no_result} == {NO_RESULT_PLAYER}
    assert len(no_result) == 2
    assert [lines[i]["player_lookup"] for i in pushes].count(PUSH_PLAYER) == 2
    assert sum(g["brier_score"] is not None for g in expected.values()) >= PLAYERS
    assert sum(g["absolute_error"] is not None for g in expected.values()) >= PLAYERS
    assert {g["prediction_correct"] for g in expected.values()} >= {True, False}

    rows = world.bq.query(
        "SELECT prediction_id, actual_points, prediction_correct, absolute_error, "
        "brier_score, log_loss FROM prediction_accuracy "
        "WHERE batch_id IN UNNEST(@batches) ORDER BY prediction_id",
        {"batches": sorted(BATCHES)},
    )

    got = {r.pop("prediction_id"): r for r in rows}
    assert sorted(got) == sorted(expected)
    for prediction_id, grade in expected.items():
        for column, value in grade.items():
            if isinstance(value, float):
                assert got[prediction_id][column] == pytest.approx(value, abs=1e-9), (
                    prediction_id,
                    column,
                )
            else:
                assert got[prediction_id][column] == value, (prediction_id, column)
