"""Profile counting: what counting a batch into its champion's training profile adds to the
handler, and what a year of counts adds to the verifier.

The issue: "Counting a 100k-row batch into the profile bins adds at most 5% to the
handler's time at 100k rows (report both figures); the verifier with 365 days of profile
counts stays within 1.5 times its one-day time."

One model, trained as ``prediction_throughput``'s categorical one (``train_model``, a
``CatBoostRegressor`` of 500 trees of depth 6 fit on a pandas DataFrame) with ``position``
and ``opponent`` categorical among the 10 numeric features and 3% of training rows missing
``minutes_avg_last_5``, cached under ``bench/.work/``. Its profiled copy is the same model
loaded, given the profile of its own training frame with the library's helper
(``embed_profile(model, frame)``: decile bins of every number, the 30 commonest categories,
the predictions' deciles) and saved again; its plain copy is the same model saved again
without a profile (``train_model`` embeds one): the same trees, so the same predictions.
Every ``App`` is embedded (DuckDB warehouse, local bucket) on a home of its own, with
``post_run_verification=False`` (the embedded bus would otherwise run the post-run verifier
inside each handler call, where in production it is another function's Pub/Sub delivery),
and its model uploaded through the real path (the card publisher on the finalize event) and
promoted.

Handler (target: subject / floor at most 1.05 at 100k rows):

- subject: ``BatchPredictor.handle_message`` of an App whose champion is the profiled model
  (its card carries the profile), for a ``BatchRequest`` whose rows are a Parquet claim
  check, a new ``batch_id`` each round; every batch writes its predictions and its counts
  (one row per feature and bin) into ``input_profile_counts``.
- floor: the same handler, in an App of its own whose champion is the same model file
  without the profile (its card carries none, so the batch counts nothing): the same work
  but the counting.

The two are interleaved round by round; the median ratio is the verdict. The counting
stage is then timed on its own on the same 100k checked rows and scores, in rounds of its
own: ``write_profile_counts`` as the handler calls it (a new batch each call), and of it
``bin_counts`` (the counting), ``profile_count_rows`` (counting and the Arrow rows) and the
insert-once write of those rows.

Verifier (target: subject / floor at most 1.5):

- subject: ``Verifier.verify(day, system)`` (``app.verifier()``, built once) of an App whose
  ``input_profile_counts`` holds 365 days of the system's counts: the day's own batch's
  (a 500-row slate like the training rows, run through the handler) and 364 earlier
  days', one batch a day, each made by ``profile_count_rows`` from that day's own
  synthetic slate checked and scored as the handler does (``check_slate``,
  ``check_features``, ``score``) and written with the warehouse's ``insert_rows``.
- floor: the same call in an App of its own holding the same day's batch only (the same
  rows, so the same predictions, rejects, execution log and counts of the day).

Interleaved round by round; the median ratio is the verdict. The ``drift`` check alone
(``input_drift`` on the verifier's own context) is timed after, on both, in rounds of its
own.
"""

from __future__ import annotations

import gc
import io
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from attribution.batches.lineup import Role
from attribution.batches.predictor import BatchOutcome
from attribution.batches.profile_counts import (
    PROFILE_COUNTS_TABLE,
    bin_counts,
    profile_count_rows,
    write_profile_counts,
)
from attribution.batches.rows import CheckedRows, check_features, check_slate, read_rows
from attribution.batches.scoring import Scores, score, text_columns
from attribution.config import Settings
from attribution.devtools.training import (
    CATEGORICAL,
    feature_frame,
    synthetic_player_games,
)
from attribution.model_card.profile import PROFILE_METADATA_KEY, TrainingProfile
from attribution.profiles.building import embed_profile
from attribution.verification.checks import CheckContext
from attribution.verification.input_drift import CHECK, input_drift
from attribution.verification.outcome import CheckResult, SystemVerdict
from attribution.verification.verifier import Verifier
from bench import Options, Outcome
from bench.environment import BENCH_MODEL, spec_model
from bench.prediction_throughput import (
    GAME_DATE,
    WARMUP_ROUNDS,
    Harness,
    Rows,
    Variant,
    batch_request,
    checked_outcomes,
    make_rows,
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

NAME = "profile_counting"
TITLE = "Profile counting: handler and verifier"
HANDLER_TARGET = 1.05
VERIFIER_TARGET = 1.5
SYSTEM_ID = "bench_profile_counting"
MODEL = Variant(
    key="categorical",
    label="2 categorical + 10 numeric features",
    spec=replace(BENCH_MODEL, system_id=SYSTEM_ID, categorical=True, missing_share=0.03),
    target=HANDLER_TARGET,
)
LOAD_SAMPLES = (
    "at the start, before the handlers, before the counting stages, before the verifiers, "
    "at the end"
)


@dataclass(frozen=True)
class Plan:
    rows: int  # the handler's batch
    rounds: int
    verify_rows: int  # the verified day's slate
    days: int  # days of counts the subject verifier's warehouse holds
    first_rows: int = 1_000  # the untimed first call that loads the model


FULL = Plan(rows=100_000, rounds=31, verify_rows=500, days=365)
QUICK = Plan(rows=10_000, rounds=5, verify_rows=500, days=365)


def profiled_model(trained: Path, out: Path) -> TrainingProfile:
    """Save the model at ``trained`` again as ``out`` with the profile of its own training
    frame (the rows ``train_model`` fit it on) in its metadata; the profile."""
    from catboost import CatBoostRegressor

    spec = MODEL.spec
    model = CatBoostRegressor()
    model.load_model(str(trained))
    games = synthetic_player_games(spec.rows, seed=spec.seed)
    frame = feature_frame(games, MODEL.features, missing_share=spec.missing_share, seed=spec.seed)
    profile = embed_profile(model, frame)
    model.save_model(str(out))
    return profile


def plain_model(trained: Path, out: Path) -> None:
    """Save the model at ``trained`` again as ``out`` without the training profile
    ``train_model`` put in its metadata."""
    from catboost import CatBoostRegressor

    model = CatBoostRegressor()
    model.load_model(str(trained))
    metadata = model.get_metadata()
    if PROFILE_METADATA_KEY in metadata:
        del metadata[PROFILE_METADATA_KEY]
    model.save_model(str(out))


def slate_table(count: int, seed: int) -> pa.Table:
    """``count`` synthetic rows of one day like the training rows (3% missing
    ``minutes_avg_last_5``), as a batch's input reads them (the categories as text), one
    player each."""
    spec = MODEL.spec
    games = synthetic_player_games(count, seed=seed)
    frame = feature_frame(games, MODEL.features, missing_share=spec.missing_share, seed=seed)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in CATEGORICAL:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(name).cast(pa.string()))
    players = pa.array([f"p{i:07d}" for i in range(count)], pa.string())
    return table.append_column("player_lookup", players).append_column(
        "line_value", pa.array(games.line_value, pa.float64())
    )


def parquet_rows(table: pa.Table) -> Rows:
    """A batch's input: the table and its Parquet bytes (the claim check's object)."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return Rows(table=table, parquet=buffer.getvalue(), columns={})


@dataclass(frozen=True)
class Counted:
    """One batch's checked rows and scores, as the handler counts them."""

    checked: CheckedRows
    scores: Scores


def counted(harness: Harness, table: pa.Table, game_date: date) -> Counted:
    served = harness.served()
    slate = check_slate(table, game_date=game_date)
    checked = check_features(slate, served.interface)
    return Counted(checked, score(served, checked.features))


def count_rows(harness: Harness, batch: Counted, batch_id: str, game_date: date) -> pa.Table:
    """The batch's ``input_profile_counts`` rows, made as the handler makes them."""
    request = replace(batch_request(SYSTEM_ID, batch_id, None), game_date=game_date)
    rows = profile_count_rows(
        request,
        harness.card,
        role=Role.CHAMPION,
        interface=harness.served().interface,
        features=batch.checked.features,
        predictions=batch.scores.values,
        created_at=datetime.combine(game_date, datetime.min.time(), UTC) + timedelta(hours=9),
    )
    if rows is None:
        raise RuntimeError("the profiled model's card carries no profile")
    return rows


def create_harness(home: Path, model: Path) -> Harness:
    # No post-run verification: the embedded bus would run the verifier function inside the
    # handler's call (in production it is another function's Pub/Sub delivery).
    settings = Settings(home=home, log_level="WARNING", post_run_verification=False)
    return Harness.create(home, model, MODEL, settings=settings)


@dataclass(frozen=True)
class Case(AgainstFloor):
    key: str
    label: str
    target: float
    subject: Timing
    floor: Timing

    @property
    def passed(self) -> bool:
        return self.ratio <= self.target

    @property
    def extra_ms(self) -> float:
        return self.subject.median_ms - self.floor.median_ms


@dataclass(frozen=True)
class Figures:
    plan: Plan
    rounds: int
    model_path: Path
    trained_seconds: float | None
    trees: int
    profile_bytes: int
    profile_features: int
    bins_per_batch: int
    handler: Case
    counting: dict[str, Timing]
    verifier: Case
    drift: dict[str, Timing]
    count_rows_held: int
    loads: tuple[float, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return self.handler.passed and self.verifier.passed


def _messages(harness: Harness, rows: Rows, calls: int, tag: str) -> Iterator[Any]:
    return iter([harness.prepare(rows, tag) for _ in range(calls)])


def _check_counts(harness: Harness, outcomes: Sequence[BatchOutcome], rows: int, bins: int) -> None:
    """Every batch's counts in the warehouse: ``bins`` rows, each feature's summing to
    ``rows``; none for a card without a profile (``bins`` 0)."""
    held = harness.app.warehouse.query(
        f"SELECT batch_id, feature, COUNT(*) AS bins, SUM(row_count) AS n "
        f"FROM {PROFILE_COUNTS_TABLE} GROUP BY batch_id, feature"
    )
    batches = {o.batch_id for o in outcomes}
    mine = [r for r in held if r["batch_id"] in batches]
    if not bins:
        if held:
            raise RuntimeError(f"{len(held)} profile counts for a model without a profile")
        return
    per_batch: dict[str, int] = {}
    for row in mine:
        if int(row["n"]) != rows:
            raise RuntimeError(f"batch {row['batch_id']}: {row['feature']} counts {row['n']}")
        per_batch[row["batch_id"]] = per_batch.get(row["batch_id"], 0) + int(row["bins"])
    if per_batch != dict.fromkeys(batches, bins):
        raise RuntimeError(f"profile counts per batch {per_batch}, expected {bins} each")


def _counting_cases(harness: Harness, rows: Rows, calls: int) -> dict[str, Callable[[], object]]:
    """The counting stage on the same checked rows and scores as the handler's: each call of
    the writes a new batch, into the profiled App's own warehouse."""
    served = harness.served()
    table = read_rows(
        rows.parquet, "parquet", source="bench", text_columns=text_columns(served.interface)
    )
    batch = counted(harness, table, GAME_DATE)
    profile = harness.card.training_profile
    assert profile is not None
    warehouse = harness.app.warehouse
    written = iter([f"bench-count-{uuid.uuid4().hex[:12]}" for _ in range(calls)])
    pending = iter(
        [
            (batch_id, count_rows(harness, batch, batch_id, GAME_DATE))
            for batch_id in [f"bench-insert-{uuid.uuid4().hex[:12]}" for _ in range(calls)]
        ]
    )

    def write() -> None:
        write_profile_counts(  # as the handler calls it
            warehouse,
            batch_request(SYSTEM_ID, next(written), None),
            harness.card,
            role=Role.CHAMPION,
            interface=served.interface,
            features=batch.checked.features,
            predictions=batch.scores.values,
            created_at=datetime.now(UTC),
        )

    def insert() -> None:
        batch_id, counts = next(pending)
        warehouse.insert_new_rows(  # as write_profile_counts calls it
            PROFILE_COUNTS_TABLE,
            counts,
            key=["count_id"],
            scope={
                "batch_id": batch_id,
                "game_date": GAME_DATE,
                "model_sha256": harness.card.model_sha256,
            },
            unique_keys=True,
        )

    return {
        "write_profile_counts": write,
        "bin_counts": lambda: list(
            bin_counts(profile, served.interface, batch.checked.features, batch.scores.values)
        ),
        "profile_count_rows": lambda: count_rows(harness, batch, "bench-rows", GAME_DATE),
        "insert_new_rows": insert,
    }


COUNTING_PARTS: dict[str, str] = {
    "write_profile_counts": "`write_profile_counts` as the handler calls it (count, make the "
    "rows, insert-once them; a new batch each call)",
    "bin_counts": "  of which: `bin_counts` (every feature's and the predictions' bins)",
    "profile_count_rows": "  of which: `profile_count_rows` (`bin_counts` and the Arrow rows)",
    "insert_new_rows": "  of which: `insert_new_rows` of those rows into "
    f"`{PROFILE_COUNTS_TABLE}` (keyed, scoped insert-once)",
}


def _drift_of(verdicts: Sequence[SystemVerdict]) -> CheckResult:
    (verdict,) = verdicts
    return next(c for c in verdict.checks if c.name == CHECK)


def _verifier_app(
    home: Path, model: Path, day: Rows, other_days: int
) -> tuple[Harness, Verifier, int]:
    """An App with the profiled champion, the verified day's slate run through the handler,
    and ``other_days`` earlier days' counts; its verifier, and the count rows it holds."""
    harness = create_harness(home, model)
    outcome = harness.predictor.handle_message(harness.prepare(day, "verified-day"))
    checked_outcomes([outcome], day.count, 1)
    tables: list[pa.Table] = []
    for back in range(1, other_days + 1):
        game_date = GAME_DATE - timedelta(days=back)
        batch = counted(harness, slate_table(day.count, seed=game_date.toordinal()), game_date)
        tables.append(count_rows(harness, batch, f"bench-day-{game_date}", game_date))
    if tables:
        harness.app.warehouse.insert_rows(PROFILE_COUNTS_TABLE, pa.concat_tables(tables))
    held = harness.app.warehouse.query(
        f"SELECT COUNT(*) AS n, COUNT(DISTINCT game_date) AS days FROM {PROFILE_COUNTS_TABLE} "
        "WHERE system_id = @system_id",
        {"system_id": SYSTEM_ID},
    )[0]
    if int(held["days"]) != other_days + 1:
        raise RuntimeError(f"{held['days']} days of counts, expected {other_days + 1}")
    return harness, harness.app.verifier(), int(held["n"])


def _drift_check(ctx: CheckContext) -> Callable[[], CheckResult]:
    return lambda: input_drift(ctx)


def measure(options: Options) -> Figures:
    started = time.perf_counter()
    loads = [os.getloadavg()[0]]
    plan = QUICK if options.quick else FULL
    rounds = options.rounds or plan.rounds
    work = options.work_dir / NAME
    model_path, trained = spec_model(MODEL.spec, work, label=NAME)
    calls = WARMUP_ROUNDS + rounds
    with tempfile.TemporaryDirectory(dir=work, prefix="run-") as temporary:
        home = Path(temporary)
        profiled = home / f"{model_path.stem}-profiled.cbm"
        profile = profiled_model(model_path, profiled)
        plain = home / f"{model_path.stem}-plain.cbm"
        plain_model(model_path, plain)
        subject = create_harness(home / "profiled", profiled)
        floor = create_harness(home / "plain", plain)
        if subject.card.training_profile != profile or floor.card.training_profile is not None:
            raise RuntimeError("the profiled card must carry the profile, the plain one none")
        first = make_rows(plan.first_rows, MODEL)
        for harness in (subject, floor):  # the model loaded, first-use costs paid
            checked_outcomes(
                [harness.predictor.handle_message(harness.prepare(first, "first"))], first.count, 1
            )
        rows = make_rows(plan.rows, MODEL)
        messages = {
            "subject": _messages(subject, rows, calls, "profiled"),
            "floor": _messages(floor, rows, calls, "plain"),
        }
        outcomes: dict[str, list[BatchOutcome]] = {"subject": [], "floor": []}

        def handle(key: str, harness: Harness) -> Callable[[], None]:
            return lambda: outcomes[key].append(
                harness.predictor.handle_message(next(messages[key]))
            )

        loads.append(os.getloadavg()[0])
        handlers = interleaved(
            {"subject": handle("subject", subject), "floor": handle("floor", floor)},
            rounds=rounds,
            warmup=WARMUP_ROUNDS,
        )
        bins = sum(len(f.labels) for f in profile.features)
        bins += len(profile.prediction.labels) if profile.prediction is not None else 0
        for found in outcomes.values():
            checked_outcomes(found, rows.count, calls)
        _check_counts(subject, outcomes["subject"], rows.count, bins)
        _check_counts(floor, outcomes["floor"], rows.count, 0)
        last = {
            key: harness.written(str(outcomes[key][-1].batch_id))
            for key, harness in (("subject", subject), ("floor", floor))
        }
        if (
            not last["subject"]
            .column("predicted_points")
            .equals(last["floor"].column("predicted_points"))
        ):
            raise RuntimeError("the profiled and the plain model predict differently")

        loads.append(os.getloadavg()[0])
        counting = interleaved(
            _counting_cases(subject, rows, calls), rounds=rounds, warmup=WARMUP_ROUNDS
        )
        trees = int(subject.model().tree_count_)
        for harness in (subject, floor):
            harness.close()
        del rows, last
        gc.collect()

        day = parquet_rows(slate_table(plan.verify_rows, seed=GAME_DATE.toordinal()))
        year, year_verifier, held = _verifier_app(home / "year", profiled, day, plan.days - 1)
        one, one_verifier, _ = _verifier_app(home / "one-day", profiled, day, 0)
        drifts: dict[str, list[CheckResult]] = {"year": [], "one": []}

        def verify(key: str, verifier: Verifier) -> Callable[[], None]:
            return lambda: drifts[key].append(_drift_of(verifier.verify(GAME_DATE, SYSTEM_ID)))

        loads.append(os.getloadavg()[0])
        verifiers = interleaved(
            {"year": verify("year", year_verifier), "one": verify("one", one_verifier)},
            rounds=rounds,
            warmup=WARMUP_ROUNDS,
        )
        results = {key: {d.summary for d in found} for key, found in drifts.items()}
        if len(results["year"]) != 1 or results["year"] != results["one"]:
            raise RuntimeError(f"the two verifiers judged drift differently: {results}")
        figures = drifts["year"][-1].figures["models"][0]
        if (figures["rows"], figures["batches"]) != (day.count, 1):
            raise RuntimeError(
                f"the day's drift summed {figures['rows']} rows, {figures['batches']} batches"
            )
        contexts = {
            "year": year_verifier.context(GAME_DATE, SYSTEM_ID),
            "one": one_verifier.context(GAME_DATE, SYSTEM_ID),
        }
        drift = interleaved(
            {key: _drift_check(ctx) for key, ctx in contexts.items()},
            rounds=rounds,
            warmup=WARMUP_ROUNDS,
        )
        for harness in (year, one):
            harness.close()
    loads.append(os.getloadavg()[0])
    return Figures(
        plan=plan,
        rounds=rounds,
        model_path=model_path,
        trained_seconds=trained,
        trees=trees,
        profile_bytes=len(profile.compact_json().encode("utf-8")),
        profile_features=len(profile.features),
        bins_per_batch=bins,
        handler=Case(
            key="handler",
            label=f"`handle_message`, {rows_label(plan.rows)} rows",
            target=HANDLER_TARGET,
            subject=handlers["subject"],
            floor=handlers["floor"],
        ),
        counting=counting,
        verifier=Case(
            key="verifier",
            label=f"`Verifier.verify`, {plan.days} days of counts against 1",
            target=VERIFIER_TARGET,
            subject=verifiers["year"],
            floor=verifiers["one"],
        ),
        drift=drift,
        count_rows_held=held,
        loads=tuple(loads),
        seconds=time.perf_counter() - started,
    )


def _why(f: Figures) -> str:
    h, v = f.handler, f.verifier
    c = {name: timing.median_ms for name, timing in f.counting.items()}
    d = {name: timing.median_ms for name, timing in f.drift.items()}
    rows = rows_label(f.plan.rows)
    write = c["write_profile_counts"]
    return (
        f"At {rows} rows the profiled champion's handler takes {h.extra_ms:+.1f} ms over the "
        f"plain one's ({h.subject.median_ms:,.1f} against {h.floor.median_ms:,.1f} ms). The "
        f"counting stage on its own, on the same checked rows and scores, takes {write:.1f} ms "
        f"({100 * write / h.floor.median_ms:.1f}% of the plain handler's median): "
        f"`bin_counts` {c['bin_counts']:.1f} ms for {f.profile_features} features and the "
        f"predictions, the {f.bins_per_batch} Arrow rows "
        f"{c['profile_count_rows'] - c['bin_counts']:.1f} ms more (`profile_count_rows` "
        f"{c['profile_count_rows']:.1f} ms), and their insert-once write "
        f"{c['insert_new_rows']:.1f} ms; the handler pair's difference beyond that stage, "
        f"{h.extra_ms - write:+.1f} ms, is what the stage leaves of it (run-to-run noise). "
        f"The verifier with "
        f"{f.plan.days} days of counts ({f.count_rows_held:,} rows in "
        f"`{PROFILE_COUNTS_TABLE}`) takes {v.extra_ms:+.1f} ms over the one-day verifier "
        f"({v.subject.median_ms:.1f} against {v.floor.median_ms:.1f} ms); its `drift` check "
        f"alone {d['year']:.1f} against {d['one']:.1f} ms (its query sums the day's "
        f"{f.bins_per_batch} rows out of the year's); the rest is the HTML report each "
        "verification publishes, whose drift panel covers the page's days (60 by default, "
        "`VERIFY_REPORT_DAYS`) where the one-day verifier's has a day."
    )


def render(figures: Figures, options: Options) -> str:
    f = figures
    h, v = f.handler, f.verifier
    rows = rows_label(f.plan.rows)
    spec = MODEL.spec

    def case_row(case: Case, subject: str, floor: str) -> str:
        return (
            f"| {case.label} | {subject} | {floor} | {case.subject.median_ms:,.1f} | "
            f"{case.floor.median_ms:,.1f} | {case.extra_ms:+,.1f} | **{case.ratio:.3f}** | "
            f"{case.min_ratio:.3f} | {case.cpu_ratio:.3f} | {case.subject.min_ms:,.1f} | "
            f"{case.floor.min_ms:,.1f} | {f.rounds} | <= {case.target}: {verdict(case.passed)} |"
        )

    case_rows = "\n".join(
        [
            case_row(h, "profiled champion", "same model, no profile"),
            case_row(v, f"{f.plan.days} days of counts", "1 day of counts"),
        ]
    )
    counting_rows = "\n".join(
        f"| {label} | {f.counting[name].median_ms:,.1f} | {f.counting[name].min_ms:,.1f} | "
        f"{100 * f.counting[name].median / h.floor.median:.1f}% |"
        for name, label in COUNTING_PARTS.items()
    )
    drift_rows = "\n".join(
        f"| `input_drift` (the `{CHECK}` check), {label} | {f.drift[key].median_ms:,.1f} | "
        f"{f.drift[key].min_ms:,.1f} |"
        for key, label in (("year", f"{f.plan.days} days of counts"), ("one", "1 day"))
    )
    headline = (
        f"at {rows} rows, median(handler, profiled champion) / median(handler, same model "
        f"without the profile) = **{h.ratio:.3f}** ({h.subject.median_ms:,.1f} against "
        f"{h.floor.median_ms:,.1f} ms), target <= {HANDLER_TARGET}; the counting stage alone "
        f"(`write_profile_counts`) {f.counting['write_profile_counts'].median_ms:.1f} ms. "
        f"median(verifier, {f.plan.days} days of counts) / median(verifier, 1 day) = "
        f"**{v.ratio:.3f}** ({v.subject.median_ms:.1f} against {v.floor.median_ms:.1f} ms), "
        f"target <= {VERIFIER_TARGET}"
    )
    return f"""## {TITLE}
{quick_note(options, "smaller batches, so this is not the issue's figure")}
**{verdict(f.passed)}**: {headline}.

| | |
|---|---|
| Model | {f.trees} trees, depth {spec.depth}, {MODEL.label} in this order: \
{", ".join(f"`{n}`" for n in MODEL.features)} (`{", ".join(CATEGORICAL)}` categorical); \
{f.model_path.stat().st_size:,} bytes `.cbm` (`TrainingSpec(categorical=True, \
missing_share={spec.missing_share:g}, iterations={spec.iterations}, depth={spec.depth}, \
rows={spec.rows:,}, seed={spec.seed})`, a `CatBoostRegressor` fit on a pandas DataFrame); \
{trained_phrase(f.trained_seconds)} |
| Profile | `embed_profile(model, frame)` on the model's own {spec.rows:,}-row training \
frame, saved again (same trees: the last batch's predictions of both handlers are equal); \
{f.profile_features} features and the predictions, {f.bins_per_batch} bins, \
{f.profile_bytes:,} bytes of compact JSON in the model's metadata |
| Handler | `BatchPredictor.handle_message` of an embedded `App` (DuckDB warehouse, local \
bucket; `Settings(home=<temp>, log_level="WARNING", post_run_verification=False)`), the model \
uploaded through the card publisher and promoted. Subject: the profiled model (its card \
carries the profile); floor: the same model file without it, in an `App` on a home of its \
own (its card carries none, so its batches count nothing). Each round a new `batch_id` whose \
{rows} rows are a Parquet claim check (`rows_uri`, unique `player_lookup`, every value \
present); every call checked: `success`, {rows} rows written; after the rounds every \
subject batch holds {f.bins_per_batch} rows in `{PROFILE_COUNTS_TABLE}`, each feature's \
counts summing to {rows}, and the floor's App none |
| Verifier | `app.verifier()` built once per `App`, `verify({GAME_DATE}, \
"{SYSTEM_ID}")` every round. Each `App` has the profiled model promoted and one \
{f.plan.verify_rows}-row slate for {GAME_DATE} run through the handler (its predictions, \
execution log and {f.bins_per_batch} count rows). Subject: also the counts of the \
{f.plan.days - 1} days before it, one batch a day, each made by `profile_count_rows` from \
that day's own synthetic {f.plan.verify_rows}-row slate checked and scored as the handler \
does, written with `insert_rows` ({f.count_rows_held:,} count rows in all); floor: the \
day's batch only. Checked: both `drift` results are the same, summing \
{f.plan.verify_rows} rows of 1 batch |
{machine_row(f.loads, LOAD_SAMPLES)}
{versions_row("catboost", "duckdb", "pyarrow", "numpy", "pandas")}
| Method | each pair interleaved for {f.rounds} rounds after {WARMUP_ROUNDS} warm-up, \
order rotated each round, GC collected then off while timed; one untimed \
{rows_label(f.plan.first_rows)}-row batch per handler `App` first (the model loaded); the \
counting stages and the `drift` check timed after, in {f.rounds} interleaved rounds of their \
own; whole run {f.seconds:.0f} s |
{run_row(NAME, options)}

| Case | subject | floor | subject median ms | floor median ms | subject - floor ms | \
ratio (median) | ratio (min) | CPU-time ratio | subject min ms | floor min ms | rounds | \
target |
|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{case_rows}

"CPU-time ratio" is median(subject) / median(floor) of `time.process_time()` (all the \
process's threads) over the same rounds: informative; the verdict is the wall-clock ratio.

The counting stage at {rows} rows, on its own, on the handler's checked rows and scores \
of the same batch (the writes into the profiled `App`'s own warehouse):

| Stage | median ms | min ms | of the floor handler's median |
|---|---:|---:|---:|
{counting_rows}

| Verifier stage | median ms | min ms |
|---|---:|---:|
{drift_rows}

{_why(f)}
"""


def run(options: Options) -> Outcome:
    figures = measure(options)
    h, v = figures.handler, figures.verifier
    summary = (
        f"{TITLE}: {verdict(figures.passed)}: handler at {rows_label(figures.plan.rows)} rows "
        f"{h.subject.median_ms:,.1f}/{h.floor.median_ms:,.1f} ms = {h.ratio:.3f} "
        f"(target <= {HANDLER_TARGET}, min-based {h.min_ratio:.3f}), counting alone "
        f"{figures.counting['write_profile_counts'].median_ms:.1f} ms; verifier "
        f"{figures.plan.days} days / 1 day {v.subject.median_ms:.1f}/{v.floor.median_ms:.1f} "
        f"ms = {v.ratio:.3f} (target <= {VERIFIER_TARGET}); "
        f"{load_note(figures.loads, LOAD_SAMPLES)}"
    )
    return Outcome(
        name=NAME,
        title=TITLE,
        passed=figures.passed,
        markdown=render(figures, options),
        summary=summary,
    )
