"""Attribution for rows written before stamping: inferred from the ledger, proven by replay.

For each unattributed prediction, the model active for its system at its batch's logged
start (or, for a batch never logged, the row's own ``created_at``) per the deployment
ledger is the candidate. A row within ``ambiguity`` of a promotion has several candidates
(or, before a system's first promotion, possibly none) and is left unstamped unless replay
decides. With ``replay``, where the batch's input was kept, each candidate model is re-run
on it: the one that reproduces the stored prediction makes the row ``replay_verified``; a
row no candidate reproduces is flagged and left unstamped. A ``stamped`` row is never read
here, let alone changed (the update itself is guarded too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attribution.batches.rows import format_of, read_rows
from attribution.batches.scoring import score_rows, text_columns
from attribution.errors import PermanentError
from attribution.history.ledger import DeploymentLedger, LedgerTimeline
from attribution.history.lineage import BackfillLineage, BackfillSources
from attribution.logs import get_logger
from attribution.model_card.card import ATTRIBUTION_COLUMNS, ModelCard, attribution_columns
from attribution.model_card.interface import PredictionType
from attribution.model_card.loading import ModelCache
from attribution.objects import split_gs_uri
from attribution.ports import LineageEmitter, ObjectStore, Warehouse
from attribution.warehouse.sql_text import sql
from attribution.warehouse.tables import table_spec

_log = get_logger("attribution.history.backfill")

TABLE = "player_prop_predictions"
REPLAY_VERIFIED = "replay_verified"
LEDGER_INFERRED = "ledger_inferred"
# A ledger inference that replay disproved: the model columns are cleared, so the row counts
# as unattributed again, and the method says why.
REPLAY_REFUTED = "replay_refuted"
UPDATABLE = (
    "attribution_method IS NULL OR attribution_method IN ('ledger_inferred', 'replay_refuted')"
)
_SET = (*ATTRIBUTION_COLUMNS, "attribution_method")
_CLEARED: dict[str, Any] = {
    **dict.fromkeys(ATTRIBUTION_COLUMNS),
    "attribution_method": REPLAY_REFUTED,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A row's method, or its outcome when no candidate is chosen, as a code: an index of _METHODS.
_METHODS = (LEDGER_INFERRED, REPLAY_VERIFIED, "ambiguous", "unreproduced")
_INFERRED, _VERIFIED, _AMBIGUOUS, _UNREPRODUCED = range(len(_METHODS))


@dataclass(frozen=True)
class BackfillSettings:
    ambiguity: timedelta = timedelta(minutes=30)
    tolerance: float = 1e-6


@dataclass
class BackfillSummary:
    considered: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    by_model: Counter[str] = field(default_factory=Counter)
    ambiguous: list[str] = field(default_factory=list)
    unreproduced: list[str] = field(default_factory=list)
    refuted: list[str] = field(default_factory=list)
    no_ledger_entry: list[str] = field(default_factory=list)
    updated: int = 0
    dry_run: bool = False

    def to_document(self) -> dict[str, Any]:
        return {
            "considered": self.considered,
            "by_method": dict(self.by_method),
            "by_model": dict(self.by_model),
            "ambiguous": len(self.ambiguous),
            "unreproduced": len(self.unreproduced),
            "refuted": len(self.refuted),
            "no_ledger_entry": len(self.no_ledger_entry),
            "ambiguous_rows": self.ambiguous[:50],
            "unreproduced_rows": self.unreproduced[:50],
            "no_ledger_entry_rows": self.no_ledger_entry[:50],
            "updated": self.updated,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class _Batch:
    """The candidate rows of one batch on one game date."""

    batch_id: str
    system_id: str
    game_date: date
    input_uri: str | None
    rows: pa.Table


@dataclass(frozen=True)
class _Placement:
    """A batch's rows at instants with the same candidates: decided together."""

    candidates: list[ModelCard]
    inferable: bool
    rows: pa.Table


@dataclass(frozen=True)
class _Choices:
    """Per row: the index of the candidate chosen (-1: none) and the code of the method,
    or of the outcome when none is."""

    which: np.ndarray
    method: np.ndarray


@dataclass(frozen=True)
class _Lines:
    """Predictions' lines: player, line and sportsbook (NULL where a row named none)."""

    players: pa.Array
    lines: pa.Array
    books: pa.Array


@dataclass(frozen=True)
class _Replay:
    """One candidate's output on a kept input: its value per line (None when it cannot
    run), and which kind of output it is."""

    prediction_type: PredictionType | None
    lines: _Lines | None = None
    values: pa.Array = field(default_factory=lambda: pa.array([], pa.float64()))


@dataclass
class _Replays:
    """One batch's kept input and each candidate's predictions on it, per line: read and
    computed at most once per run, however many instants the batch's rows fall at."""

    batch_id: str
    read: bool = False
    table: pa.Table | None = None
    uri: str | None = None
    by_model: dict[tuple[str, date], _Replay] = field(default_factory=dict)


@dataclass
class _Update:
    """The run's one update, built up: each changed row's id, and which of the column
    values (those of a card and method, or the cleared columns) it takes."""

    ids: list[pa.Array] = field(default_factory=list)
    choices: list[np.ndarray] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    dates: set[date] = field(default_factory=set)

    def add(self, ids: pa.Array, values: dict[str, Any], game_date: date) -> None:
        self.ids.append(ids)
        self.choices.append(np.full(len(ids), len(self.values)))
        self.values.append(values)
        self.dates.add(game_date)

    def table(self) -> pa.Table:
        spec = table_spec(TABLE)
        chosen = pa.array(np.concatenate(self.choices))
        columns = {"prediction_id": pa.concat_arrays(self.ids)}
        for name in _SET:
            options = pa.array([v[name] for v in self.values], spec.column(name).arrow_type)
            columns[name] = options.take(chosen)
        return pa.table(columns)


class Backfill:
    def __init__(
        self,
        *,
        warehouse: Warehouse,
        ledger: DeploymentLedger,
        models: ModelCache,
        store_for: Callable[[str], ObjectStore],
        inputs_bucket: str,
        inputs_prefix: str,
        settings: BackfillSettings,
        lineage: LineageEmitter | None = None,
    ) -> None:
        self.lineage = lineage
        self.warehouse = warehouse
        self.ledger = ledger
        self.models = models
        self.store_for = store_for
        self.inputs_bucket = inputs_bucket
        self.inputs_prefix = inputs_prefix
        self.settings = settings

    def run(
        self,
        *,
        system_id: str | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
        replay: bool = False,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> BackfillSummary:
        """Attribute what can be; ``progress`` is told the rows of each batch decided. A run
        that writes (not ``dry_run``) is sent as lineage (``history.lineage``)."""
        sources = BackfillSources()
        covered = (system_id, from_date, to_date, replay)
        if dry_run:
            return self._attribute(*covered, dry_run=True, sources=sources, progress=progress)
        lineage = BackfillLineage(self.lineage, *covered)
        lineage.started()
        try:
            summary = self._attribute(*covered, dry_run=False, sources=sources, progress=progress)
        except Exception as exc:
            lineage.failed(sources, f"{type(exc).__name__}: {exc}")
            raise
        lineage.completed(sources, summary.updated)
        return summary

    def _attribute(
        self,
        system_id: str | None,
        from_date: date | None,
        to_date: date | None,
        replay: bool,
        *,
        dry_run: bool,
        sources: BackfillSources,
        progress: Callable[[int], None] | None = None,
    ) -> BackfillSummary:
        rows = self.warehouse.query_arrow(
            sql("backfill_candidates"),
            {
                "include_inferred": replay,
                "system_id": system_id,
                "from_date": from_date or date(1900, 1, 1),
                "to_date": to_date or date(9999, 12, 31),
            },
        )
        summary = BackfillSummary(considered=rows.num_rows, dry_run=dry_run)
        timelines: dict[str, LedgerTimeline] = {}
        update = _Update()
        replays: _Replays | None = None
        for batch in _batches(rows):
            if batch.system_id not in timelines:
                timelines[batch.system_id] = self._timeline(batch.system_id)
            if replay and (replays is None or replays.batch_id != batch.batch_id):
                replays = _Replays(batch.batch_id)
            for placement in self._placements(batch, timelines[batch.system_id]):
                sources.weighed(placement.candidates)
                self._decide(batch, placement, replays if replay else None, summary, update)
            if replays is not None and replays.uri is not None:
                sources.kept_inputs.add(replays.uri)
            if progress is not None:
                progress(batch.rows.num_rows)
        if update.ids and not dry_run:
            summary.updated = self.warehouse.update_rows(
                TABLE,
                update.table(),
                key=["prediction_id"],
                only_where=f"({UPDATABLE}) AND game_date BETWEEN @first_date AND @last_date",
                params={"first_date": min(update.dates), "last_date": max(update.dates)},
            )
        _log.info("backfill finished", extra=summary.to_document())
        return summary

    def _timeline(self, system_id: str) -> LedgerTimeline:
        return self.ledger.timeline(system_id)

    def _placements(self, batch: _Batch, timeline: LedgerTimeline) -> list[_Placement]:
        """Each row at its instant (the batch's logged start, else its own created_at), the
        rows at instants with the same candidates together, in the order of the rows."""
        window = self.settings.ambiguity
        instants, first, of_row = np.unique(
            batch.rows.column("at_micros").to_numpy(), return_index=True, return_inverse=True
        )
        keys: dict[tuple[tuple[str, ...], bool], int] = {}
        candidates_of: list[list[ModelCard]] = []
        placement_of = np.empty(len(instants), dtype=np.intp)
        for instant in np.argsort(first, kind="stable"):
            at = EPOCH + timedelta(microseconds=int(instants[instant]))
            candidates = timeline.candidates(at, window)
            # One candidate is the ledger's answer only if a model was already active at
            # the window's start: before a system's first promotion, "none" is possible.
            inferable = len(candidates) == 1 and timeline.active_at(at - window) is not None
            key = (tuple(c.model_sha256 for c in candidates), inferable)
            if key not in keys:
                keys[key] = len(candidates_of)
                candidates_of.append(candidates)
            placement_of[instant] = keys[key]
        if len(keys) == 1:
            ((_, inferable),) = keys
            return [_Placement(candidates_of[0], inferable, batch.rows)]
        placed = placement_of[of_row]
        return [
            _Placement(candidates_of[index], inferable, batch.rows.filter(placed == index))
            for (_, inferable), index in keys.items()
        ]

    def _decide(
        self,
        batch: _Batch,
        placement: _Placement,
        replays: _Replays | None,
        summary: BackfillSummary,
        update: _Update,
    ) -> None:
        rows, candidates = placement.rows, placement.candidates
        if not candidates:
            summary.no_ledger_entry.extend(rows.column("prediction_id").to_pylist())
            summary.by_method["no_ledger_entry"] += rows.num_rows
            return
        replayed = None
        if replays is not None:
            replayed = self._replayed(batch, rows, candidates, replays)
        n = rows.num_rows
        if replayed is not None:
            choices = self._reproduced(rows, replayed)
        elif placement.inferable:
            choices = _Choices(np.zeros(n, np.intp), np.full(n, _INFERRED))
        else:
            choices = _Choices(np.full(n, -1, np.intp), np.full(n, _AMBIGUOUS))
        _apply(batch, placement, choices, summary, update)

    def _reproduced(self, rows: pa.Table, replayed: list[_Replayed]) -> _Choices:
        """Per row, the one candidate whose replay reproduces its stored prediction: points
        against points, an OVER probability against an OVER probability."""
        stored = {
            PredictionType.POINTS: _stored(rows, "predicted_points"),
            PredictionType.OVER_PROBABILITY: _stored(rows, "over_probability"),
        }
        matches = np.zeros((len(replayed), rows.num_rows), dtype=bool)
        for index, (kind, values) in enumerate(replayed):
            if kind is None:
                continue
            matches[index] = np.abs(values - stored[kind]) <= self.settings.tolerance  # NaN: no
        counts = matches.sum(axis=0)
        which = np.where(counts == 1, matches.argmax(axis=0), -1)
        method = np.where(counts == 1, _VERIFIED, np.where(counts > 0, _AMBIGUOUS, _UNREPRODUCED))
        return _Choices(which, method)

    def _replayed(
        self,
        batch: _Batch,
        rows: pa.Table,
        candidates: Sequence[ModelCard],
        replays: _Replays,
    ) -> list[_Replayed] | None:
        """Each candidate's replayed prediction for each of ``rows`` (NaN where it has
        none); None when the batch's input was not kept."""
        if not replays.read:
            kept = self._kept_input(batch, candidates)
            replays.read = True
            if kept is not None:
                replays.uri, replays.table = kept
        if replays.table is None:
            return None
        lines = _lines(rows.column("player_lookup"), rows.column("line_value"), rows["sportsbook"])
        replayed: list[_Replayed] = []
        for card in candidates:
            key = (card.model_sha256, batch.game_date)
            if key not in replays.by_model:
                replays.by_model[key] = self._replay(batch, replays.table, card)
            replay = replays.by_model[key]
            values = np.full(rows.num_rows, np.nan)
            if replay.lines is not None:
                values = _looked_up(lines, replay.lines, replay.values)
            replayed.append((replay.prediction_type, values))
        return replayed

    def _replay(self, batch: _Batch, table: pa.Table, card: ModelCard) -> _Replay:
        """``card``'s prediction per line on the kept input; none if it cannot run."""
        try:
            served = self.models.served(card)
            checked, scores = score_rows(served, table, batch.game_date)
        except PermanentError as exc:
            _log.warning(
                "candidate cannot be replayed",
                extra={
                    "batch_id": batch.batch_id,
                    "model": card.model_file_name,
                    "error": str(exc),
                },
            )
            return _Replay(None)
        lines = _lines(checked.player_lookup, pa.array(checked.line_value), checked.sportsbook)
        return _Replay(scores.prediction_type, lines, pa.array(scores.values, pa.float64()))

    def _kept_input(
        self, batch: _Batch, candidates: Sequence[ModelCard]
    ) -> tuple[str, pa.Table] | None:
        """Where the batch's input was kept, and its rows; None if none was kept or none
        can be read (then its rows take the ledger's answer, as if nothing had been kept)."""
        as_text = sorted(
            {name for card in candidates if card.interface for name in text_columns(card.interface)}
        )
        uris = [batch.input_uri] if batch.input_uri else []
        uris += [
            f"gs://{self.inputs_bucket}/{self.inputs_prefix}{batch.batch_id}/input.{fmt}"
            for fmt in ("jsonl", "parquet", "csv")
        ]
        for uri in uris:
            bucket, name = split_gs_uri(uri)
            store = self.store_for(bucket)
            if store.stat(name) is None:
                continue
            try:
                data = store.read(name)
                return uri, read_rows(data, format_of(name), source=uri, text_columns=as_text)
            except PermanentError as exc:  # also a line that is no row: not the whole input
                _log.warning(
                    "kept input cannot be read",
                    extra={"batch_id": batch.batch_id, "uri": uri, "error": str(exc)},
                )
        return None


# One candidate's replay of some rows: what kind of output it gives, and its value per row.
_Replayed = tuple[PredictionType | None, np.ndarray]


def _apply(
    batch: _Batch,
    placement: _Placement,
    choices: _Choices,
    summary: BackfillSummary,
    update: _Update,
) -> None:
    """Count every row's outcome; add the rows that gain an attribution (or lose a refuted
    one) to the update."""
    rows, candidates = placement.rows, placement.candidates
    ids = rows.column("prediction_id").combine_chunks()
    stored = _method_codes(rows.column("attribution_method"))
    unreproduced = choices.method == _UNREPRODUCED
    _count(summary, _AMBIGUOUS, ids, choices.method == _AMBIGUOUS, summary.ambiguous)
    _count(summary, _UNREPRODUCED, ids, unreproduced, summary.unreproduced)
    refuted = unreproduced & (stored == _INFERRED)
    if refuted.any():
        summary.refuted.extend(ids.filter(refuted).to_pylist())
        update.add(ids.filter(refuted), _CLEARED, batch.game_date)
    # A row already inferred, where replay could not prove more, stays as it is.
    gained = (choices.which >= 0) & (choices.method != stored)
    for index, card in enumerate(candidates):
        for code in (_INFERRED, _VERIFIED):
            chosen = gained & (choices.which == index) & (choices.method == code)
            count = int(chosen.sum())
            if count:
                method = _METHODS[code]
                summary.by_method[method] += count
                summary.by_model[card.model_file_name] += count
                values = {**attribution_columns(card), "attribution_method": method}
                update.add(ids.filter(chosen), values, batch.game_date)


def _count(
    summary: BackfillSummary, code: int, ids: pa.Array, chosen: np.ndarray, listed: list[str]
) -> None:
    count = int(chosen.sum())
    if count:
        summary.by_method[_METHODS[code]] += count
        listed.extend(ids.filter(chosen).to_pylist())


def _method_codes(methods: pa.ChunkedArray) -> np.ndarray:
    """Stored methods as codes of ``_METHODS``; -1 for NULL and for any other method."""
    codes = pc.index_in(methods, value_set=pa.array(_METHODS[:2]))
    return np.asarray(codes.fill_null(-1).to_numpy())


def _lines(
    players: pa.Array | pa.ChunkedArray,
    lines: pa.Array | pa.ChunkedArray,
    books: pa.Array | pa.ChunkedArray,
) -> _Lines:
    # -0.0 + 0.0 is 0.0: one line, as the two are one key of a dict.
    return _Lines(
        _flat(players).cast(pa.string()),
        pc.add(_flat(lines).cast(pa.float64()), 0.0),
        _flat(books).cast(pa.string()),
    )


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _looked_up(lines: _Lines, replayed: _Lines, values: pa.Array) -> np.ndarray:
    """Each of ``lines``' value among the ``replayed`` lines' ``values``, NaN where there
    is none (as for a NULL line). A replay holds each line once (``check_rows`` refuses
    one repeated)."""
    n = len(lines.players)
    key = _equal_where_equal(
        pa.concat_arrays([lines.players, replayed.players]),
        pa.concat_arrays([lines.lines, replayed.lines]),
        pa.concat_arrays([lines.books, replayed.books]),
    )
    found = pc.index_in(key[:n], value_set=key[n:])
    return np.asarray(values.take(found).to_numpy(zero_copy_only=False))


# Keys stay below this; a product that would not is renumbered first (a hash pass, which
# the usual few lines and sportsbooks per player never need).
_KEY_LIMIT = 2**62


def _equal_where_equal(*columns: pa.Array) -> pa.Array:
    """One integer per row, equal for two rows exactly where each column is (a NULL
    equal to a NULL only)."""
    key, highest = np.zeros(len(columns[0]), np.int64), 0
    for column in columns:
        values, size = _codes(column)
        if (highest + 1) * (size + 1) > _KEY_LIMIT:
            key, highest = _codes(pa.array(key))
        key = key * (size + 1) + values
        highest = (highest + 1) * (size + 1) - 1
    return pa.array(key)


def _codes(column: pa.Array) -> tuple[np.ndarray, int]:
    """``column``'s distinct values numbered from 1 (0 for NULL), and how many there are."""
    encoded = column.dictionary_encode()
    codes = pc.add(encoded.indices, 1).fill_null(0).to_numpy()
    return np.asarray(codes, dtype=np.int64), len(encoded.dictionary)


def _stored(rows: pa.Table, column: str) -> np.ndarray:
    """A float column as NumPy, NaN for NULL."""
    return np.asarray(rows.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)


def _batches(rows: pa.Table) -> list[_Batch]:
    """Runs of rows of one batch, system and game date, in the order the query returned
    them. The query sorts by these, so each is one run (a zero-copy slice); a group split
    into several runs would be decided the same, only with its input read again."""
    n = rows.num_rows
    if n == 0:
        return []
    starts = np.zeros(n, dtype=bool)
    starts[:1] = True
    for name in ("batch_id", "system_id", "game_date"):
        column = rows.column(name)
        differs = pc.not_equal(column.slice(1), column.slice(0, n - 1))
        starts[1:] |= differs.to_numpy(zero_copy_only=False)
    bounds = [*np.flatnonzero(starts).tolist(), n]
    batches: list[_Batch] = []
    for start, end in pairwise(bounds):
        run = rows.slice(start, end - start)
        first = {name: run.column(name)[0].as_py() for name in _BATCH_COLUMNS}
        batches.append(_Batch(**first, rows=run))
    return batches


_BATCH_COLUMNS = ("batch_id", "system_id", "game_date", "input_uri")
