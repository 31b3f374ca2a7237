"""Attribution for rows written before stamping: inferred from the ledger, proven by replay.

For each unattributed prediction, the model active for its system at its batch's start
(or its own ``created_at``) per the deployment ledger is the candidate. A row within
``ambiguity`` of a promotion has several candidates and is left unstamped unless replay
decides. With ``replay``, where the batch's input was kept, each candidate model is re-run
on it: the one that reproduces the stored prediction makes the row ``replay_verified``; a
row no candidate reproduces is flagged and left unstamped. A ``stamped`` row is never read
here, let alone changed (the update itself is guarded too).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from attribution.batch_request import split_gs_uri
from attribution.batch_rows import check_rows, format_of, read_rows
from attribution.card import ModelCard, attribution_columns
from attribution.deployments import DeploymentLedger, LedgerTimeline
from attribution.errors import PermanentError
from attribution.logs import get_logger
from attribution.model_loading import ModelCache
from attribution.ports import ObjectStore, Row, Warehouse
from attribution.sql_text import sql

_log = get_logger("attribution.backfill")

REPLAY_VERIFIED = "replay_verified"
LEDGER_INFERRED = "ledger_inferred"
UPDATABLE = "attribution_method IS NULL OR attribution_method = 'ledger_inferred'"


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
            "no_ledger_entry": len(self.no_ledger_entry),
            "ambiguous_rows": self.ambiguous[:50],
            "unreproduced_rows": self.unreproduced[:50],
            "no_ledger_entry_rows": self.no_ledger_entry[:50],
            "updated": self.updated,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class _Batch:
    batch_id: str
    system_id: str
    game_date: date
    at: datetime
    input_uri: str | None
    rows: list[Row]


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
        for batch in _batches(rows):
            if batch.system_id not in timelines:
                timelines[batch.system_id] = self._timeline(batch.system_id)
            decided = self._decide(batch, timelines[batch.system_id], replay, summary)
            updates.extend(decided)
        if updates and not dry_run:
            dates = [u["game_date"] for u in updates]
            summary.updated = self.warehouse.update_rows(
                "player_prop_predictions",
                [{k: v for k, v in u.items() if k != "game_date"} for u in updates],
                key=["prediction_id"],
                only_where=f"({UPDATABLE}) AND game_date BETWEEN @first_date AND @last_date",
                params={"first_date": min(dates), "last_date": max(dates)},
            )
        _log.info("backfill finished", extra=summary.to_document())
        return summary

    def _timeline(self, system_id: str) -> LedgerTimeline:
        return self.ledger.timeline(system_id)

    def _decide(
        self, batch: _Batch, timeline: LedgerTimeline, replay: bool, summary: BackfillSummary
    ) -> list[Row]:
        candidates = timeline.candidates(batch.at, self.settings.ambiguity)
        if not candidates:
            summary.no_ledger_entry.extend(r["prediction_id"] for r in batch.rows)
            summary.by_method["no_ledger_entry"] += len(batch.rows)
            return []
        # One candidate is the ledger's answer only if a model was already active at the
        # window's start: before a system's first promotion the other possibility is "none".
        inferable = (
            len(candidates) == 1
            and timeline.active_at(batch.at - self.settings.ambiguity) is not None
        )
        replayed = self._replay(batch, candidates) if replay else None
        decided: list[Row] = []
        for row in batch.rows:
            card, method = self._choose(row, candidates, replayed, inferable)
            if card is None:
                target = summary.unreproduced if method == "unreproduced" else summary.ambiguous
                target.append(row["prediction_id"])
                summary.by_method[method] += 1
                continue
            if method == row["attribution_method"]:
                continue  # already inferred, and replay could not prove more
            summary.by_method[method] += 1
            summary.by_model[card.model_file_name] += 1
            decided.append(
                {
                    "prediction_id": row["prediction_id"],
                    "game_date": row["game_date"],
                    **attribution_columns(card),
                    "attribution_method": method,
                }
            )
        return decided

    def _choose(
        self,
        row: Row,
        candidates: list[ModelCard],
        replayed: dict[str, dict[str, float]] | None,
        inferable: bool,
    ) -> tuple[ModelCard | None, str]:
        if replayed is not None:
            stored = row["predicted_points"]
            matches = [
                c
                for c in candidates
                if (value := replayed.get(c.model_sha256, {}).get(row["player_lookup"])) is not None
                and abs(value - stored) <= self.settings.tolerance
            ]
            if len(matches) == 1:
                return matches[0], REPLAY_VERIFIED
            if len(matches) > 1:
                return None, "ambiguous"
            return None, "unreproduced"
        if not inferable:
            return None, "ambiguous"
        return candidates[0], LEDGER_INFERRED

    def _replay(
        self, batch: _Batch, candidates: list[ModelCard]
    ) -> dict[str, dict[str, float]] | None:
        """Each candidate's prediction per player on the batch's kept input; None if not kept."""
        table = self._kept_input(batch)
        if table is None:
            return None
        results: dict[str, dict[str, float]] = {}
        for card in candidates:
            try:
                checked = check_rows(
                    table, feature_names=card.feature_names, game_date=batch.game_date
                )
                model = self.models.model_for(card)
            except PermanentError as exc:
                _log.warning(
                    "candidate cannot be replayed",
                    extra={
                        "batch_id": batch.batch_id,
                        "model": card.model_file_name,
                        "error": str(exc),
                    },
                )
                continue
            if checked.good == 0:
                results[card.model_sha256] = {}
                continue
            predicted = np.asarray(model.predict(checked.features), dtype=np.float64)
            players = checked.player_lookup.to_pylist()
            results[card.model_sha256] = dict(zip(players, predicted.tolist(), strict=True))
        return results

    def _kept_input(self, batch: _Batch) -> pa.Table | None:
        uris = [batch.input_uri] if batch.input_uri else []
        uris += [
            f"gs://{self.inputs_bucket}/{self.inputs_prefix}{batch.batch_id}/input.{fmt}"
            for fmt in ("jsonl", "parquet", "csv")
        ]
        for uri in uris:
            bucket, name = split_gs_uri(uri)
            store = self.store_for(bucket)
            if store.stat(name) is not None:
                return read_rows(store.read(name), format_of(name), source=uri)
        return None


def _batches(rows: Iterable[Row]) -> list[_Batch]:
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row["batch_id"], row["system_id"])].append(row)
    batches = []
    for (batch_id, system_id), members in grouped.items():
        first = members[0]
        at = first["batch_started_at"] or min(r["created_at"] for r in members)
        batches.append(
            _Batch(batch_id, system_id, first["game_date"], at, first["input_uri"], members)
        )
    return batches
