"""Challenger-batch throughput: a champion and two challengers against their floor.

The issue: "A 100k-row batch with a champion and two challengers costs at most 1.25 times
the floor of three predicts on the same matrix plus three bulk inserts; report it beside
the champion-only figure."

Three models trained like ``prediction_throughput``'s numeric one (``train_model``, a
``CatBoostRegressor`` of 500 trees of depth 6 fit on a pandas DataFrame of the 10 numeric
features, none missing), each with its own seed (0, 1, 2) so they differ, all declaring
the same system. Two embedded ``App`` s (DuckDB warehouse, local bucket), each on a home of
its own, every model uploaded through the real path (written to the models bucket, the
card publisher run on the finalize event):

- lineup: the seed-0 model promoted (the champion), the other two recorded as challengers
  (``app.ledger.challenge``).
- champion only: the seed-0 model promoted, no challenger.

Both with ``post_run_verification=False``: the embedded bus would otherwise run the post-run
verifier function inside every handler call (on the process's default App, not these),
where in production it is another function's Pub/Sub delivery.

- subject: ``BatchPredictor.handle_message`` for a ``BatchRequest`` whose rows are a claim
  check (a Parquet object where the handler keeps inputs), a new ``batch_id`` each round,
  so every round really writes (the lineup: N champion rows into
  ``player_prop_predictions`` and 2 x N rows into ``challenger_predictions``), and the
  tables grow across rounds as in production.
- floor: with the CatBoost objects the handler uses (its ``ModelCache``, loaded once), each
  model's ``model.predict(X)`` on the same float64 matrix (built before the rounds), and
  for each one plain ``INSERT INTO ... SELECT * FROM <arrow>`` of N rows stamped before the
  rounds as that model's role stamps them: the champion's into a table with
  ``player_prop_predictions``' DDL, both challengers' into one table with
  ``challenger_predictions``' DDL (as the handler writes both into one table), all in the
  App's own DuckDB file. The champion-only floor is one predict and one insert.

All four (two subjects, two floors) are interleaved round by round; the lineup's median
ratio is the verdict. The stages of the lineup's handler are then timed on their own, in
rounds of their own: reading and hashing the claim check, ``check_slate`` and the
execution log once, and per model ``check_features``, ``score``, ``stamp_predictions`` and
``insert_new_rows`` (the second challenger's into a scope already holding the first's rows,
as in the handler), beside the floor's predict and plain insert of each model.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.batches.challengers import ChallengerRun
from attribution.batches.execution_log import BatchCounts, BatchStatus, log_row
from attribution.batches.lineup import Role
from attribution.batches.predictor import BatchOutcome
from attribution.batches.rows import check_features, check_slate, format_of, read_rows
from attribution.batches.scoring import score, text_columns
from attribution.batches.stamping import PREDICTION_TABLES, stamp_predictions
from attribution.clock import now_utc
from attribution.config import Settings
from attribution.devtools.training import FEATURES
from attribution.events import PubSubMessage
from attribution.model_card.card import ModelCard
from attribution.objects import split_gs_uri
from attribution.warehouse.tables import table_spec
from bench import Options, Outcome
from bench.environment import BENCH_MODEL, spec_model
from bench.prediction_throughput import (
    FLOOR_TABLE,
    GAME_DATE,
    WARMUP_ROUNDS,
    Floor,
    FloorInput,
    Harness,
    Rows,
    Variant,
    batch_request,
    bulk_insert,
    checked_outcomes,
    connect,
    create_like,
    floor_predict,
    make_rows,
    publish,
    rows_label,
)
from bench.section import (
    load_note,
    machine_row,
    quick_note,
    run_row,
    trained_phrase,
    verdict,
    versions_row,
)
from bench.timing import AgainstFloor, Timing, interleaved

NAME = "challenger_throughput"
TITLE = "Challenger batch throughput"
TARGET = 1.25
SYSTEM_ID = "bench_challenger_throughput"
CHAMPION_TABLE = PREDICTION_TABLES[Role.CHAMPION]
CHALLENGER_TABLE = PREDICTION_TABLES[Role.CHALLENGER]
FLOOR_CHALLENGER_TABLE = "bench_floor_challenger_predictions"
LOAD_SAMPLES = "at the start, before the timed rounds, before the stages, at the end"


def _variant(key: str, seed: int) -> Variant:
    return Variant(
        key=key,
        label="10 numeric features",
        spec=replace(BENCH_MODEL, system_id=SYSTEM_ID, seed=seed),
        target=TARGET,
    )


# The lineup in order: the champion, then its challengers (each its own seed).
MODELS: tuple[Variant, ...] = (
    _variant("champion", 0),
    _variant("challenger_1", 1),
    _variant("challenger_2", 2),
)
ROLES: tuple[Role, ...] = (Role.CHAMPION, Role.CHALLENGER, Role.CHALLENGER)


@dataclass(frozen=True)
class Plan:
    rows: int
    rounds: int
    first_rows: int = 1_000  # the untimed first call that loads the models


FULL = Plan(rows=100_000, rounds=21)
QUICK = Plan(rows=10_000, rounds=5)


@dataclass
class Lineup:
    """An embedded App whose system runs ``cards``: the champion first, then challengers."""

    harness: Harness
    cards: tuple[ModelCard, ...]

    @classmethod
    def create(cls, home: Path, models: Sequence[Path]) -> Lineup:
        # No post-run verification: the embedded bus would run the verifier function inside
        # the handler's call (in production it is another function's Pub/Sub delivery), on
        # the process's default App, not this one.
        settings = Settings(home=home, log_level="WARNING", post_run_verification=False)
        harness = Harness.create(home, models[0], MODELS[0], settings=settings)  # promoted
        cards = [harness.card]
        for path, variant in zip(models[1:], MODELS[1:], strict=False):
            card = publish(harness.app, path, variant)
            harness.app.ledger.challenge(SYSTEM_ID, card)
            cards.append(card)
        return cls(harness, tuple(cards))

    @property
    def roles(self) -> tuple[Role, ...]:
        return ROLES[: len(self.cards)]

    def model(self, card: ModelCard) -> Any:
        """The CatBoost object the handler predicts with (loaded at most once)."""
        return self.harness.predictor.models.model_for(card)

    @property
    def loads(self) -> int:
        return self.harness.predictor.models.loads

    @property
    def warehouse(self) -> DuckDBWarehouse:
        warehouse = self.harness.app.warehouse
        if not isinstance(warehouse, DuckDBWarehouse):
            raise TypeError("the benchmark runs on the embedded (DuckDB) warehouse")
        return warehouse

    def handle(self, message: PubSubMessage) -> BatchOutcome:
        return self.harness.predictor.handle_message(message)


class LineupFloor:
    """Each model's predict on the same matrix plus one bulk insert of its stamped rows
    (the champion's into a ``player_prop_predictions``-like table, the challengers' into
    one ``challenger_predictions``-like table), in the App's own DuckDB file."""

    def __init__(self, lineup: Lineup, rows: Rows, model_input: FloorInput) -> None:
        self.connection = connect(lineup.harness.settings.warehouse_path)
        tables = {
            Role.CHAMPION: create_like(self.connection, FLOOR_TABLE),
            Role.CHALLENGER: create_like(self.connection, FLOOR_CHALLENGER_TABLE, CHALLENGER_TABLE),
        }
        self.floors: list[Floor] = []
        for card, role in zip(lineup.cards, lineup.roles, strict=True):
            model = lineup.model(card)
            output = lineup.harness.stamped(
                rows,
                floor_predict(model, model_input),
                f"bench-floor-{role.value}-{rows.count}",
                card=card,
                role=role,
            )
            self.floors.append(Floor(self.connection, tables[role], model, model_input, output))

    def __call__(self) -> list[np.ndarray]:
        return [floor() for floor in self.floors]

    def close(self) -> None:
        self.connection.close()  # the floors share it


@dataclass(frozen=True)
class Case(AgainstFloor):
    """One handler case and its floor, timed in the same rounds."""

    key: str
    label: str
    models: int
    rows: int
    subject: Timing
    floor: Timing

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.subject.median


@dataclass(frozen=True)
class ModelFigures:
    variant: Variant
    role: Role
    path: Path
    trained_seconds: float | None
    trees: int
    depth: int
    sha256: str


@dataclass(frozen=True)
class Figures:
    plan: Plan
    rounds: int
    models: tuple[ModelFigures, ...]
    lineup: Case
    champion: Case
    parts: dict[str, Timing]
    loads: tuple[float, ...]
    model_loads: tuple[int, int]
    seconds: float

    @property
    def passed(self) -> bool:
        return self.lineup.ratio <= TARGET


def _check_lineup_outcomes(
    outcomes: Sequence[BatchOutcome], lineup: Lineup, rows: int, expected: int
) -> None:
    """Every call a success that wrote ``rows`` champion rows and ``rows`` rows for each of
    the lineup's challengers."""
    checked_outcomes(outcomes, rows, expected)
    challengers = [c.model_sha256 for c in lineup.cards[1:]]
    for outcome in outcomes:
        ran = [(c.card.model_sha256, c.written, c.rejected, c.error) for c in outcome.challengers]
        if ran != [(sha, rows, 0, None) for sha in challengers]:
            raise RuntimeError(f"batch {outcome.batch_id}: challengers {ran}, expected {rows} rows")


def _check_written(
    lineup: Lineup, outcomes: Sequence[BatchOutcome], rows: int, floor: Sequence[np.ndarray]
) -> None:
    """In the warehouse: every batch's rows per model, and the last batch's predictions of
    each model equal to the floor's."""
    batches = {o.batch_id for o in outcomes}
    warehouse = lineup.warehouse
    counts: dict[tuple[str, str], int] = {}
    for table in (CHAMPION_TABLE, CHALLENGER_TABLE):
        for row in warehouse.query(
            f"SELECT batch_id, model_sha256, COUNT(*) AS n FROM {table} "
            "GROUP BY batch_id, model_sha256"
        ):
            if row["batch_id"] in batches:
                counts[(row["batch_id"], row["model_sha256"])] = int(row["n"])
    for batch in batches:
        for card in lineup.cards:
            if counts.get((str(batch), card.model_sha256)) != rows:
                raise RuntimeError(
                    f"batch {batch}: {counts.get((str(batch), card.model_sha256))} rows of "
                    f"{card.model_file_name} written, expected {rows}"
                )
    if len(counts) != len(batches) * len(lineup.cards):
        raise RuntimeError(f"unexpected rows: {sorted(counts)}")
    last = outcomes[-1].batch_id
    for card, role, predicted in zip(lineup.cards, lineup.roles, floor, strict=True):
        with warnings.catch_warnings():  # DuckDB notes the DB-API Arrow copy; not timed
            warnings.simplefilter("ignore", UserWarning)
            written = warehouse.query_arrow(
                f"SELECT predicted_points FROM {PREDICTION_TABLES[role]} "
                "WHERE batch_id = @batch_id AND game_date = @game_date "
                "AND model_sha256 = @sha256 ORDER BY player_lookup",
                {"batch_id": last, "game_date": GAME_DATE, "sha256": card.model_sha256},
            )
        values = written.column("predicted_points").to_numpy()
        if len(values) != rows or not np.allclose(values, predicted, rtol=0.0, atol=1e-9):
            raise RuntimeError(
                f"batch {last}: {card.model_file_name}'s predictions are not the floor's"
            )


def _part_cases(
    lineup: Lineup, rows: Rows, calls: int
) -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    """The lineup handler's stages on their own, on the same rows, called as the handler
    calls them, and the floor's two steps per model; the inserts go to tables of their own
    (same DDL) in the App's database. Also the function that closes their connections."""
    harness = lineup.harness
    cards = lineup.cards
    served = [harness.predictor.models.served(card) for card in cards]
    as_text = text_columns(served[0].interface, *(s.interface for s in served[1:]))
    message = harness.prepare(rows, "parts")
    uri = json.loads(message.data)["rows_uri"]
    bucket, name = split_gs_uri(uri)
    store = harness.app.store(bucket)
    data = store.read(name)
    sha256 = hashlib.sha256(data).hexdigest()
    challengers = json.dumps(
        [ChallengerRun(card, written=rows.count).to_document() for card in cards[1:]],
        sort_keys=True,
    )
    table = read_rows(data, format_of(name), source=uri, text_columns=as_text)
    slate = check_slate(table, game_date=GAME_DATE)
    checked = [check_features(slate, s.interface) for s in served]
    scores = [score(s, c.features) for s, c in zip(served, checked, strict=True)]

    def stamp(index: int, batch_id: str = "bench-parts") -> pa.Table:
        return stamp_predictions(
            batch_request(SYSTEM_ID, batch_id, uri),
            cards[index],
            checked[index],
            scores[index],
            rules=harness.rules,
            created_at=now_utc(),
            role=ROLES[index],
        )

    keyed = DuckDBWarehouse(harness.settings.warehouse_path)
    plain = connect(harness.settings.warehouse_path)
    keyed_tables: dict[Role, str] = {}
    plain_tables: dict[Role, str] = {}
    for role in (Role.CHAMPION, Role.CHALLENGER):
        keyed_tables[role] = f"bench_parts_keyed_{role.value}"
        keyed.create_table_from(
            replace(table_spec(PREDICTION_TABLES[role]), name=keyed_tables[role])
        )
        plain_tables[role] = create_like(
            plain, f"bench_parts_plain_{role.value}", PREDICTION_TABLES[role]
        )
    log = harness.predictor.log

    def execution_log() -> None:
        """What the handler does with the execution log for a new batch: looks its row up
        twice (before and after the claim), writes it ``running``, then its final row."""
        batch_id = f"bench-parts-log-{uuid.uuid4().hex[:12]}"
        request = batch_request(SYSTEM_ID, batch_id, uri)
        started_at = now_utc()
        for _ in range(2):
            log.get(batch_id)
        for status, counts in (
            (BatchStatus.RUNNING, BatchCounts(rows.count)),
            (BatchStatus.SUCCESS, BatchCounts(rows.count, rows.count, 0)),
        ):
            log.record(
                log_row(
                    batch_id=batch_id,
                    status=status,
                    started_at=started_at,
                    duration_ms=1,
                    request=request,
                    card=cards[0],
                    counts=counts,
                    input_sha256=sha256,
                    input_uri=uri,
                    message_id=message.message_id,
                    challengers=challengers if status is BatchStatus.SUCCESS else None,
                )
            )

    model_input = FloorInput(MODELS[0], rows)
    matrix = model_input()
    cases: dict[str, Callable[[], object]] = {
        "read": lambda: read_rows(
            store.read(name), format_of(name), source=uri, text_columns=as_text
        ),
        "input_sha256": lambda: hashlib.sha256(data).hexdigest(),
        "check_slate": lambda: check_slate(table, game_date=GAME_DATE),
        "execution_log": execution_log,
    }

    def model_cases(index: int) -> dict[str, Callable[[], object]]:
        key, role, card = MODELS[index].key, ROLES[index], cards[index]
        interface, features = served[index].interface, checked[index].features
        # Each insert-once call is a new batch, as in a run. The champion's scope holds no
        # rows yet; a challenger's holds the rows the challengers before it wrote for the
        # batch (they share challenger_predictions), written here first, untimed.
        batches = [f"bench-parts-{key}-{rows.count}-{uuid.uuid4().hex[:12]}" for _ in range(calls)]
        for earlier in range(1, index) if role is Role.CHALLENGER else ():
            for batch_id in batches:
                keyed.insert_new_rows(
                    keyed_tables[role],
                    stamp(earlier, batch_id),
                    key=["prediction_id"],
                    scope={"batch_id": batch_id, "game_date": GAME_DATE},
                    unique_keys=True,
                )
        pending: Iterator[tuple[str, pa.Table]] = iter([(b, stamp(index, b)) for b in batches])
        output = stamp(index)
        model = lineup.model(card)

        def insert_new_rows() -> None:
            batch_id, stamped = next(pending)
            keyed.insert_new_rows(  # as the handler calls it
                keyed_tables[role],
                stamped,
                key=["prediction_id"],
                scope={"batch_id": batch_id, "game_date": GAME_DATE},
                unique_keys=True,
            )

        return {
            f"{key}:check_features": lambda: check_features(slate, interface),
            f"{key}:score": lambda: score(served[index], features),
            f"{key}:stamp": lambda: stamp(index),
            f"{key}:insert_new_rows": insert_new_rows,
            f"{key}:floor_predict": lambda: model.predict(matrix),
            f"{key}:insert": lambda: bulk_insert(plain, plain_tables[role], output),
        }

    for index in range(len(cards)):
        cases |= model_cases(index)

    def close() -> None:
        keyed.close()
        plain.close()

    return cases, close


def _model_figures(
    lineup: Lineup, paths: Sequence[tuple[Path, float | None]]
) -> tuple[ModelFigures, ...]:
    return tuple(
        ModelFigures(
            variant=variant,
            role=role,
            path=path,
            trained_seconds=trained,
            trees=int(lineup.model(card).tree_count_),
            depth=int(card.params.get("depth", variant.spec.depth)),
            sha256=card.model_sha256,
        )
        for card, role, variant, (path, trained) in zip(
            lineup.cards, ROLES, MODELS, paths, strict=True
        )
    )


def measure(options: Options) -> Figures:
    started = time.perf_counter()
    loads = [os.getloadavg()[0]]
    plan = QUICK if options.quick else FULL
    rounds = options.rounds or plan.rounds
    work = options.work_dir / NAME
    # All three models trained (or found) before anything is timed.
    paths = [spec_model(v.spec, work, label=f"{NAME}:{v.key}") for v in MODELS]
    calls = WARMUP_ROUNDS + rounds
    with tempfile.TemporaryDirectory(dir=work, prefix="run-") as temporary:
        home = Path(temporary)
        lineup = Lineup.create(home / "lineup", [p for p, _ in paths])
        solo = Lineup.create(home / "champion-only", [paths[0][0]])
        models = _model_figures(lineup, paths)
        # One call each before anything is timed: process-wide first-use costs are no
        # batch's, and every model gets loaded once.
        first = make_rows(plan.first_rows, MODELS[0])
        for case in (lineup, solo):
            outcome = case.handle(case.harness.prepare(first, "first"))
            if case is lineup:
                _check_lineup_outcomes([outcome], case, first.count, 1)
            else:
                checked_outcomes([outcome], first.count, 1)
            if case.loads != len(case.cards):
                raise RuntimeError(f"{case.loads} model loads for {len(case.cards)} models")
        rows = make_rows(plan.rows, MODELS[0])
        model_input = FloorInput(MODELS[0], rows)
        floors = {
            "lineup": LineupFloor(lineup, rows, model_input),
            "champion": LineupFloor(solo, rows, model_input),
        }
        messages = {
            "lineup": iter([lineup.harness.prepare(rows, "lineup") for _ in range(calls)]),
            "champion": iter([solo.harness.prepare(rows, "solo") for _ in range(calls)]),
        }
        outcomes: dict[str, list[BatchOutcome]] = {"lineup": [], "champion": []}

        def subject(key: str, case: Lineup) -> Callable[[], None]:
            return lambda: outcomes[key].append(case.handle(next(messages[key])))

        loads.append(os.getloadavg()[0])
        timings = interleaved(
            {
                "lineup": subject("lineup", lineup),
                "lineup_floor": floors["lineup"],
                "champion": subject("champion", solo),
                "champion_floor": floors["champion"],
            },
            rounds=rounds,
            warmup=WARMUP_ROUNDS,
        )
        predicted = {key: floor() for key, floor in floors.items()}
        for floor in floors.values():
            floor.close()
        _check_lineup_outcomes(outcomes["lineup"], lineup, rows.count, calls)
        checked_outcomes(outcomes["champion"], rows.count, calls)
        if any(o.challengers for o in outcomes["champion"]):
            raise RuntimeError("the champion-only system ran a challenger")
        _check_written(lineup, outcomes["lineup"], rows.count, predicted["lineup"])
        _check_written(solo, outcomes["champion"], rows.count, predicted["champion"])

        loads.append(os.getloadavg()[0])
        cases, close = _part_cases(lineup, rows, calls)
        parts = interleaved(cases, rounds=rounds, warmup=WARMUP_ROUNDS)
        close()
        model_loads = (lineup.loads, solo.loads)
        if model_loads != (3, 1):
            raise RuntimeError(f"models loaded {model_loads} times, expected once each")
        for case in (lineup, solo):
            case.harness.close()
        del rows, model_input, floors, cases
        gc.collect()
    loads.append(os.getloadavg()[0])
    return Figures(
        plan=plan,
        rounds=rounds,
        models=models,
        lineup=Case(
            key="lineup",
            label="champion + 2 challengers",
            models=3,
            rows=plan.rows,
            subject=timings["lineup"],
            floor=timings["lineup_floor"],
        ),
        champion=Case(
            key="champion",
            label="champion only",
            models=1,
            rows=plan.rows,
            subject=timings["champion"],
            floor=timings["champion_floor"],
        ),
        parts=parts,
        loads=tuple(loads),
        model_loads=model_loads,
        seconds=time.perf_counter() - started,
    )


# The per-model stages, as labelled in the breakdown.
MODEL_PARTS: dict[str, str] = {
    "check_features": "`check_features(slate, interface)` (the model's float64 matrix)",
    "score": "`score` on its checked matrix",
    "stamp": "`stamp_predictions` (its role's output Arrow table)",
    "insert_new_rows": "`DuckDBWarehouse.insert_new_rows` into its role's table (keyed, "
    "scoped insert-once)",
    "floor_predict": "floor's step: `model.predict(X)` on the matrix",
    "insert": "floor's step: plain `INSERT INTO ... SELECT * FROM <arrow>` into its role's table",
}
SHARED_PARTS: dict[str, str] = {
    "read": "read the Parquet object from the bucket and parse it (`read_rows`), once",
    "input_sha256": "SHA-256 of the input's bytes (`read_batch_input`), once",
    "check_slate": "`check_slate` (player, line, sportsbook, game date, repeats), once",
    "execution_log": "the execution log (`BatchLog`): the batch's row looked up twice, "
    "written `running`, then final (an insert attempt and an update), once",
}

BEYOND: dict[str, str] = {
    "read": "read and parse the claim check, once (the floor starts from its matrix)",
    "input_sha256": "SHA-256 of the input, once",
    "check_slate": "`check_slate`, once",
    "execution_log": "the execution log's look-ups and writes, once",
    "check_features": "`check_features`, per model",
    "predict": "predict: `score`'s - the floor's `model.predict`, per model",
    "stamp": "`stamp_predictions`, per model (the floor's rows are stamped before the rounds)",
    "insert": "insert-once write - plain insert, per model",
    "rest": "the rest: per-batch work outside the stages (message validation, the batch "
    "claim and its heartbeat, the lineup look-up, the outcome's log line), and noise",
    "total": "**handler - floor**",
}


def _beyond_floor(figures: Figures, case: Case) -> dict[str, float]:
    """Per stage, the handler's median less the floor's counterpart's (ms), summed over the
    case's models; ``rest`` is what the stages leave of handler - floor."""
    p = {name: timing.median_ms for name, timing in figures.parts.items()}
    keys = [v.key for v in MODELS[: case.models]]

    def total(stage: str) -> float:
        return sum(p[f"{key}:{stage}"] for key in keys)

    deltas = {
        "read": p["read"],
        "input_sha256": p["input_sha256"],
        "check_slate": p["check_slate"],
        "execution_log": p["execution_log"],
        "check_features": total("check_features"),
        "predict": total("score") - total("floor_predict"),
        "stamp": total("stamp"),
        "insert": total("insert_new_rows") - total("insert"),
    }
    deltas["rest"] = case.subject.median_ms - case.floor.median_ms - sum(deltas.values())
    deltas["total"] = case.subject.median_ms - case.floor.median_ms
    return deltas


def _why(figures: Figures) -> str:
    lineup, champion = figures.lineup, figures.champion
    p = {name: timing.median_ms for name, timing in figures.parts.items()}
    d = _beyond_floor(figures, lineup)
    c = _beyond_floor(figures, champion)
    keys = [v.key for v in MODELS]

    def each(stage: str) -> str:
        return " / ".join(f"{p[f'{k}:{stage}']:.1f}" for k in keys)

    stages = {k: v for k, v in d.items() if k not in ("total", "rest")}
    biggest = max(stages, key=lambda k: stages[k])
    extra_subject = (lineup.subject.median_ms - champion.subject.median_ms) / 2
    extra_floor = (lineup.floor.median_ms - champion.floor.median_ms) / 2
    rows = rows_label(lineup.rows)
    return (
        f"At {rows} rows the lineup's handler takes {d['total']:+.1f} ms over its floor "
        f"({lineup.subject.median_ms:.1f} against {lineup.floor.median_ms:.1f} ms); the "
        f"champion-only handler {c['total']:+.1f} ms over its own "
        f"({champion.subject.median_ms:.1f} against {champion.floor.median_ms:.1f} ms). The "
        f"lineup reads the claim check ({p['read']:.1f} ms), hashes it "
        f"({p['input_sha256']:.1f} ms), checks the slate ({p['check_slate']:.1f} ms) and "
        f"keeps its execution-log row ({p['execution_log']:.1f} ms) once for all three "
        f"models; per model (champion / challenger 1 / challenger 2) it builds "
        f"the model's matrix with `check_features` ({each('check_features')} ms) and stamps "
        f"its rows ({each('stamp')} ms), which the floor does not do; `score` predicts on "
        f"each matrix ({each('score')} ms, the floor's predicts {each('floor_predict')} ms); "
        f"the three insert-once writes ({each('insert_new_rows')} ms) cost "
        f"{d['insert']:+.1f} ms against the three plain inserts ({each('insert')} ms): the "
        f"second challenger's write finds the first's rows in its scope (`batch_id`, "
        f"`game_date`: both write `{CHALLENGER_TABLE}`), so it alone runs the insert-once "
        f"probe (`NOT EXISTS` over the batch's rows), "
        f"{p['challenger_2:insert_new_rows'] - p['challenger_1:insert_new_rows']:+.1f} ms "
        f"against the first challenger's write. The "
        f"largest stage beyond the floor is {BEYOND[biggest].split(',')[0]} "
        f"({stages[biggest]:+.1f} ms); the rest, {d['rest']:+.1f} ms, is per-batch work outside "
        f"the stages and run-to-run noise. Each challenger adds {extra_subject:.1f} ms to the "
        f"handler (half of lineup - champion only) against {extra_floor:.1f} ms to the floor "
        f"(one predict and one insert): a marginal ratio of {extra_subject / extra_floor:.2f}."
    )


def render(figures: Figures, options: Options) -> str:
    f = figures
    lineup, champion = f.lineup, f.champion
    rows = rows_label(f.plan.rows)
    spec = BENCH_MODEL
    recipe = (
        f"`TrainingSpec(categorical=False, missing_share=0, iterations={spec.iterations}, "
        f"depth={spec.depth}, rows={spec.rows:,}, seed=...)`"
    )
    model_rows = "\n".join(
        f"| Model: {m.variant.key} | {m.role.value}; {m.trees} trees, depth {m.depth}, "
        f"{m.variant.label}, seed {m.variant.spec.seed}; {m.path.stat().st_size:,} bytes "
        f"`.cbm`, sha256 `{m.sha256[:12]}`; {trained_phrase(m.trained_seconds)} |"
        for m in f.models
    )

    def target_cell(case: Case) -> str:
        if case is lineup:
            return f"<= {TARGET}: {verdict(case.ratio <= TARGET)}"
        return "informative (beside it)"

    case_rows = "\n".join(
        f"| {case.label} | {case.models} predict{'s' if case.models > 1 else ''} + "
        f"{case.models} insert{'s' if case.models > 1 else ''} | {case.subject.median_ms:,.1f} | "
        f"{case.floor.median_ms:,.1f} | **{case.ratio:.2f}** | {case.min_ratio:.2f} | "
        f"{case.cpu_ratio:.2f} | {case.subject.min_ms:,.1f} | {case.floor.min_ms:,.1f} | "
        f"{case.rows_per_second:,.0f} | {f.rounds} | {target_cell(case)} |"
        for case in (lineup, champion)
    )

    def cell(name: str) -> str:
        timing = f.parts[name]
        return f"{timing.median_ms:,.1f} | {timing.min_ms:,.1f}"

    part_rows = "\n".join(
        [f"| {label} | {cell(name)} | — | — | — | — |" for name, label in SHARED_PARTS.items()]
        + [
            f"| {label} | " + " | ".join(cell(f"{v.key}:{name}") for v in MODELS) + " |"
            for name, label in MODEL_PARTS.items()
        ]
    )
    beyond = {case.key: _beyond_floor(f, case) for case in (lineup, champion)}

    def beyond_cell(key: str, name: str) -> str:
        value = f"{beyond[key][name]:+,.1f}"
        return f"**{value}**" if name == "total" else value

    beyond_rows = "\n".join(
        f"| {label} | {beyond_cell('lineup', name)} | {beyond_cell('champion', name)} |"
        for name, label in BEYOND.items()
    )
    headline = (
        f"at {rows} rows, a batch with a champion and two challengers: median(handler) / "
        f"median(floor of 3 predicts + 3 bulk inserts) = **{lineup.ratio:.2f}**, target <= "
        f"{TARGET} (min-based ratio {lineup.min_ratio:.2f}); beside it, champion only: "
        f"**{champion.ratio:.2f}** against its floor of 1 predict + 1 bulk insert (min-based "
        f"{champion.min_ratio:.2f})"
    )
    return f"""## {TITLE}
{quick_note(options, "smaller batches, so this is not the issue's figure")}
**{verdict(f.passed)}**: {headline}. The lineup's batch costs \
{lineup.subject.median / champion.subject.median:.2f}x the champion-only batch \
(its floor {lineup.floor.median / champion.floor.median:.2f}x the champion-only floor).

| | |
|---|---|
{model_rows}
| Training | each {recipe}, a `CatBoostRegressor` fit on a pandas DataFrame of the \
{len(FEATURES)} numeric features (none missing), all declaring system `{SYSTEM_ID}` |
| Subject | `BatchPredictor.handle_message` of an embedded `App` (DuckDB warehouse, local \
bucket; `Settings(home=<temp>, log_level="WARNING", post_run_verification=False)`: the \
embedded bus would otherwise run the post-run verifier function inside each handler call, \
where in production it is another function's Pub/Sub delivery), every model uploaded through \
the card publisher. Lineup: the champion promoted (`app.ledger.promote`), the two others \
recorded as challengers (`app.ledger.challenge`); champion only: a second `App` on a home of \
its own with the champion promoted and no challenger. Each round a new `batch_id` whose \
{rows} rows are a Parquet claim check (`rows_uri`, unique `player_lookup` per row, every \
value present); every call checked: `success`, {rows} rows written, and for the lineup each \
challenger's run {rows} rows written, none rejected, no error (the champion-only batches ran \
none); after the rounds, the warehouse holds {rows} rows per batch and model \
(`{CHAMPION_TABLE}`, `{CHALLENGER_TABLE}`) and the last batch's predictions of every model \
equal the floor's |
| Floor | with the handler's own CatBoost objects (its `ModelCache`; loaded once: \
{f.model_loads[0]} loads for the lineup's 3 models, {f.model_loads[1]} for the champion \
only), each model's `model.predict(X)` on the same float64 matrix ({rows} x {len(FEATURES)}, \
built before the rounds) followed by one `INSERT INTO <table> SELECT * FROM <arrow>` of its \
{rows} rows stamped before the rounds as its role stamps them: the champion's into a table \
made with `{CHAMPION_TABLE}`'s DDL (`{FLOOR_TABLE}`), both challengers' into one table made \
with `{CHALLENGER_TABLE}`'s DDL (`{FLOOR_CHALLENGER_TABLE}`, as the handler writes both into \
one table), in the App's own DuckDB file; the tables grow each round like the subject's. \
Champion only: one predict and one insert in its own App's file |
{machine_row(f.loads, LOAD_SAMPLES)}
{versions_row("catboost", "duckdb", "pyarrow", "numpy", "pandas")}
| Method | the two handlers and the two floors interleaved for {f.rounds} rounds after \
{WARMUP_ROUNDS} warm-up, order rotated each round, GC collected then off while timed; one \
untimed {rows_label(f.plan.first_rows)}-row batch per App first (the models loaded); the \
stages timed after, in {f.rounds} interleaved rounds of their own; whole run \
{f.seconds:.0f} s |
{run_row(NAME, options)}

| Batch | floor | handler median ms | floor median ms | ratio (median) | ratio (min) | \
CPU-time ratio | handler min ms | floor min ms | handler rows/s | rounds | target |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{case_rows}

"CPU-time ratio" is median(handler) / median(floor) of `time.process_time()` (all the \
process's threads) over the same rounds: informative; the verdict is the wall-clock ratio.

Where the time goes at {rows} rows: each stage of the lineup's handler on its own, called as \
the handler calls it on the same rows, and the floor's two steps per model, interleaved in \
rounds of their own after the handlers' (the inserts into tables of their own in the lineup \
App's database, the challengers' into one table; each insert-once call a new batch, whose \
scope, for the second challenger, already holds the first challenger's rows, as in the \
handler):

| Stage | champion median ms | min ms | challenger 1 median ms | min ms | \
challenger 2 median ms | min ms |
|---|---:|---:|---:|---:|---:|---:|
{part_rows}

Beyond the floor at {rows} rows: each handler stage's median less the floor's \
counterpart's, summed over the batch's models (the champion-only column uses the \
champion's stages, measured in the lineup's App on the same model and rows):

| Stage | champion + 2 challengers ms | champion only ms |
|---|---:|---:|
{beyond_rows}

{_why(f)}
"""


def run(options: Options) -> Outcome:
    figures = measure(options)
    lineup, champion = figures.lineup, figures.champion
    rows = rows_label(figures.plan.rows)
    summary = (
        f"{TITLE}: {verdict(figures.passed)} at {rows} rows: champion + 2 challengers "
        f"{lineup.subject.median_ms:,.1f}/{lineup.floor.median_ms:,.1f} ms = {lineup.ratio:.2f} "
        f"(target <= {TARGET}, min-based {lineup.min_ratio:.2f}); champion only "
        f"{champion.subject.median_ms:,.1f}/{champion.floor.median_ms:,.1f} ms = "
        f"{champion.ratio:.2f} (min-based {champion.min_ratio:.2f}); "
        f"{load_note(figures.loads, LOAD_SAMPLES)}"
    )
    return Outcome(
        name=NAME,
        title=TITLE,
        passed=figures.passed,
        markdown=render(figures, options),
        summary=summary,
    )
