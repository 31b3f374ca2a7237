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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from attribution.batches.rows import format_of, read_rows
from attribution.batches.scoring import score_rows, text_columns
from attribution.errors import PermanentError
from attribution.history.ledger import DeploymentLedger, LedgerTimeline
from attribution.logs import get_logger
from attribution.model_card.card import ModelCard, attribution_columns
from attribution.model_card.interface import PredictionType
from attribution.model_card.loading import ModelCache
from attribution.objects import split_gs_uri
from attribution.ports import ObjectStore, Row, Warehouse
from attribution.warehouse.sql_text import sql

_log = get_logger("attribution.history.backfill")

REPLAY_VERIFIED = "replay_verified"
LEDGER_INFERRED = "ledger_inferred"
# A ledger inference that replay disproved: the model columns are cleared, so the row counts
# as unattributed again, and the method says why.
REPLAY_REFUTED = "replay_refuted"
UPDATABLE = (
    "attribution_method IS NULL OR attribution_method IN ('ledger_inferred', 'replay_refuted')"
)
_CLEARED: dict[str, Any] = {
    "model_file_name": None,
    "model_training_start_date": None,
    "model_training_end_date": None,
    "model_expected_mae": None,
    "model_expected_hit_rate": None,
    "model_trained_at": None,
    "model_sha256": None,
    "model_card_id": None,
    "attribution_method": REPLAY_REFUTED,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    rows: list[Row]


# A prediction within its batch: player, line and sportsbook (None when the row named none).
_LineKey = tuple[str, float, str | None]


def _line_key(row: Row) -> _LineKey:
    line = row["line_value"]
    return (row["player_lookup"], np.nan if line is None else float(line), row.get("sportsbook"))


@dataclass(frozen=True)
class _Replay:
    """One candidate's output on a kept input, per line, and which kind of output it is."""

    prediction_type: PredictionType | None
    by_line: dict[_LineKey, float]


@dataclass
class _Replays:
    """One batch's kept input and each candidate's predictions on it, per line: read and
    computed at most once per run, however many instants the batch's rows fall at."""

    batch_id: str
    read: bool = False
    table: pa.Table | None = None
    by_model: dict[tuple[str, date], _Replay] = field(default_factory=dict)


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
    ) -> None:
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
    ) -> BackfillSummary:
        rows = self.warehouse.query(
            sql("backfill_candidates"),
            {
                "include_inferred": replay,
                "system_id": system_id,
                "from_date": from_date or date(1900, 1, 1),
                "to_date": to_date or date(9999, 12, 31),
            },
        )
        summary = BackfillSummary(considered=len(rows), dry_run=dry_run)
        timelines: dict[str, LedgerTimeline] = {}
        updates: list[Row] = []
        dates: set[date] = set()
        replays: _Replays | None = None
        for batch in _batches(rows):
            if batch.system_id not in timelines:
                timelines[batch.system_id] = self._timeline(batch.system_id)
            if replay and (replays is None or replays.batch_id != batch.batch_id):
                replays = _Replays(batch.batch_id)
            decided = self._decide(
                batch, timelines[batch.system_id], replays if replay else None, summary
            )
            if decided:
                updates.extend(decided)
                dates.add(batch.game_date)
        if updates and not dry_run:
            summary.updated = self.warehouse.update_rows(
                "player_prop_predictions",
                updates,
                key=["prediction_id"],
                only_where=f"({UPDATABLE}) AND game_date BETWEEN @first_date AND @last_date",
                params={"first_date": min(dates), "last_date": max(dates)},
            )
        _log.info("backfill finished", extra=summary.to_document())
        return summary

    def _timeline(self, system_id: str) -> LedgerTimeline:
        return self.ledger.timeline(system_id)

    def _decide(
        self,
        batch: _Batch,
        timeline: LedgerTimeline,
        replays: _Replays | None,
        summary: BackfillSummary,
    ) -> list[Row]:
        """Each row at its instant: the batch's logged start, else its own created_at."""
        window = self.settings.ambiguity
        # Rows at instants with the same candidates are decided together.
        instants: dict[int, tuple[tuple[str, ...], bool]] = {}
        placed: dict[tuple[tuple[str, ...], bool], tuple[list[ModelCard], list[Row]]] = {}
        for row in batch.rows:
            micros = row["at_micros"]
            if micros not in instants:
                at = EPOCH + timedelta(microseconds=micros)
                candidates = timeline.candidates(at, window)
                # One candidate is the ledger's answer only if a model was already active at
                # the window's start: before a system's first promotion, "none" is possible.
                inferable = len(candidates) == 1 and timeline.active_at(at - window) is not None
                key = (tuple(c.model_sha256 for c in candidates), inferable)
                instants[micros] = key
                placed.setdefault(key, (candidates, []))
            placed[instants[micros]][1].append(row)
        decided: list[Row] = []
        for (_, inferable), (candidates, rows) in placed.items():
            if not candidates:
                summary.no_ledger_entry.extend(r["prediction_id"] for r in rows)
                summary.by_method["no_ledger_entry"] += len(rows)
                continue
            replayed = None
            if replays is not None:
                replayed = self._replayed(batch, rows, candidates, replays)
            if replayed is not None:
                choices = self._reproduced(rows, candidates, replayed)
            elif inferable:
                choices = [(0, LEDGER_INFERRED)] * len(rows)
            else:
                choices = [(-1, "ambiguous")] * len(rows)
            decided.extend(self._apply(rows, candidates, choices, summary))
        return decided

    def _reproduced(
        self, rows: Sequence[Row], candidates: Sequence[ModelCard], replayed: list[_Replayed]
    ) -> list[tuple[int, str]]:
        """Per row, the one candidate whose replay reproduces its stored prediction: points
        against points, an OVER probability against an OVER probability."""
        n = len(rows)
        stored = {
            PredictionType.POINTS: _stored(rows, "predicted_points"),
            PredictionType.OVER_PROBABILITY: _stored(rows, "over_probability"),
        }
        matches = np.zeros((len(candidates), n), dtype=bool)
        for index, (kind, values) in enumerate(replayed):
            if kind is None:
                continue
            matches[index] = np.abs(values - stored[kind]) <= self.settings.tolerance  # NaN: no
        counts = matches.sum(axis=0).tolist()
        which = matches.argmax(axis=0).tolist()
        return [
            (w, REPLAY_VERIFIED) if c == 1 else (-1, "ambiguous" if c else "unreproduced")
            for c, w in zip(counts, which, strict=True)
        ]

    def _apply(
        self,
        rows: Sequence[Row],
        candidates: Sequence[ModelCard],
        choices: Sequence[tuple[int, str]],
        summary: BackfillSummary,
    ) -> list[Row]:
        """Count every row's outcome; the updates for the rows that gain an attribution."""
        columns: dict[tuple[int, str], dict[str, Any]] = {}
        decided: list[Row] = []
        for row, (index, method) in zip(rows, choices, strict=True):
            if index < 0:
                summary.by_method[method] += 1
                target = summary.unreproduced if method == "unreproduced" else summary.ambiguous
                target.append(row["prediction_id"])
                if method == "unreproduced" and row["attribution_method"] == LEDGER_INFERRED:
                    summary.refuted.append(row["prediction_id"])
                    decided.append({"prediction_id": row["prediction_id"], **_CLEARED})
                continue
            if method == row["attribution_method"]:
                continue  # already inferred, and replay could not prove more
            summary.by_method[method] += 1
            if (index, method) not in columns:
                card = candidates[index]
                columns[(index, method)] = {
                    **attribution_columns(card),
                    "attribution_method": method,
                }
            summary.by_model[candidates[index].model_file_name] += 1
            decided.append({"prediction_id": row["prediction_id"], **columns[(index, method)]})
        return decided

    def _replayed(
        self,
        batch: _Batch,
        rows: Sequence[Row],
        candidates: Sequence[ModelCard],
        replays: _Replays,
    ) -> list[_Replayed] | None:
        """Each candidate's replayed prediction for each of ``rows`` (NaN where it has
        none); None when the batch's input was not kept."""
        if not replays.read:
            replays.table, replays.read = self._kept_input(batch, candidates), True
        if replays.table is None:
            return None
        replayed: list[_Replayed] = []
        lines = [_line_key(r) for r in rows]
        for card in candidates:
            key = (card.model_sha256, batch.game_date)
            if key not in replays.by_model:
                replays.by_model[key] = self._replay(batch, replays.table, card)
            replay = replays.by_model[key]
            values = np.fromiter(
                (replay.by_line.get(line, np.nan) for line in lines), np.float64, len(lines)
            )
            replayed.append((replay.prediction_type, values))
        return replayed

    def _replay(self, batch: _Batch, table: pa.Table, card: ModelCard) -> _Replay:
        """``card``'s prediction per line on the kept input; empty if it cannot run."""
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
            return _Replay(None, {})
        lines = zip(
            checked.player_lookup.to_pylist(),
            checked.line_value.tolist(),
            checked.sportsbook.to_pylist(),
            strict=True,
        )
        return _Replay(
            scores.prediction_type, dict(zip(lines, scores.values.tolist(), strict=True))
        )

    def _kept_input(self, batch: _Batch, candidates: Sequence[ModelCard]) -> pa.Table | None:
        """The batch's kept input; None if none was kept or none can be read (then its
        rows take the ledger's answer, as if nothing had been kept)."""
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
                return read_rows(data, format_of(name), source=uri, text_columns=as_text)
            except PermanentError as exc:  # also a line that is no row: not the whole input
                _log.warning(
                    "kept input cannot be read",
                    extra={"batch_id": batch.batch_id, "uri": uri, "error": str(exc)},
                )
        return None


# One candidate's replay of some rows: what kind of output it gives, and its value per row.
_Replayed = tuple[PredictionType | None, np.ndarray]


def _stored(rows: Sequence[Row], column: str) -> np.ndarray:
    values = (np.nan if r[column] is None else r[column] for r in rows)
    return np.fromiter(values, np.float64, len(rows))


def _batches(rows: Iterable[Row]) -> list[_Batch]:
    """Rows by batch, system and game date, in the order the query returned them."""
    grouped: dict[tuple[str, str, date], list[Row]] = {}
    for row in rows:
        grouped.setdefault((row["batch_id"], row["system_id"], row["game_date"]), []).append(row)
    return [
        _Batch(batch_id, system_id, game_date, members[0]["input_uri"], members)
        for (batch_id, system_id, game_date), members in grouped.items()
    ]
