"""A backfill as lineage: job ``backfill.<system_id>`` (``backfill.all`` for every system).

In: the candidate models it weighed (``model_card.lineage.model_dataset``) and the kept
inputs it replayed. Out: ``player_prop_predictions`` with the rows it changed. A dry run
writes nothing and sends nothing. Its run id is derived from what it covers and when it
started.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from attribution.clock import now_utc
from attribution.model_card.card import ModelCard
from attribution.model_card.lineage import model_dataset, run_id
from attribution.ports import (
    LineageDataset,
    LineageEmitter,
    LineageRun,
    ObjectDataset,
    RunState,
    TableDataset,
)

JOB = "backfill"


@dataclass
class BackfillSources:
    """What a backfill read, gathered as it runs."""

    models: dict[str, ModelCard] = field(default_factory=dict)
    kept_inputs: set[str] = field(default_factory=set)

    def weighed(self, candidates: Iterable[ModelCard]) -> None:
        for card in candidates:
            self.models.setdefault(card.model_sha256, card)

    def inputs(self) -> list[LineageDataset]:
        return [
            *(model_dataset(card) for card in self.models.values()),
            *(ObjectDataset(uri=uri) for uri in sorted(self.kept_inputs)),
        ]


class BackfillLineage:
    def __init__(
        self,
        emitter: LineageEmitter | None,
        system_id: str | None,
        from_date: date | None,
        to_date: date | None,
        replay: bool,
    ) -> None:
        self.emitter = emitter
        self.job = f"{JOB}.{system_id or 'all'}"
        self.started_at = now_utc()
        covered = f"{system_id}/{from_date}/{to_date}/{'replay' if replay else 'ledger'}"
        self.run_id: UUID = run_id(JOB, f"{covered}@{self.started_at.isoformat()}")

    def started(self) -> None:
        self._emit(RunState.START, self.started_at)

    def completed(self, sources: BackfillSources, updated: int) -> None:
        outputs = (TableDataset("player_prop_predictions", rows=updated),)
        self._emit(RunState.COMPLETE, now_utc(), sources.inputs(), outputs)

    def failed(self, sources: BackfillSources, error: str) -> None:
        self._emit(RunState.FAIL, now_utc(), sources.inputs(), error=error)

    def _emit(
        self,
        state: RunState,
        at: datetime,
        inputs: list[LineageDataset] | None = None,
        outputs: tuple[LineageDataset, ...] = (),
        *,
        error: str | None = None,
    ) -> None:
        if self.emitter is not None:
            run = LineageRun(self.job, self.run_id, state, at, inputs or (), outputs, error)
            self.emitter.emit(run)
