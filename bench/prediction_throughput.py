"""Prediction-batch throughput against its floor, on 500-tree depth-6 CatBoost models.

The issue: "Prediction throughput at 100k rows for a model with 2 categorical and 10
numeric features (500 trees, depth 6): handler / floor at most 1.3, where the floor is
CatBoost's predict on a `Pool` built from the same columns plus the same bulk insert.
Report the numeric-only case beside it (it must not get slower than today's 1.16 by more
than noise)." And before it: "End-to-end handler throughput on the embedded default for
1k, 100k and 1M rows against the floor measured in the same process ... At 100k rows the
ratio must be 1.25 or less. Report peak memory at 1M rows and the first-call versus
warm-call time (a warm call never re-read the model)."

Two models, each measured on its own embedded ``App``, trained as a user trains them
(``train_model``, a ``CatBoostRegressor`` fit on a pandas DataFrame):

- categorical: ``TrainingSpec(categorical=True)``: ``position`` and ``opponent`` are
  categorical features among the 10 numeric ones (3% of training rows miss a value); the
  batch rows carry them as strings. Target 1.3.
- numeric: ``TrainingSpec(categorical=False, missing_share=0)``: the 10 numeric features
  only, the model the earlier figures (1.16 at 100k) were measured on. Target 1.25.

- subject: ``BatchPredictor.handle_message`` of an embedded ``App`` (DuckDB warehouse, local
  bucket) for a ``BatchRequest`` whose rows are a claim check: a Parquet object at
  ``gs://<models bucket>/batches/<batch_id>/input.parquet``. Every round is a new batch
  (fresh ``batch_id``, its own input object), so every round really writes N rows and the
  table grows across rounds, as it does in production.
- floor: with the same CatBoost model object the handler uses (loaded once), the numeric
  model's ``model.predict(X)`` on the same feature matrix; the categorical model's
  ``model.predict(Pool(pd.DataFrame(columns), cat_features=[...]))``, the DataFrame and the
  ``Pool`` built inside the timed call from the same columns (float64 arrays, and object
  arrays of the category strings, in model order); plus one
  ``INSERT INTO ... SELECT * FROM <arrow>`` of the same N output rows (stamped once, before
  the rounds) into a table made with the same DDL in the App's own DuckDB file (and, for
  comparison, in a database of its own); those tables grow by N rows a round too.

The median ratio at 100k rows of each model is its verdict. Also measured: the subject's
stages timed on their own at 100k (interleaved in rounds of their own, after), the first
call of a new instance against its second call at 1k rows, and peak memory at 1M rows in
a subprocess of its own.

Setup, never timed: an embedded ``App`` on a temporary home (migrations run on build), the
model uploaded through the real path (written to the models bucket, then the card
publisher run on the finalize event) and promoted in the deployment ledger; the models are
trained once, deterministically, and cached under ``bench/.work/``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.batches.inputs import kept_input_name
from attribution.batches.lineup import Role
from attribution.batches.predictor import (
    BatchOutcome,
    BatchPredictor,
    BatchStatus,
)
from attribution.batches.request import BatchRequest, RunMode
from attribution.batches.rows import CheckedRows, check_rows, format_of, read_rows
from attribution.batches.scoring import Scores, score, text_columns
from attribution.batches.stamping import PickRules, stamp_predictions
from attribution.bootstrap import App, build_app
from attribution.clock import now_utc
from attribution.config import Settings
from attribution.devtools.training import (
    CATEGORICAL,
    FEATURES,
    TrainingSpec,
    model_features,
    synthetic_player_games,
)
from attribution.events import PubSubMessage, object_finalized_event, parse_object_finalized
from attribution.model_card.card import ModelCard
from attribution.model_card.interface import CatBoostOutput, FeatureType, PredictionType
from attribution.model_card.loading import ServedModel
from attribution.model_card.publishing import UploadResult
from attribution.objects import split_gs_uri
from attribution.warehouse.tables import table_spec
from bench import BENCH_DIR, Options, Outcome
from bench.environment import BENCH_MODEL, spec_model
from bench.section import (
    load_note,
    machine_row,
    quick_note,
    run_row,
    trained_phrase,
    verdict,
    versions_row,
)
from bench.timing import AgainstFloor, Timing, interleaved, time_once

NAME = "prediction_throughput"
TITLE = "Prediction batch throughput"
GAME_DATE = date(2026, 2, 1)
TABLE = "player_prop_predictions"
WARMUP_ROUNDS = 1
COLD_WARM_REPEATS = 5
LOAD_SAMPLES = "before each row count"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Variant:
    """One model the benchmark serves: how it is trained, and the ratio it must keep."""

    key: str
    label: str
    spec: TrainingSpec
    target: float
    # The verdict-size ratio of the last run before this variant's model changed, if any.
    before: float | None = None

    @property
    def system_id(self) -> str:
        return self.spec.system_id

    @property
    def features(self) -> tuple[str, ...]:
        """The model's features in its own column order (as the training script chose)."""
        return model_features(categorical=self.spec.categorical, over_under=False)

    @property
    def cat_features(self) -> list[int]:
        return [i for i, name in enumerate(self.features) if name in CATEGORICAL]


CATEGORICAL_MODEL = Variant(
    key="categorical",
    label="2 categorical + 10 numeric features",
    spec=replace(BENCH_MODEL, system_id="bench_prediction_throughput_cat", categorical=True),
    target=1.3,
)
NUMERIC_MODEL = Variant(
    key="numeric",
    label="10 numeric features",
    spec=replace(BENCH_MODEL, system_id="bench_prediction_throughput"),
    target=1.25,
    before=1.16,
)
VARIANTS: dict[str, Variant] = {v.key: v for v in (CATEGORICAL_MODEL, NUMERIC_MODEL)}


@dataclass(frozen=True)
class Plan:
    """Row counts, rounds per count, and which count gives the verdict."""

    sizes: tuple[int, ...]
    rounds: tuple[int, ...]
    verdict_size: int
    cold_warm_size: int
    peak_size: int
    # Whose peak memory is measured (a subprocess per variant and role).
    peak_variants: tuple[str, ...] = ("categorical", "numeric")


FULL = Plan(
    sizes=(1_000, 100_000, 1_000_000),
    rounds=(15, 21, 3),
    verdict_size=100_000,
    cold_warm_size=1_000,
    peak_size=1_000_000,
)
QUICK = Plan(
    sizes=(1_000, 10_000, 50_000),
    rounds=(3, 3, 2),
    verdict_size=10_000,
    cold_warm_size=1_000,
    peak_size=50_000,
)

# The subject's stages, each timed on its own at the verdict size (labels for the table);
# the floor's two steps, for a categorical model, beside them.
PARTS: dict[str, str] = {
    "read": "read the Parquet object from the bucket and parse it (`read_rows`)",
    "check": "`check_rows` (validation, the model's input: a float64 matrix, or for a "
    "categorical model a DataFrame)",
    "predict": "`score` on the checked rows (for a categorical model: `Pool` build + `predict`)",
    "pool": "  of which: `Pool(checked.features, cat_features=...)` as `score` builds it",
    "pool_predict": "  of which: `model.predict(pool)` on that `Pool`",
    "stamp": "`stamp_predictions` (the output Arrow table)",
    "insert_new_rows": "`DuckDBWarehouse.insert_new_rows` (keyed, scoped insert-once)",
    "insert": "plain `INSERT INTO ... SELECT * FROM <arrow>` (the floor's insert)",
    "floor_pool": "floor's step: `Pool(pd.DataFrame(columns), cat_features=...)`",
    "floor_predict": "floor's step: `model.predict` on its input (matrix or `Pool`)",
}
# The stages that add up to the handler's work on the rows.
IN_SUBJECT = ("read", "check", "predict", "stamp", "insert_new_rows")


@dataclass(frozen=True)
class Rows:
    """One batch's input: the Arrow table sent, its Parquet bytes, and the same features
    as the columns a user would hand CatBoost: float64 arrays, and object arrays of the
    category strings (taken from the table), in model order."""

    table: pa.Table
    parquet: bytes
    columns: dict[str, np.ndarray]

    @property
    def count(self) -> int:
        return int(self.table.num_rows)


def ensure_model(variant: Variant, directory: Path) -> tuple[Path, float | None]:
    """The variant's cached model (trained first if absent) and its train time."""
    return spec_model(variant.spec, directory, label=f"{NAME}:{variant.key}")


def make_rows(count: int, variant: Variant) -> Rows:
    """``count`` synthetic rows, one player each (unique ``player_lookup``), deterministic;
    a categorical model's rows carry ``opponent`` and ``position`` as strings."""
    games = synthetic_player_games(count, seed=count)
    numbers = {name: np.ascontiguousarray(games.features[:, i]) for i, name in enumerate(FEATURES)}
    labels = {"opponent": games.opponent, "position": games.position}
    arrays: dict[str, pa.Array] = {
        "player_lookup": pa.array([f"p{i:07d}" for i in range(count)], pa.string()),
        "line_value": pa.array(games.line_value, pa.float64()),
    }
    for name in variant.features:
        if name in numbers:
            arrays[name] = pa.array(numbers[name], pa.float64())
        else:
            arrays[name] = pa.array(labels[name].tolist(), pa.string())
    table = pa.table(arrays)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    columns = {
        name: numbers[name]
        if name in numbers
        else table.column(name).to_numpy(zero_copy_only=False)
        for name in variant.features
    }
    return Rows(table=table, parquet=buffer.getvalue(), columns=columns)


def batch_request(system_id: str, batch_id: str, rows_uri: str | None) -> BatchRequest:
    return BatchRequest(
        batch_id=batch_id,
        system_id=system_id,
        game_date=GAME_DATE,
        run_mode=RunMode.OVERNIGHT,
        pin=None,
        rows=None,
        rows_uri=rows_uri,
    )


class FloorInput:
    """What the floor hands CatBoost: the numeric model's matrix (built once, before the
    rounds), or the categorical model's ``Pool`` of a DataFrame of the same columns (built
    on every call, as a user scoring a frame builds it)."""

    def __init__(self, variant: Variant, rows: Rows) -> None:
        self.columns = rows.columns
        self.cat_features = variant.cat_features
        self.matrix: np.ndarray | None = None
        if not self.cat_features:
            self.matrix = np.column_stack([rows.columns[name] for name in variant.features])

    def __call__(self) -> Any:
        if self.matrix is not None:
            return self.matrix
        from catboost import Pool

        return Pool(pd.DataFrame(self.columns), cat_features=self.cat_features)


def floor_predict(model: Any, model_input: FloorInput) -> np.ndarray:
    return np.asarray(model.predict(model_input()), dtype=np.float64)


def publish(app: App, model_path: Path, variant: Variant) -> ModelCard:
    """Upload the variant's model through the real path (written to the models bucket, then
    the card publisher run on the finalize event); its card, checked to be the variant's."""
    stored = app.models.write(
        f"{app.settings.models_prefix}{variant.system_id}/{model_path.name}",
        model_path.read_bytes(),
    )
    upload = app.card_publisher().handle(parse_object_finalized(object_finalized_event(stored)))
    if upload.result is not UploadResult.PUBLISHED or upload.card is None:
        raise RuntimeError(f"the model was not published: {upload.result} {upload.reason}")
    card: ModelCard = upload.card
    interface = card.interface
    if interface is None or tuple(f.name for f in interface.features) != variant.features:
        raise RuntimeError(f"unexpected features {card.feature_names}")
    categorical = [f.index for f in interface.of_type(FeatureType.CATEGORICAL)]
    if categorical != variant.cat_features or interface.of_type(FeatureType.TEXT):
        raise RuntimeError(f"unexpected feature types {interface.features}")
    if interface.catboost_output is not CatBoostOutput.RAW_FORMULA_VAL:
        raise RuntimeError(f"unexpected output {interface.catboost_output}")
    return card


@dataclass
class Harness:
    """An embedded App with one variant's model published and promoted."""

    variant: Variant
    home: Path
    settings: Settings
    app: App
    predictor: BatchPredictor
    card: ModelCard
    model_bytes: int

    @classmethod
    def create(
        cls, home: Path, model_path: Path, variant: Variant, *, settings: Settings | None = None
    ) -> Harness:
        settings = settings or Settings(home=home, log_level="WARNING")
        app = build_app(settings)
        card = publish(app, model_path, variant)
        app.ledger.promote(variant.system_id, card)
        return cls(
            variant=variant,
            home=home,
            settings=settings,
            app=app,
            predictor=app.batch_predictor(),
            card=card,
            model_bytes=model_path.stat().st_size,
        )

    def prepare(self, rows: Rows, tag: str) -> PubSubMessage:
        """Write a new batch's input object (a claim check) and return its message."""
        return self.prepare_parquet(rows.parquet, rows.count, tag)

    def prepare_parquet(self, parquet: bytes, count: int, tag: str) -> PubSubMessage:
        batch_id = f"bench-{tag}-{count}-{uuid.uuid4().hex[:12]}"
        # Where the handler keeps a batch's input, so it reads it there and copies nothing.
        stored = self.app.models.write(
            kept_input_name(self.settings.batch_inputs_prefix, batch_id, "parquet"),
            parquet,
            content_type="application/vnd.apache.parquet",
        )
        return PubSubMessage(
            event_id=uuid.uuid4().hex,
            message_id=uuid.uuid4().hex,
            data=batch_request(self.variant.system_id, batch_id, stored.uri).encode(),
        )

    def served(self) -> ServedModel:
        """The model the handler predicts with and how it calls it (loaded at most once)."""
        return self.predictor.models.served(self.card)

    def model(self) -> Any:
        """The CatBoost object the handler predicts with (loaded at most once)."""
        return self.predictor.models.model_for(self.card)

    @property
    def rules(self) -> PickRules:
        return PickRules(self.settings.min_edge, self.settings.over_probability_threshold)

    def stamped(
        self,
        rows: Rows,
        predicted: np.ndarray,
        batch_id: str,
        *,
        card: ModelCard | None = None,
        role: Role = Role.CHAMPION,
    ) -> pa.Table:
        """The output rows the handler writes for ``rows``, stamped as it stamps them, with
        the floor's own predictions (by default the champion's, of this harness's card)."""
        n = rows.count
        checked = CheckedRows(
            requested=n,
            row_numbers=np.arange(n),
            player_lookup=rows.table.column("player_lookup").combine_chunks(),
            line_value=rows.table.column("line_value").to_numpy(),
            sportsbook=pa.nulls(n, pa.string()),
            odds=np.full(n, np.nan),  # the bench's rows give no odds
            features=np.empty((n, 0)),
            rejects=[],
        )
        return stamp_predictions(
            batch_request(self.variant.system_id, batch_id, None),
            self.card if card is None else card,
            checked,
            Scores(PredictionType.POINTS, predicted),
            rules=self.rules,
            created_at=now_utc(),
            role=role,
        )

    def written(self, batch_id: str) -> pa.Table:
        warehouse = self.app.warehouse
        if not isinstance(warehouse, DuckDBWarehouse):
            raise TypeError("the benchmark runs on the embedded (DuckDB) warehouse")
        with warnings.catch_warnings():  # DuckDB notes the DB-API Arrow copy; not timed
            warnings.simplefilter("ignore", UserWarning)
            return warehouse.query_arrow(
                f"SELECT player_lookup, predicted_points FROM {TABLE} "
                "WHERE batch_id = @batch_id AND game_date = @game_date ORDER BY player_lookup",
                {"batch_id": batch_id, "game_date": GAME_DATE},
            )

    def close(self) -> None:
        if isinstance(self.app.warehouse, DuckDBWarehouse):
            self.app.warehouse.close()


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file at ``path``; in this process, a file already open (the
    App's warehouse) is the same database, so its tables, WAL and checkpoints are shared."""
    return duckdb.connect(str(path))


def create_like(connection: duckdb.DuckDBPyConnection, name: str, like: str = TABLE) -> str:
    """Create table ``name`` with the DDL of ``like`` (``player_prop_predictions``); return
    ``name``."""
    connection.execute(replace(table_spec(like), name=name).duckdb_ddl())
    return name


def bulk_insert(connection: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """One plain ``INSERT INTO <table> SELECT * FROM <arrow>``: the floor's write."""
    connection.register("floor_rows", rows)
    try:
        connection.execute(f'INSERT INTO "{table}" SELECT * FROM floor_rows').fetchall()
    finally:
        connection.unregister("floor_rows")


class Floor:
    """CatBoost's predict on the floor's input plus one bulk insert of the output rows."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        table: str,
        model: Any,
        model_input: FloorInput,
        output: pa.Table,
    ) -> None:
        self.connection = connection
        self.table = table
        self.model = model
        self.model_input = model_input
        self.output = output

    def __call__(self) -> np.ndarray:
        predicted = floor_predict(self.model, self.model_input)
        bulk_insert(self.connection, self.table, self.output)
        return predicted

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class SizeFigures(AgainstFloor):
    rows: int
    rounds: int
    subject: Timing
    floor: Timing
    floor_own_database: Timing
    parts: dict[str, Timing] = field(default_factory=dict)

    @property
    def ratio_own_database(self) -> float:
        return self.subject.median / self.floor_own_database.median

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.subject.median


def checked_outcomes(outcomes: Sequence[BatchOutcome], rows: int, expected: int) -> None:
    if len(outcomes) != expected:
        raise RuntimeError(f"{len(outcomes)} handler calls at {rows} rows, expected {expected}")
    for outcome in outcomes:
        if outcome.status is not BatchStatus.SUCCESS or outcome.written != rows:
            raise RuntimeError(
                f"batch {outcome.batch_id}: {outcome.status} wrote {outcome.written} of {rows} "
                f"rows ({outcome.error})"
            )


FLOOR_TABLE = "bench_floor_predictions"  # in the App's own database, beside the subject's
OWN_DATABASE = "floor-own-database.duckdb"  # a database holding nothing but this one table


def measure_size(harness: Harness, rows: Rows, rounds: int, *, with_parts: bool) -> SizeFigures:
    """Time the handler and the floors at one row count, interleaved, round by round."""
    count = rows.count
    messages = [harness.prepare(rows, "run") for _ in range(WARMUP_ROUNDS + rounds)]
    pending = iter(messages)
    outcomes: list[BatchOutcome] = []
    model = harness.model()
    model_input = FloorInput(harness.variant, rows)
    output = harness.stamped(rows, floor_predict(model, model_input), f"bench-floor-{count}")
    shared = connect(harness.settings.warehouse_path)
    floor = Floor(shared, create_like(shared, FLOOR_TABLE), model, model_input, output)
    own = connect(harness.home / OWN_DATABASE)
    floor_own_database = Floor(own, create_like(own, TABLE), model, model_input, output)

    def subject() -> None:
        outcomes.append(harness.predictor.handle_message(next(pending)))

    timings = interleaved(
        {"subject": subject, "floor": floor, "floor_own_database": floor_own_database},
        rounds=rounds,
        warmup=WARMUP_ROUNDS,
    )
    floor_predicted = floor()
    floor.close()
    floor_own_database.close()
    parts: dict[str, Timing] = {}
    if with_parts:  # after, not in the same rounds: subject and floors stay side by side
        parts = interleaved(
            _part_cases(harness, rows, WARMUP_ROUNDS + rounds), rounds=rounds, warmup=WARMUP_ROUNDS
        )

    checked_outcomes(outcomes, count, WARMUP_ROUNDS + rounds)
    last = outcomes[-1].batch_id
    assert last is not None
    written = harness.written(last)
    if written.num_rows != count or not np.allclose(
        written.column("predicted_points").to_numpy(), floor_predicted, rtol=0.0, atol=1e-9
    ):
        raise RuntimeError(f"batch {last}: the handler's predictions are not the floor's")
    return SizeFigures(
        rows=count,
        rounds=rounds,
        subject=timings["subject"],
        floor=timings["floor"],
        floor_own_database=timings["floor_own_database"],
        parts=parts,
    )


def _part_cases(harness: Harness, rows: Rows, calls: int) -> dict[str, Callable[[], object]]:
    """The handler's stages on their own, on the same rows, called as the handler calls
    them; both inserts go to tables of their own (same DDL) in the App's database, so they
    share its file and checkpoints. For a categorical model, also the two steps of
    ``score`` (``Pool`` build, predict) and of the floor."""
    from catboost import Pool

    served = harness.served()
    model = served.model
    as_text = text_columns(served.interface)
    message = harness.prepare(rows, "parts")
    uri = json.loads(message.data)["rows_uri"]
    bucket, name = split_gs_uri(uri)
    store = harness.app.store(bucket)
    table = read_rows(store.read(name), format_of(name), source=uri, text_columns=as_text)
    checked = check_rows(table, interface=served.interface, game_date=GAME_DATE)
    scores = score(served, checked.features)

    def stamp(batch_id: str = "bench-parts") -> pa.Table:
        return stamp_predictions(
            batch_request(harness.variant.system_id, batch_id, uri),
            harness.card,
            checked,
            scores,
            rules=harness.rules,
            created_at=now_utc(),
        )

    batches = [f"bench-parts-{rows.count}-{uuid.uuid4().hex[:12]}" for _ in range(calls)]
    keyed_batches: Iterator[tuple[str, pa.Table]] = iter([(b, stamp(b)) for b in batches])
    keyed = DuckDBWarehouse(harness.settings.warehouse_path)
    keyed_table = "bench_parts_keyed"
    keyed.create_table_from(replace(table_spec(TABLE), name=keyed_table))
    plain = connect(harness.settings.warehouse_path)
    plain_table = create_like(plain, "bench_parts_plain")
    output = stamp()

    def insert_new_rows() -> None:
        batch_id, stamped = next(keyed_batches)
        keyed.insert_new_rows(  # as the handler calls it
            keyed_table,
            stamped,
            key=["prediction_id"],
            scope={"batch_id": batch_id, "game_date": GAME_DATE},
            unique_keys=True,
        )

    floor_input = FloorInput(harness.variant, rows)
    floor_features = floor_input()
    cases: dict[str, Callable[[], object]] = {
        "read": lambda: read_rows(
            store.read(name), format_of(name), source=uri, text_columns=as_text
        ),
        "check": lambda: check_rows(table, interface=served.interface, game_date=GAME_DATE),
        "predict": lambda: score(served, checked.features),
        "stamp": stamp,
        "insert_new_rows": insert_new_rows,
        "insert": lambda: bulk_insert(plain, plain_table, output),
        "floor_predict": lambda: model.predict(floor_features),
    }
    if isinstance(checked.features, pd.DataFrame):
        cat_features = [f.index for f in served.interface.of_type(FeatureType.CATEGORICAL)]
        pool = Pool(checked.features, cat_features=cat_features)
        output_type = CatBoostOutput.RAW_FORMULA_VAL.value
        cases |= {
            "pool": lambda: Pool(checked.features, cat_features=cat_features),
            "pool_predict": lambda: model.predict(pool, prediction_type=output_type),
            "floor_pool": floor_input,
        }
    return cases


@dataclass(frozen=True)
class ColdWarm:
    rows: int
    cold: Timing
    warm: Timing
    loads_after_cold: tuple[int, ...]
    loads_after_warm: tuple[int, ...]

    @property
    def never_reloaded(self) -> bool:
        return set(self.loads_after_cold) == {1} and set(self.loads_after_warm) == {1}


def _new_instance_two_calls(harness: Harness, rows: Rows) -> tuple[float, float, tuple[int, int]]:
    """A new instance's first and second call: seconds each, ``ModelCache.loads`` after each."""
    fresh = build_app(harness.settings)  # a new instance: empty model and ledger caches
    predictor = fresh.batch_predictor()
    first, second = harness.prepare(rows, "cold"), harness.prepare(rows, "warm")
    outcomes: list[BatchOutcome] = []
    cold = time_once(lambda: outcomes.append(predictor.handle_message(first)))
    loads_after_cold = predictor.models.loads
    warm = time_once(lambda: outcomes.append(predictor.handle_message(second)))
    loads_after_warm = predictor.models.loads
    checked_outcomes(outcomes, rows.count, 2)
    if isinstance(fresh.warehouse, DuckDBWarehouse):
        fresh.warehouse.close()
    return cold, warm, (loads_after_cold, loads_after_warm)


def measure_cold_warm(harness: Harness, rows: Rows, repeats: int) -> ColdWarm:
    """A new instance's first call (empty caches: reads and loads the model) and its second."""
    cold: list[float] = []
    warm: list[float] = []
    after_cold: list[int] = []
    after_warm: list[int] = []
    for _ in range(repeats):
        first, second, loads = _new_instance_two_calls(harness, rows)
        cold.append(first)
        warm.append(second)
        after_cold.append(loads[0])
        after_warm.append(loads[1])
    return ColdWarm(
        rows=rows.count,
        cold=Timing(tuple(cold)),
        warm=Timing(tuple(warm)),
        loads_after_cold=tuple(after_cold),
        loads_after_warm=tuple(after_warm),
    )


@dataclass(frozen=True)
class PeakMemory:
    """One call's memory in a process of its own (bytes)."""

    variant: str
    role: str
    rows: int
    rss_before: int
    peak_rss: int
    ru_maxrss: int
    arrow_before: int
    arrow_peak: int
    seconds: float

    @property
    def increase(self) -> int:
        return self.peak_rss - self.rss_before


def _status_bytes(field_name: str) -> int:
    """A ``/proc/self/status`` memory figure (``VmRSS``, ``VmHWM``) in bytes."""
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field_name} in /proc/self/status")


def _reset_peak_rss() -> None:
    """Set this process's ``VmHWM`` (peak RSS) to its current RSS (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


def peak_in_process(
    variant: Variant, role: str, model_path: Path, input_path: Path, work: Path
) -> PeakMemory:
    """Run one call at the input's size in this (fresh) process and report its memory.

    Warm for the subject (a 1k-row batch first loads the model); the floor's inputs (the
    columns, the numeric model's matrix, the stamped output rows) are built before the call
    and held; a categorical model's DataFrame and ``Pool`` are built in the call. The peak
    RSS is reset just before the call, so it is the call's own.
    """
    with tempfile.TemporaryDirectory(dir=work, prefix="peak-") as home:
        harness = Harness.create(Path(home), model_path, variant)
        parquet = input_path.read_bytes()
        count = int(pq.read_metadata(io.BytesIO(parquet)).num_rows)
        run: Callable[[], object]
        if role == "subject":
            harness.predictor.handle_message(
                harness.prepare(make_rows(1_000, variant), "peak-warm")
            )
            message = harness.prepare_parquet(parquet, count, "peak")

            def run() -> object:
                outcome = harness.predictor.handle_message(message)
                checked_outcomes([outcome], count, 1)
                return outcome

        elif role == "floor":
            table = read_rows(parquet, "parquet", source=str(input_path))
            columns = {
                name: table.column(name).to_numpy(zero_copy_only=False) for name in variant.features
            }
            rows = Rows(table=table, parquet=b"", columns=columns)
            model_input = FloorInput(variant, rows)
            model = harness.model()
            shared = connect(harness.settings.warehouse_path)
            run = Floor(
                shared,
                create_like(shared, FLOOR_TABLE),
                model,
                model_input,
                harness.stamped(rows, floor_predict(model, model_input), "bench-peak-floor"),
            )
        else:
            raise ValueError(f"unknown role {role!r}")
        del parquet
        gc.collect()
        arrow_before = pa.total_allocated_bytes()
        _reset_peak_rss()
        rss_before = _status_bytes("VmRSS")
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        return PeakMemory(
            variant=variant.key,
            role=role,
            rows=count,
            rss_before=rss_before,
            peak_rss=_status_bytes("VmHWM"),
            ru_maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KiB on Linux
            arrow_before=int(arrow_before),
            arrow_peak=int(pa.default_memory_pool().max_memory() or 0),
            seconds=seconds,
        )


def measure_peak(
    variant: Variant, role: str, model_path: Path, input_path: Path, work: Path
) -> PeakMemory:
    """``peak_in_process`` in a subprocess, so its peak RSS is that call's alone."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.prediction_throughput",
            "peak",
            variant.key,
            role,
            str(model_path),
            str(input_path),
            str(work),
        ],
        cwd=BENCH_DIR.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"peak-memory subprocess ({variant.key}, {role}) failed:\n{completed.stderr}"
        )
    return PeakMemory(**json.loads(completed.stdout.strip().splitlines()[-1]))


@dataclass(frozen=True)
class VariantFigures:
    """Everything measured for one model."""

    variant: Variant
    verdict_size: int
    model_path: Path
    model_bytes: int
    trees: int
    depth: int
    trained_seconds: float | None
    sizes: tuple[SizeFigures, ...]
    cold_warm: ColdWarm
    peaks: tuple[PeakMemory, ...]

    @property
    def verdict(self) -> SizeFigures:
        return next(s for s in self.sizes if s.rows == self.verdict_size)

    @property
    def ratio_passed(self) -> bool:
        return self.verdict.ratio <= self.variant.target

    @property
    def passed(self) -> bool:
        return self.ratio_passed and self.cold_warm.never_reloaded


@dataclass(frozen=True)
class Figures:
    """Everything measured, ready to print."""

    plan: Plan
    variants: tuple[VariantFigures, ...]
    seconds: float
    # 1-minute load average: at the start, before each row count of each model, at the end.
    loads: tuple[float, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.variants)

    @property
    def never_reloaded(self) -> bool:
        return all(v.cold_warm.never_reloaded for v in self.variants)


def measure_variant(
    variant: Variant,
    plan: Plan,
    *,
    rounds: tuple[int, ...],
    model: tuple[Path, float | None],
    home: Path,
    loads: list[float],
) -> VariantFigures:
    model_path, trained_seconds = model
    harness = Harness.create(home / variant.key, model_path, variant)
    trees = int(harness.model().tree_count_)
    depth = int(harness.card.params.get("depth", variant.spec.depth))
    # One call before anything is timed: process-wide first-use costs (the message
    # validator, transpiled SQL) are not an instance's, and the model gets loaded once.
    harness.predictor.handle_message(
        harness.prepare(make_rows(plan.cold_warm_size, variant), "first")
    )
    if harness.predictor.models.loads != 1:
        raise RuntimeError("the model was not loaded exactly once")
    cold_warm = measure_cold_warm(
        harness, make_rows(plan.cold_warm_size, variant), COLD_WARM_REPEATS
    )
    sizes: list[SizeFigures] = []
    peak_input = home / f"peak-input-{variant.key}.parquet"
    for count, size_rounds in zip(plan.sizes, rounds, strict=True):
        loads.append(os.getloadavg()[0])
        rows = make_rows(count, variant)
        if count == plan.peak_size:
            peak_input.write_bytes(rows.parquet)
        sizes.append(
            measure_size(harness, rows, size_rounds, with_parts=count == plan.verdict_size)
        )
        del rows
        gc.collect()
    if harness.predictor.models.loads != 1:
        raise RuntimeError(f"the model was loaded {harness.predictor.models.loads} times")
    harness.close()
    peaks: tuple[PeakMemory, ...] = ()
    if variant.key in plan.peak_variants:
        peaks = tuple(
            measure_peak(variant, role, model_path, peak_input, home)
            for role in ("subject", "floor")
        )
    return VariantFigures(
        variant=variant,
        verdict_size=plan.verdict_size,
        model_path=model_path,
        model_bytes=model_path.stat().st_size,
        trees=trees,
        depth=depth,
        trained_seconds=trained_seconds,
        sizes=tuple(sizes),
        cold_warm=cold_warm,
        peaks=peaks,
    )


def measure(options: Options) -> Figures:
    started = time.perf_counter()
    loads = [os.getloadavg()[0]]
    plan = QUICK if options.quick else FULL
    work = options.work_dir / NAME
    # Both models trained (or found) before anything is timed.
    models = {key: ensure_model(variant, work) for key, variant in VARIANTS.items()}
    rounds = tuple(options.rounds or r for r in plan.rounds)
    measured: list[VariantFigures] = []
    with tempfile.TemporaryDirectory(dir=work, prefix="run-") as temporary:
        for key, variant in VARIANTS.items():
            measured.append(
                measure_variant(
                    variant,
                    plan,
                    rounds=rounds,
                    model=models[key],
                    home=Path(temporary),
                    loads=loads,
                )
            )
            gc.collect()
    loads.append(os.getloadavg()[0])
    return Figures(
        plan=plan,
        variants=tuple(measured),
        seconds=time.perf_counter() - started,
        loads=tuple(loads),
    )


def rows_label(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1_000 and count % 1_000 == 0:
        return f"{count // 1_000}k"
    return f"{count:,}"


def _mib(value: int) -> str:
    return f"{value / MIB:,.0f} MiB"


def _beyond_floor(v: VariantFigures) -> dict[str, float]:
    """Per stage, the handler's median minus the floor's counterpart's (ms), at the verdict
    size; ``rest`` is what the stages leave of handler - floor (per-batch work, noise)."""
    size = v.verdict
    p = {name: timing.median_ms for name, timing in size.parts.items()}
    pool = p.get("pool", 0.0)
    deltas = {
        "read": p["read"],
        "check": p["check"],
        "pool": pool - p.get("floor_pool", 0.0),
        "predict": p["predict"] - pool - p["floor_predict"],
        "stamp": p["stamp"],
        "insert": p["insert_new_rows"] - p["insert"],
    }
    deltas["rest"] = size.subject.median_ms - size.floor.median_ms - sum(deltas.values())
    deltas["total"] = size.subject.median_ms - size.floor.median_ms
    return deltas


BEYOND: dict[str, str] = {
    "read": "read and parse the Parquet claim check (the floor starts from its columns)",
    "check": "`check_rows` (the floor starts from its columns; for a categorical model this "
    "includes building the DataFrame)",
    "pool": "`Pool` build: `score`'s `Pool(checked DataFrame)` - the floor's "
    "`Pool(pd.DataFrame(columns))`",
    "predict": "predict: `score`'s predict - the floor's `model.predict`",
    "stamp": "`stamp_predictions` (the floor's rows are stamped before the rounds)",
    "insert": "insert-once write - plain insert",
    "rest": "the rest: per-batch work outside the stages (message validation, the "
    "already-done checks, the batch claim object, the active-model lookup, the "
    "execution-log row), and noise",
    "total": "**handler - floor**",
}


def _why(v: VariantFigures, smallest: SizeFigures | None) -> str:
    size = v.verdict
    if not size.parts:
        return ""
    p = {name: timing.median_ms for name, timing in size.parts.items()}
    d = _beyond_floor(v)
    label = f"the model with {v.variant.label}"
    if "pool" in p:
        predict = (
            f"`score` builds a `Pool` of the checked DataFrame ({p['pool']:.1f} ms, against "
            f"{p['floor_pool']:.1f} ms for the floor's DataFrame and `Pool` of its columns) "
            f"and predicts on it ({p['pool_predict']:.1f} ms, the floor's predict "
            f"{p['floor_predict']:.1f} ms)"
        )
    else:
        predict = (
            f"`score` predicts on the checked matrix ({p['predict']:.1f} ms; the floor's "
            f"predict on its matrix {p['floor_predict']:.1f} ms)"
        )
    per_batch = ""
    if smallest is not None and smallest.rows < size.rows:
        per_batch = (
            f" (at {rows_label(smallest.rows)} rows, where rows cost little, handler - "
            f"floor = {smallest.subject.median_ms - smallest.floor.median_ms:.1f} ms)"
        )
    text = (
        f"For {label}, at {rows_label(size.rows)} rows the handler takes "
        f"{d['total']:+.1f} ms over the floor ({size.subject.median_ms:.1f} against "
        f"{size.floor.median_ms:.1f} ms). It reads and parses the Parquet claim check "
        f"({p['read']:.1f} ms), checks the rows ({p['check']:.1f} ms) and stamps them "
        f"({p['stamp']:.1f} ms), none of which the floor does; {predict}; its insert-once "
        f"write (a probe for rows already in the batch's scope, then the insert, in one "
        f"transaction; the keys are known distinct) costs {d['insert']:+.1f} ms against the "
        f"plain insert. "
    )
    if d["rest"] >= 0:
        return text + (
            f"The rest, {d['rest']:.1f} ms, is per-batch work outside those stages{per_batch}, "
            f"plus run-to-run noise."
        )
    return text + (
        f"The stages timed on their own add up to {-d['rest']:.1f} ms more than handler - "
        f"floor, which is run-to-run noise; per-batch work outside them{per_batch} is in it."
    )


def _model_row(v: VariantFigures) -> str:
    spec = v.variant.spec
    features = ", ".join(
        f"`{name}` (categorical)" if name in CATEGORICAL else f"`{name}`"
        for name in v.variant.features
    )
    recipe = (
        f"`TrainingSpec(categorical={spec.categorical}, missing_share={spec.missing_share:g}, "
        f"iterations={spec.iterations}, depth={spec.depth}, rows={spec.rows:,})`"
    )
    return (
        f"| Model: {v.variant.key} | {v.trees} trees, depth {v.depth}, "
        f"{v.variant.label} in this order: {features}; "
        f"{v.model_bytes:,} bytes `.cbm` ({recipe}, a `CatBoostRegressor` fit on a pandas "
        f"DataFrame); {trained_phrase(v.trained_seconds)} |"
    )


def render(figures: Figures, options: Options) -> str:
    f = figures
    by_key = {v.variant.key: v for v in f.variants}
    headline = "; ".join(
        f"the model with {v.variant.label} **{v.verdict.ratio:.2f}**, target <= "
        f"{v.variant.target} ({verdict(v.ratio_passed)}; min-based ratio "
        f"{v.verdict.min_ratio:.2f}"
        + (
            f"; {v.variant.before} before the library served categorical models"
            if v.variant.before is not None
            else ""
        )
        + ")"
        for v in f.variants
    )
    verdict_rows = rows_label(f.plan.verdict_size)

    def target_cell(v: VariantFigures, s: SizeFigures) -> str:
        if s.rows != v.verdict_size:
            return "informative"
        return f"<= {v.variant.target}: {verdict(s.ratio <= v.variant.target)}"

    size_rows = "\n".join(
        f"| {v.variant.key} | {rows_label(s.rows)} | {s.subject.median_ms:,.1f} | "
        f"{s.floor.median_ms:,.1f} | **{s.ratio:.2f}** | {s.min_ratio:.2f} | "
        f"{s.cpu_ratio:.2f} | {s.floor_own_database.median_ms:,.1f} | "
        f"{s.ratio_own_database:.2f} | {s.rows_per_second:,.0f} | {s.rounds} | "
        f"{target_cell(v, s)} |"
        for v in f.variants
        for s in v.sizes
    )
    columns = [v for v in f.variants if v.verdict.parts]

    def part_cell(v: VariantFigures, name: str) -> str:
        timing = v.verdict.parts.get(name)
        return "— | —" if timing is None else f"{timing.median_ms:,.1f} | {timing.min_ms:,.1f}"

    part_header = " | ".join(f"{v.variant.key} median ms | min ms" for v in columns)
    part_rows = "\n".join(
        f"| {label} | " + " | ".join(part_cell(v, name) for v in columns) + " |"
        for name, label in PARTS.items()
        if any(name in v.verdict.parts for v in columns)
    )
    beyond = {v.variant.key: _beyond_floor(v) for v in columns}

    def beyond_cell(v: VariantFigures, name: str) -> str:
        if name == "pool" and "pool" not in v.verdict.parts:
            return "—"
        value = f"{beyond[v.variant.key][name]:+,.1f}"
        return f"**{value}**" if name == "total" else value

    beyond_header = " | ".join(f"{v.variant.key} ms" for v in columns)
    beyond_rows = "\n".join(
        f"| {label} | " + " | ".join(beyond_cell(v, name) for v in columns) + " |"
        for name, label in BEYOND.items()
    )
    whys = "\n\n".join(
        _why(v, v.sizes[0] if v.sizes[0].rows < v.verdict_size else None) for v in columns
    )
    cold_rows = "\n".join(
        f"| {v.variant.key} | first (cold: reads the model from the bucket, checks its "
        f"SHA-256, loads it; looks up the active model in the ledger) | "
        f"{v.cold_warm.cold.median_ms:.1f} | {v.cold_warm.cold.min_ms:.1f} | "
        f"{', '.join(map(str, v.cold_warm.loads_after_cold))} |\n"
        f"| {v.variant.key} | second (warm: model and active card cached) | "
        f"{v.cold_warm.warm.median_ms:.1f} | {v.cold_warm.warm.min_ms:.1f} | "
        f"{', '.join(map(str, v.cold_warm.loads_after_warm))} |"
        for v in f.variants
    )
    cold_size = rows_label(f.plan.cold_warm_size)
    peaks = [p for v in f.variants for p in v.peaks]
    peak_rows = "\n".join(
        f"| {p.variant} | {p.role} | {_mib(p.rss_before)} | **{_mib(p.peak_rss)}** | "
        f"{_mib(p.increase)} | {_mib(p.arrow_before)} / "
        f"{_mib(p.arrow_peak)} | {_mib(p.ru_maxrss)} | {p.seconds:.2f} |"
        for p in peaks
    )
    peak_size = rows_label(f.plan.peak_size)
    categorical = by_key.get("categorical")
    cat_floor = (
        f"[{', '.join(map(str, categorical.variant.cat_features))}]"
        if categorical is not None
        else "[...]"
    )
    return f"""## {TITLE}
{quick_note(options, "smaller row counts, so this is not the issue's figure")}
**{verdict(f.passed)}**: at {verdict_rows} rows median(handler) / median(floor) = {headline}. \
Warm calls never re-read the model: {"yes" if f.never_reloaded else "NO"}.

| | |
|---|---|
{chr(10).join(_model_row(v) for v in f.variants)}
| Subject | `BatchPredictor.handle_message` of an embedded `App` per model (DuckDB warehouse, \
local bucket; `Settings(home=<temp>, log_level="WARNING")`), the model uploaded through \
the card publisher and promoted; each round a new `batch_id` whose rows are a Parquet claim \
check (`rows_uri`, unique `player_lookup` per row, every value present; the categorical \
model's rows carry `opponent` and `position` as strings); every call checked: `success`, \
N rows written |
| Floor | the handler's own CatBoost object (loaded once). Numeric model: `model.predict(X)` \
on the same feature matrix (float64, built before the rounds). Categorical model: \
`model.predict(Pool(pd.DataFrame(columns), cat_features={cat_floor}))`, the DataFrame and \
`Pool` built inside the timed call from the same columns in model order (float64 arrays, \
and object arrays of the category strings taken from the input table). Plus one \
`INSERT INTO <table> SELECT * FROM <arrow>` of the same N stamped rows (stamped before the \
rounds) into a table made with the same DDL as `player_prop_predictions`: `{FLOOR_TABLE}`, \
in the App's own DuckDB file (the verdict: any implementation writes into that database, \
so its file, catalog and checkpoints are part of the least work), and, for comparison, a \
table in a database file holding nothing else (`{OWN_DATABASE}`). Both grow by N rows a \
round like the subject's. At every row count the last batch's written predictions are \
checked equal to the floor's |
{machine_row(f.loads, LOAD_SAMPLES)}
{versions_row("catboost", "duckdb", "pyarrow", "numpy", "pandas")}
| Method | per model and row count, subject and both floors interleaved for the rounds \
shown after {WARMUP_ROUNDS} warm-up, order rotated each round, GC collected then off while \
timed; per model, sizes run in order {", ".join(rows_label(n) for n in f.plan.sizes)} on \
one growing table; the models one after the other ({", ".join(by_key)}); whole run \
{f.seconds:.0f} s |
{run_row(NAME, options)}

| Model | Rows | handler median ms | floor median ms | ratio (median) | ratio (min) | \
CPU-time ratio | floor, own database, median ms | ratio to it | handler rows/s | rounds | \
target |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{size_rows}

"CPU-time ratio" is median(handler) / median(floor) of `time.process_time()` (all the \
process's threads) over the same rounds: informative, as other load on the machine \
disturbs it less than wall time; the verdict is the wall-clock ratio.

Where the time goes at {verdict_rows} rows: each stage of the handler on its own, called \
as the handler calls it, interleaved in rounds of their own right after the handler's \
(same rows; the two inserts into tables of their own in the App's database, each growing \
by N rows a round); for the categorical model also the two steps of `score` and of the \
floor:

| Stage | {part_header} |
|---|{"---:|---:|" * len(columns)}
{part_rows}

Beyond the floor at {verdict_rows} rows: each handler stage's median less the floor's \
counterpart's (the floor reads, checks and stamps nothing in its timed call):

| Stage | {beyond_header} |
|---|{"---:|" * len(columns)}
{beyond_rows}

{whys}

First call of a new instance against its second call, {cold_size} rows \
({COLD_WARM_REPEATS} new instances per model, each a fresh `App` and `BatchPredictor` on \
the same home, in this already-warm process):

| Model | Call | median ms | min ms | `ModelCache.loads` after |
|---|---|---:|---:|---|
{cold_rows}

Peak memory at {peak_size} rows, each call in a subprocess of its own \
(`python -m bench.prediction_throughput peak ...`). Peak RSS is the process's `VmHWM` \
(`/proc/self/status`), reset to the current RSS just before the call (`5` written to \
`/proc/self/clear_refs`), so it is the call's own peak; "before" is `VmRSS` at that moment \
(imports, the App, the model; the floor also holds its columns, its matrix for the numeric \
model, and its stamped rows; the categorical floor builds its DataFrame and `Pool` in the \
call). Arrow is `pa.total_allocated_bytes()` before the call / \
`pa.default_memory_pool().max_memory()` (the process's Arrow high-water mark, which for \
the floor was set while building its inputs); DuckDB's and CatBoost's own memory shows \
only in the RSS. `ru_maxrss` is given for the record but is not the call's peak: Linux \
carries the spawning parent's RSS over into a child's `ru_maxrss`. The subject's call is \
warm (a 1k-row batch loaded the model first). No tracemalloc: at 1M rows of category \
strings it made both calls about 8 times slower (35 s each on a loaded machine), and the \
Python allocations it counts are in the RSS peak already.

| Model | At {peak_size} rows | RSS before | peak RSS (call) | increase | \
Arrow before / peak | `ru_maxrss` | call s |
|---|---|---:|---:|---:|---:|---:|---:|
{peak_rows}
"""


def run(options: Options) -> Outcome:
    figures = measure(options)
    per_model = "; ".join(
        f"{v.variant.key}: ratio {v.verdict.ratio:.2f} at {rows_label(v.verdict.rows)} rows "
        f"(target <= {v.variant.target}), "
        + ", ".join(
            f"{rows_label(s.rows)} {s.subject.median_ms:,.1f}/{s.floor.median_ms:,.1f} ms "
            f"= {s.ratio:.2f}"
            for s in v.sizes
        )
        + f", cold {v.cold_warm.cold.median_ms:.1f} ms vs warm "
        f"{v.cold_warm.warm.median_ms:.1f} ms"
        for v in figures.variants
    )
    summary = (
        f"{TITLE}: {verdict(figures.passed)} {per_model}; {load_note(figures.loads, LOAD_SAMPLES)}"
    )
    return Outcome(
        name=NAME,
        title=TITLE,
        passed=figures.passed,
        markdown=render(figures, options),
        summary=summary,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.prediction_throughput peak VARIANT ROLE MODEL INPUT WORK``: one
    call's memory."""
    parser = argparse.ArgumentParser(prog="python -m bench.prediction_throughput")
    commands = parser.add_subparsers(dest="command", required=True)
    peak = commands.add_parser("peak", help="print one call's memory as JSON (a subprocess)")
    peak.add_argument("variant", choices=sorted(VARIANTS))
    peak.add_argument("role", choices=("subject", "floor"))
    peak.add_argument("model", type=Path)
    peak.add_argument("input", type=Path)
    peak.add_argument("work", type=Path)
    args = parser.parse_args(argv)
    figures = peak_in_process(VARIANTS[args.variant], args.role, args.model, args.input, args.work)
    print(json.dumps(asdict(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
