"""Backfill with replay against its floor: the least work any backfill must do.

The target: a backfill of 100k rows with replay within 1.5x its floor.

- data (setup, never timed): an embedded ``App`` (DuckDB warehouse, local bucket) with one
  500-tree depth-6 model published through the card publisher and one ledger entry for its
  system. 10 legacy batches of 10k rows each (100k rows) were predicted by that model and
  written as a worker without stamping wrote them: plain rows, no model columns, no
  execution-log row, every row's ``created_at`` well after the promotion. Each batch's input
  is kept as Parquet at ``batches/<batch_id>/input.parquet`` in the models bucket.
- subject: ``app.backfill().run(replay=True)`` on a fresh copy of the predictions table
  each round (restored from a pristine copy before the round, untimed). Every round must
  attribute all rows ``replay_verified`` (checked).
- floor: what every backfill with replay must do, in plain SQL over Arrow on the same
  DuckDB connection: read the candidate rows (``backfill_candidates.sql``, transpiled) as
  Arrow; read each batch's kept input from the bucket (``ObjectStore.read`` of its known
  name, ``pyarrow.parquet``) and stack its feature columns into a matrix (10k x 10 each),
  since replay cannot predict without them; ``model.predict`` on each with the very model
  object the backfill replays with (the App's ``ModelCache``, loaded once); and one plain
  ``UPDATE ... FROM <arrow>`` of the same 100k changes (on a restored table too).

Also measured, for scale: ``model.predict`` alone, and the subject's stages, timed inside
extra instrumented runs.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import attribution.batches.scoring as scoring_module
from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse, to_duckdb
from attribution.bootstrap import App, build_app
from attribution.config import Settings
from attribution.devtools.training import FEATURES, synthetic_player_games
from attribution.events import object_finalized_event, parse_object_finalized
from attribution.history.backfill import REPLAY_VERIFIED, Backfill, BackfillSummary
from attribution.model_card.card import ModelCard, attribution_columns
from attribution.model_card.loading import ServedModel
from attribution.model_card.publishing import UploadResult
from attribution.warehouse.sql_text import sql
from attribution.warehouse.tables import table_spec
from bench import Options, Outcome
from bench.environment import BENCH_MODEL, spec_model
from bench.section import machine_row, quick_note, run_row, trained_phrase, verdict, versions_row
from bench.timing import AgainstFloor, Timing, time_once

NAME = "backfill_replay"
TITLE = "Backfill with replay"
SYSTEM_ID = "bench_backfill_replay"
GAME_DATE = date(2026, 2, 1)
PROMOTED_AT = datetime(2026, 1, 9, 15, 0, tzinfo=UTC)
TABLE = "player_prop_predictions"
PRISTINE = "bench_backfill_pristine"
WARMUP_ROUNDS = 1
MODEL_SPEC = replace(BENCH_MODEL, system_id=SYSTEM_ID)
TARGET = 1.5


@dataclass(frozen=True)
class Plan:
    batches: int
    rows_per_batch: int
    rounds: int
    stage_runs: int

    @property
    def rows(self) -> int:
        return self.batches * self.rows_per_batch


FULL = Plan(batches=10, rows_per_batch=10_000, rounds=11, stage_runs=3)
QUICK = Plan(batches=10, rows_per_batch=1_000, rounds=3, stage_runs=1)

STAGES: dict[str, str] = {
    "query": "`warehouse.query_arrow(backfill_candidates)`: read the candidate rows as Arrow",
    "inputs": "find and read the kept inputs (`stat`, `read`, `read_rows` of Parquet)",
    "check": "`check_rows` on each kept input (validation, feature matrix), via `score_rows`",
    "predict": "`model.predict` on each batch's matrix, via `score` (also the floor's work)",
    "update": "`warehouse.update_rows` of one Arrow table (guarded `UPDATE ... FROM`)",
    "python": "the rest: batches, ledger look-ups, matching by line key, the update table",
}


@dataclass
class Legacy:
    """The embedded App holding the legacy rows, and what the floor needs."""

    app: App
    warehouse: DuckDBWarehouse
    card: ModelCard
    model: Any
    matrices: list[np.ndarray]
    prediction_ids: pa.Array
    inputs: list[str]

    @property
    def rows(self) -> int:
        return len(self.prediction_ids)


def build_legacy(home: Path, model_path: Path, plan: Plan) -> Legacy:
    app = build_app(Settings(home=home, log_level="WARNING"))
    warehouse = app.warehouse
    if not isinstance(warehouse, DuckDBWarehouse):
        raise TypeError("the benchmark runs on the embedded (DuckDB) warehouse")
    stored = app.models.write(
        f"{app.settings.models_prefix}{model_path.name}", model_path.read_bytes()
    )
    upload = app.card_publisher().handle(parse_object_finalized(object_finalized_event(stored)))
    if upload.result is not UploadResult.PUBLISHED or upload.card is None:
        raise RuntimeError(f"the model was not published: {upload.result} {upload.reason}")
    card: ModelCard = upload.card
    interface = card.interface
    if interface is None or not interface.all_numeric or card.feature_names != FEATURES:
        raise RuntimeError(f"unexpected features {card.feature_names}")
    app.ledger.promote(SYSTEM_ID, card, at=PROMOTED_AT, by="bench")
    # The worker's own copy of the model: what wrote the legacy rows.
    from catboost import CatBoost

    writer = CatBoost()
    writer.load_model(str(model_path))
    matrices: list[np.ndarray] = []
    inputs: list[str] = []
    ids: list[pa.Array] = []
    for index in range(plan.batches):
        batch_id = f"legacy-{index:03d}"
        n = plan.rows_per_batch
        games = synthetic_player_games(n, seed=1_000 + index)
        players = pa.array([f"p{i:07d}" for i in range(n)], pa.string())
        columns: dict[str, pa.Array] = {
            "player_lookup": players,
            "game_date": pa.array([GAME_DATE.isoformat()] * n, pa.string()),
            "line_value": pa.array(games.line_value, pa.float64()),
        }
        for position, name in enumerate(FEATURES):
            columns[name] = pa.array(games.features[:, position], pa.float64())
        buffer = io.BytesIO()
        pq.write_table(pa.table(columns), buffer)
        inputs.append(f"{app.settings.batch_inputs_prefix}{batch_id}/input.parquet")
        app.models.write(
            inputs[-1],
            buffer.getvalue(),
            content_type="application/vnd.apache.parquet",
        )
        features = np.ascontiguousarray(games.features, dtype=np.float64)
        matrices.append(features)
        predicted = np.asarray(writer.predict(features), dtype=np.float64)
        edge = predicted - games.line_value
        prediction_ids = pa.array([f"{batch_id}:p{i:07d}" for i in range(n)], pa.string())
        ids.append(prediction_ids)
        created_at = PROMOTED_AT + timedelta(days=20, minutes=index)
        rows = pa.table(
            {
                "prediction_id": prediction_ids,
                "batch_id": pa.array([batch_id] * n, pa.string()),
                "system_id": pa.array([SYSTEM_ID] * n, pa.string()),
                "game_date": pa.array([GAME_DATE] * n, pa.date32()),
                "player_lookup": players,
                "line_value": pa.array(games.line_value, pa.float64()),
                "predicted_points": pa.array(predicted, pa.float64()),
                "edge": pa.array(edge, pa.float64()),
                "recommendation": pa.array(np.where(edge > 0, "OVER", "UNDER"), pa.string()),
                "run_mode": pa.array(["OVERNIGHT"] * n, pa.string()),
                "created_at": pa.array([created_at] * n, pa.timestamp("us", tz="UTC")),
            }
        )
        warehouse.insert_rows(TABLE, rows)
    warehouse.execute(f"CREATE TABLE {PRISTINE} AS SELECT * FROM {TABLE}")
    model = app.model_cache().model_for(card)  # the object the backfill replays with
    return Legacy(app, warehouse, card, model, matrices, pa.concat_arrays(ids), inputs)


def restore(legacy: Legacy) -> None:
    """A fresh copy of the predictions table: dropped, re-created from its DDL, refilled."""
    legacy.warehouse.execute(f"DROP TABLE {TABLE}")
    legacy.warehouse.create_table(TABLE)
    legacy.warehouse.execute(f"INSERT INTO {TABLE} SELECT * FROM {PRISTINE}")


def check_summary(summary: BackfillSummary, rows: int) -> None:
    if dict(summary.by_method) != {REPLAY_VERIFIED: rows} or summary.updated != rows:
        raise RuntimeError(
            f"the backfill did not prove every row: {dict(summary.by_method)}, "
            f"updated {summary.updated} of {rows}"
        )


def check_table(legacy: Legacy) -> None:
    (row,) = legacy.warehouse.query(
        f"SELECT COUNT(*) AS n, COUNTIF(attribution_method = @method AND model_sha256 = @sha "
        f"AND model_card_id = @card) AS proven FROM {TABLE}",
        {"method": REPLAY_VERIFIED, "sha": legacy.card.model_sha256, "card": legacy.card.card_id},
    )
    if row["n"] != legacy.rows or row["proven"] != legacy.rows:
        raise RuntimeError(f"after the backfill: {row}")


class Floor:
    """The least work every backfill with replay must do, in plain SQL: read the candidate
    rows as Arrow, read the kept inputs and predict on them, one ``UPDATE ... FROM <arrow>``
    of the same changes."""

    def __init__(self, legacy: Legacy) -> None:
        self.legacy = legacy
        (self.select,) = to_duckdb(sql("backfill_candidates"))
        self.params = {
            "include_inferred": True,
            "system_id": None,
            "from_date": date(1900, 1, 1),
            "to_date": date(9999, 12, 31),
        }
        spec = table_spec(TABLE)
        constants = {**attribution_columns(legacy.card), "attribution_method": REPLAY_VERIFIED}
        n = legacy.rows
        arrays: dict[str, pa.Array] = {"prediction_id": legacy.prediction_ids}
        for name, value in constants.items():
            arrays[name] = pa.repeat(pa.scalar(value, spec.column(name).arrow_type), n)
        self.changes = pa.table(arrays)
        assignments = ", ".join(f'"{c}" = changes."{c}"' for c in constants)
        self.update = (
            f'UPDATE "{TABLE}" SET {assignments} FROM changes '
            f'WHERE "{TABLE}".prediction_id = changes.prediction_id'
        )

    def __call__(self) -> None:
        cursor = self.legacy.warehouse._cursor()
        used = {k: v for k, v in self.params.items() if f"${k}" in self.select}
        candidates = cursor.sql(self.select, params=used).to_arrow_table()
        if candidates.num_rows != self.legacy.rows:
            raise RuntimeError(f"{candidates.num_rows} candidates")
        for name in self.legacy.inputs:
            kept = pq.read_table(
                io.BytesIO(self.legacy.app.models.read(name)), columns=list(FEATURES)
            )
            matrix = np.column_stack([kept.column(f).to_numpy() for f in FEATURES])
            self.legacy.model.predict(matrix)
        cursor.register("changes", self.changes)
        try:
            cursor.execute(self.update).fetchall()
        finally:
            cursor.unregister("changes")


@dataclass
class StageClock:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return function(*args, **kwargs)

        return timed


class _TimedModel:
    def __init__(self, model: Any, clock: StageClock) -> None:
        self.model, self.clock = model, clock

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        with self.clock.stage("predict"):
            return self.model.predict(*args, **kwargs)


class _TimedModels:
    """The backfill's ``ModelCache``, handing out the same model with its predict timed."""

    def __init__(self, models: Any, clock: StageClock) -> None:
        self.models, self.clock = models, clock

    def served(self, card: ModelCard) -> ServedModel:
        served: ServedModel = self.models.served(card)
        return ServedModel(_TimedModel(served.model, self.clock), served.interface, served.name)


class _TimedWarehouse:
    def __init__(self, warehouse: DuckDBWarehouse, clock: StageClock) -> None:
        self.warehouse, self.clock = warehouse, clock

    def query_arrow(self, *args: Any, **kwargs: Any) -> pa.Table:
        with self.clock.stage("query"):
            return self.warehouse.query_arrow(*args, **kwargs)

    def update_rows(self, *args: Any, **kwargs: Any) -> int:
        with self.clock.stage("update"):
            return self.warehouse.update_rows(*args, **kwargs)


def staged_run(legacy: Legacy) -> dict[str, float]:
    """One backfill with each stage timed (the ledger's own queries count as "python")."""
    clock = StageClock()
    backfill: Backfill = legacy.app.backfill()
    backfill.warehouse = _TimedWarehouse(legacy.warehouse, clock)  # type: ignore[assignment]
    backfill.models = _TimedModels(backfill.models, clock)  # type: ignore[assignment]
    backfill._kept_input = clock.wrap("inputs", backfill._kept_input)  # type: ignore[method-assign]
    # The backfill scores with ``score_rows``, which checks the rows with the name
    # ``check_rows`` of the scoring module: that name is wrapped, for this run only.
    original_check = getattr(scoring_module, "check_rows")  # noqa: B009 (not re-exported)
    setattr(scoring_module, "check_rows", clock.wrap("check", original_check))  # noqa: B010
    try:
        start = time.perf_counter()
        summary = backfill.run(replay=True)
        total = time.perf_counter() - start
    finally:
        setattr(scoring_module, "check_rows", original_check)  # noqa: B010
    check_summary(summary, legacy.rows)
    stages = {name: clock.seconds.get(name, 0.0) for name in STAGES if name != "python"}
    stages["python"] = total - sum(stages.values())
    stages["total"] = total
    return stages


@dataclass(frozen=True)
class Figures(AgainstFloor):
    plan: Plan
    model_path: Path
    model_bytes: int
    trees: int
    trained_seconds: float | None
    subject: Timing
    floor: Timing
    predict: Timing
    stages: dict[str, Timing]
    loads: int
    seconds: float
    load: tuple[float, float]


def ensure_model(directory: Path) -> tuple[Path, float | None]:
    """The cached benchmark model (trained first if absent) and its train time."""
    return spec_model(MODEL_SPEC, directory, label=NAME)


def measure(options: Options) -> Figures:
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    plan = QUICK if options.quick else FULL
    rounds = options.rounds or plan.rounds
    work = options.work_dir / NAME
    model_path, trained_seconds = ensure_model(work)
    with tempfile.TemporaryDirectory(dir=work, prefix="run-") as temporary:
        legacy = build_legacy(Path(temporary), model_path, plan)
        floor = Floor(legacy)
        summaries: list[BackfillSummary] = []

        def subject() -> None:
            summaries.append(legacy.app.backfill().run(replay=True))

        def predict() -> None:
            for matrix in legacy.matrices:
                legacy.model.predict(matrix)

        cases: dict[str, Callable[[], object]] = {
            "subject": subject,
            "floor": floor,
            "predict": predict,
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for index in range(WARMUP_ROUNDS + rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                if name != "predict":
                    restore(legacy)  # untimed: a fresh copy of the legacy rows
                elapsed = time_once(cases[name])
                if name == "subject":
                    check_summary(summaries[-1], legacy.rows)
                    check_table(legacy)
                if index >= WARMUP_ROUNDS:
                    samples[name].append(elapsed)
        stage_samples: dict[str, list[float]] = {}
        for _ in range(plan.stage_runs):
            restore(legacy)
            for name, seconds in staged_run(legacy).items():
                stage_samples.setdefault(name, []).append(seconds)
        loads = legacy.app.model_cache().loads
        trees = int(legacy.model.tree_count_)
        legacy.warehouse.close()
    return Figures(
        plan=plan,
        model_path=model_path,
        model_bytes=model_path.stat().st_size,
        trees=trees,
        trained_seconds=trained_seconds,
        subject=Timing(tuple(samples["subject"])),
        floor=Timing(tuple(samples["floor"])),
        predict=Timing(tuple(samples["predict"])),
        stages={name: Timing(tuple(values)) for name, values in stage_samples.items()},
        loads=loads,
        seconds=time.perf_counter() - started,
        load=(load_at_start, os.getloadavg()[0]),
    )


def _rows_label(count: int) -> str:
    return f"{count // 1_000}k" if count % 1_000 == 0 else f"{count:,}"


def _why(f: Figures) -> str:
    stage = {name: timing.median_ms for name, timing in f.stages.items()}
    total = stage["total"]
    warehouse = stage["query"] + stage["update"]
    beyond = stage["check"] + stage["python"]
    return (
        f"In an instrumented run ({total:,.1f} ms; stage times above) the backfill spends "
        f"{warehouse:,.1f} ms ({100 * warehouse / total:.0f}%) in the warehouse, reading the "
        f"candidate rows as Arrow ({stage['query']:,.1f} ms) and writing the attribution back "
        f"as one Arrow table ({stage['update']:,.1f} ms), and {stage['predict']:,.1f} ms "
        f"predicting, and {stage['inputs']:,.1f} ms finding and reading the kept inputs: "
        f"the floor's work (but for finding them). Beyond it, {beyond:,.1f} ms "
        f"({100 * beyond / total:.0f}%): checking the inputs ({stage['check']:,.1f}), "
        f"and the backfill's own bookkeeping "
        f"({stage['python']:,.1f}: runs of rows per batch, the ledger, matching replayed "
        f"and stored predictions, the update table). Re-predicting alone takes "
        f"{f.predict.median_ms:,.1f} ms; the floor is {f.floor.median / f.predict.median:.1f}x "
        f"that: reading and writing {_rows_label(f.plan.rows)} rows, not replaying them, is "
        f"what a backfill costs here."
    )


def render(f: Figures, options: Options) -> str:
    rows = _rows_label(f.plan.rows)
    stage_rows = "\n".join(
        f"| {label} | {f.stages[name].median_ms:,.1f} | {f.stages[name].min_ms:,.1f} | "
        f"{100 * f.stages[name].median / f.stages['total'].median:.0f}% |"
        for name, label in STAGES.items()
    )
    return f"""## {TITLE}
{quick_note(options, "10k rows, not the issue's 100k")}
**Target: at most {TARGET}x the floor. {verdict(f.ratio <= TARGET)}**: a \
backfill of {rows} rows with replay takes **{f.subject.median_ms:,.1f} ms** (median) against \
**{f.floor.median_ms:,.1f} ms** for the least work any backfill must do (read the candidates \
and the kept inputs, re-predict, one plain `UPDATE`): ratio **{f.ratio:.2f}** (min-based \
{f.min_ratio:.2f}).

| | |
|---|---|
| Model | {f.trees} trees, depth {MODEL_SPEC.depth}, {len(FEATURES)} features, \
{f.model_bytes:,} bytes `.cbm` (`TrainingSpec(categorical=False, missing_share=0, \
iterations={MODEL_SPEC.iterations}, depth={MODEL_SPEC.depth}, rows={MODEL_SPEC.rows:,})`, \
numeric features only); {trained_phrase(f.trained_seconds)} |
| Data | {f.plan.batches} legacy batches x {f.plan.rows_per_batch:,} rows = {rows} rows, \
predicted by the model and written without attribution (no model columns, no \
execution-log row), `created_at` well after the system's one ledger entry; each batch's \
input kept as Parquet at `batches/<batch_id>/input.parquet` in the embedded bucket |
| Subject | `app.backfill().run(replay=True)` on an embedded `App` (DuckDB, local bucket); \
before each round the predictions table is dropped, re-created from its DDL and refilled \
from a pristine copy (untimed); every round checked: {rows} rows `replay_verified` with \
the model's sha256 and card id |
| Floor | the candidate query (`backfill_candidates.sql`, transpiled) read as Arrow on \
the same DuckDB connection; each of the {f.plan.batches} kept inputs read from the bucket \
by its name (`ObjectStore.read`, `pyarrow.parquet`), its features stacked into a matrix \
({f.plan.rows_per_batch:,} x {len(FEATURES)}) and `model.predict` on it, with the model \
object the backfill replays with (the App's `ModelCache`; `loads` = {f.loads} over the \
whole run); one plain `UPDATE ... FROM <arrow>` of the same {rows} changes (on a \
restored table, like the subject) |
| Also timed | `model.predict` alone on the same matrices |
{machine_row(f.load)}
{versions_row("catboost", "duckdb", "pyarrow", "numpy")}
| Method | {len(f.subject.samples)} rounds after {WARMUP_ROUNDS} warm-up, the three cases \
interleaved, order rotated each round, GC collected then off while timed; stages from \
{len(f.stages["total"].samples)} further instrumented run(s); whole run {f.seconds:.0f} s |
{run_row(NAME, options)}

| Measured (same process) | median ms | min ms | ratio to floor (median) |
|---|---:|---:|---:|
| floor: read candidates and inputs, predict, one plain `UPDATE` | {f.floor.median_ms:,.1f} | \
{f.floor.min_ms:,.1f} | 1.0 |
| subject: `app.backfill().run(replay=True)` | {f.subject.median_ms:,.1f} | \
{f.subject.min_ms:,.1f} | **{f.ratio:.2f}** |
| `model.predict` alone on the {rows} rows | {f.predict.median_ms:,.1f} | \
{f.predict.min_ms:,.1f} | {f.predict.median / f.floor.median:.2f} |

Where the subject's time goes (instrumented runs; wrappers around the warehouse, the \
model, the input reads and `check_rows`):

| Stage | median ms | min ms | share |
|---|---:|---:|---:|
{stage_rows}
| total (instrumented) | {f.stages["total"].median_ms:,.1f} | \
{f.stages["total"].min_ms:,.1f} | 100% |

{_why(f)}
"""


def run(options: Options) -> Outcome:
    figures = measure(options)
    passed = figures.ratio <= TARGET
    summary = (
        f"{TITLE}: {_rows_label(figures.plan.rows)} rows in {figures.subject.median_ms:,.1f} ms "
        f"vs a floor of {figures.floor.median_ms:,.1f} ms = ratio {figures.ratio:.2f} "
        f"(target <= {TARGET}: {verdict(passed)}); re-predicting alone "
        f"{figures.predict.median_ms:,.1f} ms"
    )
    return Outcome(
        name=NAME,
        title=TITLE,
        passed=passed,
        markdown=render(figures, options),
        summary=summary,
    )
