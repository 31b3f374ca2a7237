"""Prediction-batch throughput against its floor, on a 500-tree depth-6 CatBoost model.

The issue: "Model of at least 500 trees, depth 6. End-to-end handler throughput on the
embedded default for 1k, 100k and 1M rows against the floor measured in the same process:
CatBoost predict on the same feature matrix plus one bulk insert of the same rows into
DuckDB. At 100k rows the ratio must be 1.25 or less. Report peak memory at 1M rows and the
first-call versus warm-call time (a warm call never re-reads the model)."

- subject: ``BatchPredictor.handle_message`` of an embedded ``App`` (DuckDB warehouse, local
  bucket) for a ``BatchRequest`` whose rows are a claim check: a Parquet object at
  ``gs://<models bucket>/batches/<batch_id>/input.parquet``. Every round is a new batch
  (fresh ``batch_id``, its own input object), so every round really writes N rows and the
  table grows across rounds, as it does in production.
- floor: ``model.predict(X)`` with the same CatBoost model object the handler uses (loaded
  once) on the same feature matrix, plus one ``INSERT INTO ... SELECT * FROM <arrow>`` of
  the same N output rows (stamped once, before the rounds) into a table made with the same
  DDL, in a DuckDB database of its own (so the subject's table is not touched); that table
  grows by N rows a round too.

The median ratio at 100k rows is the verdict. Also measured: the subject's stages timed on
their own at 100k (interleaved in rounds of their own, after), the first call of a new
instance against its second call at 1k rows, and peak memory at 1M rows in a subprocess of
its own.

Setup, never timed: an embedded ``App`` on a temporary home (migrations run on build), the
model uploaded through the real path (written to the models bucket, then the card
publisher run on the finalize event) and promoted in the deployment ledger; the model is
trained once, deterministically, and cached under ``bench/.work/``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from attribution.adapters.duckdb_warehouse import DuckDBWarehouse
from attribution.batch_request import BatchRequest, RunMode, split_gs_uri
from attribution.batch_rows import check_rows, format_of, read_rows
from attribution.bootstrap import App, build_app
from attribution.card import ModelCard, now_utc
from attribution.config import Settings
from attribution.events import PubSubMessage, object_finalized_event, parse_object_finalized
from attribution.prediction_batch import (
    BatchOutcome,
    BatchPredictor,
    BatchStatus,
    kept_input_name,
)
from attribution.stamping import stamp_predictions
from attribution.tables import table_spec
from attribution.training import FEATURES, TrainingSpec, synthetic_player_games
from attribution.upload import UploadResult
from bench import BENCH_DIR, Options, Outcome
from bench.environment import cpu_model, spec_model
from bench.timing import Timing, interleaved, time_once

NAME = "prediction_throughput"
TITLE = "Prediction batch throughput"
TARGET_RATIO = 1.25
SYSTEM_ID = "bench_prediction_throughput"
GAME_DATE = date(2026, 2, 1)
TABLE = "player_prop_predictions"
WARMUP_ROUNDS = 1
COLD_WARM_REPEATS = 5
MIB = 1024 * 1024
MODEL_SPEC = TrainingSpec(system_id=SYSTEM_ID, iterations=500, depth=6, rows=20_000, seed=0)


@dataclass(frozen=True)
class Plan:
    """Row counts, rounds per count, and which count gives the verdict."""

    sizes: tuple[int, ...]
    rounds: tuple[int, ...]
    verdict_size: int
    cold_warm_size: int
    peak_size: int


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

# The subject's stages, each timed on its own at the verdict size (labels for the table).
PARTS: dict[str, str] = {
    "read": "read the Parquet object from the bucket and parse it (`read_rows`)",
    "check": "`check_rows` (validation, feature matrix)",
    "predict": "`model.predict` on the checked matrix",
    "stamp": "`stamp_predictions` (the output Arrow table)",
    "insert_new_rows": "`DuckDBWarehouse.insert_new_rows` (keyed, scoped insert-once)",
    "insert": "plain `INSERT INTO ... SELECT * FROM <arrow>` (the floor's insert)",
}


@dataclass(frozen=True)
class Rows:
    """One batch's input: the Arrow table sent, its Parquet bytes, its feature matrix."""

    table: pa.Table
    parquet: bytes
    features: np.ndarray

    @property
    def count(self) -> int:
        return int(self.table.num_rows)


def ensure_model(directory: Path) -> tuple[Path, float | None]:
    """The cached benchmark model (trained first if absent) and its train time."""
    return spec_model(MODEL_SPEC, directory, label=NAME)


def make_rows(count: int) -> Rows:
    """``count`` synthetic rows, one player each (unique ``player_lookup``), deterministic."""
    games = synthetic_player_games(count, seed=count)
    columns: dict[str, pa.Array] = {
        "player_lookup": pa.array([f"p{i:07d}" for i in range(count)], pa.string()),
        "line_value": pa.array(games.line_value, pa.float64()),
    }
    for position, name in enumerate(FEATURES):
        columns[name] = pa.array(games.features[:, position], pa.float64())
    table = pa.table(columns)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return Rows(
        table=table, parquet=buffer.getvalue(), features=np.ascontiguousarray(games.features)
    )


def _request(batch_id: str, rows_uri: str | None) -> BatchRequest:
    return BatchRequest(
        batch_id=batch_id,
        system_id=SYSTEM_ID,
        game_date=GAME_DATE,
        run_mode=RunMode.OVERNIGHT,
        pin=None,
        rows=None,
        rows_uri=rows_uri,
    )


@dataclass
class Harness:
    """An embedded App with the benchmark model published and promoted."""

    home: Path
    settings: Settings
    app: App
    predictor: BatchPredictor
    card: ModelCard
    model_bytes: int

    @classmethod
    def create(cls, home: Path, model_path: Path) -> Harness:
        settings = Settings(home=home, log_level="WARNING")
        app = build_app(settings)
        data = model_path.read_bytes()
        stored = app.models.write(f"{settings.models_prefix}{SYSTEM_ID}/{model_path.name}", data)
        upload = app.card_publisher().handle(parse_object_finalized(object_finalized_event(stored)))
        if upload.result is not UploadResult.PUBLISHED or upload.card is None:
            raise RuntimeError(f"the model was not published: {upload.result} {upload.reason}")
        card: ModelCard = upload.card
        if tuple(card.feature_names) != FEATURES:
            raise RuntimeError(f"unexpected features {card.feature_names}")
        app.ledger.promote(SYSTEM_ID, card)
        return cls(
            home=home,
            settings=settings,
            app=app,
            predictor=app.batch_predictor(),
            card=card,
            model_bytes=len(data),
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
            data=_request(batch_id, stored.uri).encode(),
        )

    def model(self) -> Any:
        """The CatBoost object the handler predicts with (loaded at most once)."""
        return self.predictor.models.model_for(self.card)

    def stamped(self, rows: Rows, batch_id: str) -> pa.Table:
        """The output rows the handler writes for ``rows``, stamped as it stamps them."""
        predicted = np.asarray(self.model().predict(rows.features), dtype=np.float64)
        return stamp_predictions(
            _request(batch_id, None),
            self.card,
            rows.table.column("player_lookup").combine_chunks(),
            rows.table.column("line_value").to_numpy(),
            predicted,
            min_edge=self.settings.min_edge,
            created_at=now_utc(),
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


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file at ``path``; in this process, a file already open (the
    App's warehouse) is the same database, so its tables, WAL and checkpoints are shared."""
    return duckdb.connect(str(path))


def create_like(connection: duckdb.DuckDBPyConnection, name: str) -> str:
    """Create table ``name`` with the DDL of ``player_prop_predictions``; return ``name``."""
    connection.execute(replace(table_spec(TABLE), name=name).duckdb_ddl())
    return name


def bulk_insert(connection: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """One plain ``INSERT INTO <table> SELECT * FROM <arrow>``: the floor's write."""
    connection.register("floor_rows", rows)
    try:
        connection.execute(f'INSERT INTO "{table}" SELECT * FROM floor_rows').fetchall()
    finally:
        connection.unregister("floor_rows")


class Floor:
    """``model.predict(X)`` plus one bulk insert of the output rows into ``table``."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        table: str,
        model: Any,
        features: np.ndarray,
        output: pa.Table,
    ) -> None:
        self.connection = connection
        self.table = table
        self.model = model
        self.features = features
        self.output = output

    def __call__(self) -> np.ndarray:
        predicted = np.asarray(self.model.predict(self.features), dtype=np.float64)
        bulk_insert(self.connection, self.table, self.output)
        return predicted

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class SizeFigures:
    rows: int
    rounds: int
    subject: Timing
    floor: Timing
    floor_own_database: Timing
    parts: dict[str, Timing] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.subject.median / self.floor.median

    @property
    def ratio_own_database(self) -> float:
        return self.subject.median / self.floor_own_database.median

    @property
    def cpu_ratio(self) -> float:
        return self.subject.cpu_median / self.floor.cpu_median

    @property
    def min_ratio(self) -> float:
        return self.subject.min / self.floor.min

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.subject.median


def _checked_outcomes(outcomes: Sequence[BatchOutcome], rows: int, expected: int) -> None:
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
    output = harness.stamped(rows, f"bench-floor-{count}")
    shared = connect(harness.settings.warehouse_path)
    floor = Floor(shared, create_like(shared, FLOOR_TABLE), model, rows.features, output)
    own = connect(harness.home / OWN_DATABASE)
    floor_own_database = Floor(own, create_like(own, TABLE), model, rows.features, output)

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

    _checked_outcomes(outcomes, count, WARMUP_ROUNDS + rounds)
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
    """The handler's stages on their own, on the same rows; both inserts go to tables of
    their own (same DDL) in the App's database, so they share its file and checkpoints."""
    model = harness.model()
    message = harness.prepare(rows, "parts")
    uri = json.loads(message.data)["rows_uri"]
    bucket, name = split_gs_uri(uri)
    store = harness.app.store(bucket)
    table = read_rows(store.read(name), format_of(name), source=uri)
    checked = check_rows(table, feature_names=harness.card.feature_names, game_date=GAME_DATE)
    predicted = np.asarray(model.predict(checked.features), dtype=np.float64)

    def stamp(batch_id: str = "bench-parts") -> pa.Table:
        return stamp_predictions(
            _request(batch_id, uri),
            harness.card,
            checked.player_lookup,
            checked.line_value,
            predicted,
            min_edge=harness.settings.min_edge,
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
        )

    return {
        "read": lambda: read_rows(store.read(name), format_of(name), source=uri),
        "check": lambda: check_rows(
            table, feature_names=harness.card.feature_names, game_date=GAME_DATE
        ),
        "predict": lambda: model.predict(checked.features),
        "stamp": stamp,
        "insert_new_rows": insert_new_rows,
        "insert": lambda: bulk_insert(plain, plain_table, output),
    }


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
    _checked_outcomes(outcomes, rows.count, 2)
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

    role: str
    rows: int
    rss_before: int
    peak_rss: int
    ru_maxrss: int
    traced_peak: int
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


def peak_in_process(role: str, model_path: Path, input_path: Path, work: Path) -> PeakMemory:
    """Run one call at the input's size in this (fresh) process and report its memory.

    Warm for the subject (a 1k-row batch first loads the model); the floor's inputs (the
    feature matrix and the stamped output rows) are built before the call and held. The
    peak RSS is reset just before the call, so it is the call's own.
    """
    with tempfile.TemporaryDirectory(dir=work, prefix="peak-") as home:
        harness = Harness.create(Path(home), model_path)
        parquet = input_path.read_bytes()
        count = int(pq.read_metadata(io.BytesIO(parquet)).num_rows)
        run: Callable[[], object]
        if role == "subject":
            harness.predictor.handle_message(harness.prepare(make_rows(1_000), "peak-warm"))
            message = harness.prepare_parquet(parquet, count, "peak")

            def run() -> object:
                outcome = harness.predictor.handle_message(message)
                _checked_outcomes([outcome], count, 1)
                return outcome

        elif role == "floor":
            table = read_rows(parquet, "parquet", source=str(input_path))
            features = np.ascontiguousarray(
                np.column_stack([table.column(f).to_numpy() for f in FEATURES]), np.float64
            )
            rows = Rows(table=table, parquet=b"", features=features)
            shared = connect(harness.settings.warehouse_path)
            run = Floor(
                shared,
                create_like(shared, FLOOR_TABLE),
                harness.model(),
                features,
                harness.stamped(rows, "bench-peak-floor"),
            )
        else:
            raise ValueError(f"unknown role {role!r}")
        del parquet
        gc.collect()
        arrow_before = pa.total_allocated_bytes()
        _reset_peak_rss()
        rss_before = _status_bytes("VmRSS")
        tracemalloc.start()
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return PeakMemory(
            role=role,
            rows=count,
            rss_before=rss_before,
            peak_rss=_status_bytes("VmHWM"),
            ru_maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KiB on Linux
            traced_peak=traced_peak,
            arrow_before=int(arrow_before),
            arrow_peak=int(pa.default_memory_pool().max_memory() or 0),
            seconds=seconds,
        )


def measure_peak(role: str, model_path: Path, input_path: Path, work: Path) -> PeakMemory:
    """``peak_in_process`` in a subprocess, so its peak RSS is that call's alone."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.prediction_throughput",
            "peak",
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
        raise RuntimeError(f"peak-memory subprocess ({role}) failed:\n{completed.stderr}")
    return PeakMemory(**json.loads(completed.stdout.strip().splitlines()[-1]))


@dataclass(frozen=True)
class Figures:
    """Everything measured, ready to print."""

    plan: Plan
    model_path: Path
    model_bytes: int
    trees: int
    depth: int
    trained_seconds: float | None
    sizes: tuple[SizeFigures, ...]
    cold_warm: ColdWarm
    peaks: tuple[PeakMemory, ...]
    seconds: float
    load: tuple[float, float]  # 1-minute load average at the start and at the end

    @property
    def verdict(self) -> SizeFigures:
        return next(s for s in self.sizes if s.rows == self.plan.verdict_size)

    @property
    def passed(self) -> bool:
        return self.verdict.ratio <= TARGET_RATIO and self.cold_warm.never_reloaded


def measure(options: Options) -> Figures:
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    plan = QUICK if options.quick else FULL
    work = options.work_dir / NAME
    model_path, trained_seconds = ensure_model(work)
    rounds = tuple(options.rounds or r for r in plan.rounds)
    with tempfile.TemporaryDirectory(dir=work, prefix="run-") as temporary:
        home = Path(temporary)
        harness = Harness.create(home / "app", model_path)
        trees = int(harness.model().tree_count_)
        depth = int(harness.card.params.get("depth", MODEL_SPEC.depth))
        # One call before anything is timed: process-wide first-use costs (the message
        # validator, transpiled SQL) are not an instance's, and the model gets loaded once.
        harness.predictor.handle_message(harness.prepare(make_rows(plan.cold_warm_size), "first"))
        if harness.predictor.models.loads != 1:
            raise RuntimeError("the model was not loaded exactly once")
        cold_warm = measure_cold_warm(harness, make_rows(plan.cold_warm_size), COLD_WARM_REPEATS)

        sizes: list[SizeFigures] = []
        peak_input = home / "peak-input.parquet"
        for count, size_rounds in zip(plan.sizes, rounds, strict=True):
            rows = make_rows(count)
            if count == plan.peak_size:
                peak_input.write_bytes(rows.parquet)
            sizes.append(
                measure_size(harness, rows, size_rounds, with_parts=count == plan.verdict_size)
            )
            del rows
            gc.collect()
        if harness.predictor.models.loads != 1:
            raise RuntimeError(f"the model was loaded {harness.predictor.models.loads} times")
        peaks = tuple(
            measure_peak(role, model_path, peak_input, home) for role in ("subject", "floor")
        )
    return Figures(
        plan=plan,
        model_path=model_path,
        model_bytes=model_path.stat().st_size,
        trees=trees,
        depth=depth,
        trained_seconds=trained_seconds,
        sizes=tuple(sizes),
        cold_warm=cold_warm,
        peaks=peaks,
        seconds=time.perf_counter() - started,
        load=(load_at_start, os.getloadavg()[0]),
    )


def _rows_label(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1_000 and count % 1_000 == 0:
        return f"{count // 1_000}k"
    return f"{count:,}"


def _mib(value: int) -> str:
    return f"{value / MIB:,.0f} MiB"


def _why(figures: Figures) -> str:
    size = figures.verdict
    if not size.parts:
        return ""
    parts = {name: timing.median_ms for name, timing in size.parts.items()}
    in_subject = ("read", "check", "predict", "stamp", "insert_new_rows")
    rest = size.subject.median_ms - sum(parts[p] for p in in_subject)
    over = size.subject.median_ms - size.floor.median_ms
    per_batch = (
        "message validation, the already-done checks, the batch claim object, the "
        "active-model lookup and the execution-log row"
    )
    smallest = figures.sizes[0]
    if smallest.rows < size.rows:
        per_batch += (
            f" (at {_rows_label(smallest.rows)} rows, where rows cost little, handler - floor "
            f"= {smallest.subject.median_ms - smallest.floor.median_ms:.1f} ms)"
        )
    text = (
        f"At {_rows_label(size.rows)} rows the handler takes {over:+.1f} ms over the floor. "
        f"Stage by stage: it reads and parses the Parquet claim check "
        f"({parts['read']:.1f} ms), checks the rows ({parts['check']:.1f} ms) and stamps "
        f"them ({parts['stamp']:.1f} ms), none of which the floor does; its insert-once "
        f"write (a DISTINCT count of the incoming keys, a probe for rows already in the "
        f"batch's scope, then the insert, in one transaction) costs "
        f"{parts['insert_new_rows'] - parts['insert']:+.1f} ms against the plain insert; "
        f"predict is the floor's own ({parts['predict']:.1f} ms). "
    )
    if rest >= 0:
        return text + (
            f"The rest, {rest:.1f} ms, is per-batch work outside those stages: {per_batch}; "
            f"plus run-to-run noise."
        )
    return text + (
        f"The stages timed on their own add up to {-rest:.1f} ms more than the handler's "
        f"median, which is run-to-run noise; per-batch work outside them is {per_batch}."
    )


def render(figures: Figures, options: Options) -> str:
    import catboost
    import duckdb

    f = figures
    verdict = f.verdict
    result = "PASS" if f.passed else "FAIL"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    trained = (
        f"trained in {f.trained_seconds:.1f} s this run"
        if f.trained_seconds is not None
        else "reused from cache"
    )
    quick_note = (
        "\n**Quick run: smaller row counts, so this is not the issue's figure.**\n"
        if options.quick
        else ""
    )
    size_rows = "\n".join(
        f"| {_rows_label(s.rows)} | {s.subject.median_ms:,.1f} | {s.floor.median_ms:,.1f} | "
        f"**{s.ratio:.2f}** | {s.min_ratio:.2f} | {s.cpu_ratio:.2f} | "
        f"{s.floor_own_database.median_ms:,.1f} | {s.ratio_own_database:.2f} | "
        f"{s.rows_per_second:,.0f} | {s.rounds} | "
        + (
            f"<= {TARGET_RATIO}: {'PASS' if s.ratio <= TARGET_RATIO else 'FAIL'}"
            if s is verdict
            else "informative"
        )
        + " |"
        for s in f.sizes
    )
    part_rows = "\n".join(
        f"| {label} | {verdict.parts[name].median_ms:,.1f} | {verdict.parts[name].min_ms:,.1f} |"
        for name, label in PARTS.items()
        if name in verdict.parts
    )
    cw = f.cold_warm
    peak_rows = "\n".join(
        f"| {p.role} | {_mib(p.rss_before)} | **{_mib(p.peak_rss)}** | {_mib(p.increase)} | "
        f"{_mib(p.traced_peak)} | {_mib(p.arrow_before)} / {_mib(p.arrow_peak)} | "
        f"{_mib(p.ru_maxrss)} | {p.seconds:.2f} |"
        for p in f.peaks
    )
    subject_peak = next(p for p in f.peaks if p.role == "subject")
    return f"""## {TITLE}
{quick_note}
**{result}**: at {_rows_label(verdict.rows)} rows median(handler) / median(floor) = \
**{verdict.ratio:.2f}**, target <= {TARGET_RATIO} (min-based ratio {verdict.min_ratio:.2f}). \
Warm calls never re-read the model: {"yes" if cw.never_reloaded else "NO"}.

| | |
|---|---|
| Model | {f.trees} trees, depth {f.depth}, {len(FEATURES)} features, {f.model_bytes:,} bytes \
`.cbm` (`TrainingSpec(iterations={MODEL_SPEC.iterations}, depth={MODEL_SPEC.depth}, \
rows={MODEL_SPEC.rows:,})`); {trained} |
| Subject | `BatchPredictor.handle_message` of an embedded `App` (DuckDB warehouse, local \
bucket; `Settings(home=<temp>, log_level="WARNING")`), the model uploaded through the card \
publisher and promoted; each round a new `batch_id` whose rows are a Parquet claim check \
(`rows_uri`, unique `player_lookup` per row); every call checked: `success`, N rows written |
| Floor | the handler's own CatBoost object (loaded once): `model.predict(X)` on the same \
feature matrix + one `INSERT INTO <table> SELECT * FROM <arrow>` of the same N stamped rows \
(stamped before the rounds) into a table made with the same DDL as \
`player_prop_predictions`: `{FLOOR_TABLE}`, in the App's own DuckDB file (the verdict: any \
implementation writes into that database, so its file, catalog and checkpoints are part of \
the least work), and, for comparison, a table in a database file holding nothing else \
(`{OWN_DATABASE}`). Both grow by N rows a round like the subject's. The last batch's \
written predictions are checked equal to the floor's |
| Machine | {os.cpu_count()} cores (`os.cpu_count()`), {cpu_model()}, \
{platform.system()} {platform.machine()}; 1-minute load average {f.load[0]:.1f} at the \
start, {f.load[1]:.1f} at the end (other work shares this machine) |
| Versions | Python {platform.python_version()}, CatBoost {catboost.__version__}, DuckDB \
{duckdb.__version__}, pyarrow {pa.__version__}, NumPy {np.__version__} |
| Method | per row count, subject and both floors interleaved for the rounds shown after \
{WARMUP_ROUNDS} warm-up, order rotated each round, GC collected then off while timed; \
sizes run in order 1k, 100k, 1M on one growing table; whole run {f.seconds:.0f} s |
| Run | {when}, `.venv/bin/python -m bench{" --quick" if options.quick else ""}` |

| Rows | handler median ms | floor median ms | ratio (median) | ratio (min) | \
CPU-time ratio | floor, own database, median ms | ratio to it | handler rows/s | rounds | \
target |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{size_rows}

"CPU-time ratio" is median(handler) / median(floor) of `time.process_time()` (all the \
process's threads) over the same rounds: informative, as other load on the machine \
disturbs it less than wall time; the verdict is the wall-clock ratio.

Where the time goes at {_rows_label(verdict.rows)} rows: each stage of the handler on its \
own, interleaved in {verdict.rounds} rounds of their own right after the handler's (same \
rows; the two inserts into tables of their own in the App's database, each growing by N \
rows a round):

| Stage | median ms | min ms |
|---|---:|---:|
{part_rows}

{_why(f)}

First call of a new instance against its second call, {_rows_label(cw.rows)} rows \
({len(cw.cold.samples)} new instances, each a fresh `App` and `BatchPredictor` on the same \
home, in this already-warm process):

| Call | median ms | min ms | `ModelCache.loads` after |
|---|---:|---:|---|
| first (cold: reads the model from the bucket, checks its SHA-256, loads it; \
looks up the active model in the ledger) | {cw.cold.median_ms:.1f} | {cw.cold.min_ms:.1f} | \
{", ".join(map(str, cw.loads_after_cold))} |
| second (warm: model and active card cached) | {cw.warm.median_ms:.1f} | \
{cw.warm.min_ms:.1f} | {", ".join(map(str, cw.loads_after_warm))} |

Peak memory at {_rows_label(subject_peak.rows)} rows, each call in a subprocess of its \
own (`python -m bench.prediction_throughput peak ...`). Peak RSS is the process's `VmHWM` \
(`/proc/self/status`), reset to the current RSS just before the call (`5` written to \
`/proc/self/clear_refs`), so it is the call's own peak; "before" is `VmRSS` at that moment \
(imports, the App, the model; the floor also holds its feature matrix and stamped rows). \
tracemalloc counts Python and NumPy allocations during the call; Arrow is \
`pa.total_allocated_bytes()` before the call / `pa.default_memory_pool().max_memory()` \
(the process's Arrow high-water mark, which for the floor was set while building its \
inputs); DuckDB's own memory shows only in the RSS. `ru_maxrss` is given for the record but \
is not the call's peak: Linux carries the spawning parent's RSS over into a child's \
`ru_maxrss`. The subject's call is warm (a 1k-row batch loaded the model first); its \
seconds include tracemalloc's overhead.

| At {_rows_label(subject_peak.rows)} rows | RSS before | peak RSS (call) | increase | \
tracemalloc peak | Arrow before / peak | `ru_maxrss` | call s |
|---|---:|---:|---:|---:|---:|---:|---:|
{peak_rows}
"""


def run(options: Options) -> Outcome:
    figures = measure(options)
    result = "PASS" if figures.passed else "FAIL"
    ratios = ", ".join(
        f"{_rows_label(s.rows)} {s.subject.median_ms:,.1f}/{s.floor.median_ms:,.1f} ms "
        f"= {s.ratio:.2f}"
        for s in figures.sizes
    )
    subject_peak = next(p for p in figures.peaks if p.role == "subject")
    summary = (
        f"{TITLE}: {result} ratio {figures.verdict.ratio:.2f} at "
        f"{_rows_label(figures.verdict.rows)} rows (target <= {TARGET_RATIO}); {ratios}; "
        f"cold {figures.cold_warm.cold.median_ms:.1f} ms vs warm "
        f"{figures.cold_warm.warm.median_ms:.1f} ms; peak RSS "
        f"{_mib(subject_peak.peak_rss)} at {_rows_label(subject_peak.rows)} rows"
    )
    return Outcome(
        name=NAME,
        title=TITLE,
        passed=figures.passed,
        markdown=render(figures, options),
        summary=summary,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.prediction_throughput peak ROLE MODEL INPUT WORK``: one call's memory."""
    parser = argparse.ArgumentParser(prog="python -m bench.prediction_throughput")
    commands = parser.add_subparsers(dest="command", required=True)
    peak = commands.add_parser("peak", help="print one call's memory as JSON (a subprocess)")
    peak.add_argument("role", choices=("subject", "floor"))
    peak.add_argument("model", type=Path)
    peak.add_argument("input", type=Path)
    peak.add_argument("work", type=Path)
    args = parser.parse_args(argv)
    figures = peak_in_process(args.role, args.model, args.input, args.work)
    print(json.dumps(asdict(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
