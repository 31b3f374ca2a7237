"""A prediction batch as lineage: job ``prediction_batch.<system_id>``, one run per batch id.

In: the champion's model artifact (``model_card.lineage.model_dataset``), each challenger's,
and the batch's kept input. Out: ``player_prop_predictions`` with the rows written,
``prediction_rejects`` with the rows rejected, and ``challenger_predictions`` when
challengers scored. The run id is derived from the batch id: a batch already done is not run
again, so a redelivery sends nothing; a failed batch run again by its redelivery is the same
run starting again.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from attribution.batches.challengers import ChallengerRun
from attribution.batches.execution_log import BatchCounts, BatchStatus
from attribution.batches.inputs import BatchInput
from attribution.batches.request import BatchRequest
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

JOB = "prediction_batch"


def batch_job(system_id: str) -> str:
    return f"{JOB}.{system_id}"


def batch_run_id(batch_id: str) -> UUID:
    return run_id(JOB, batch_id)


class BatchLineage:
    def __init__(self, emitter: LineageEmitter | None) -> None:
        self.emitter = emitter

    def started(self, request: BatchRequest, card: ModelCard, batch_input: BatchInput) -> None:
        self._emit(request, RunState.START, _inputs(card, (), batch_input))

    def finished(
        self,
        request: BatchRequest,
        card: ModelCard,
        batch_input: BatchInput,
        status: BatchStatus,
        counts: BatchCounts,
        *,
        error: str | None,
        challengers: Sequence[ChallengerRun],
    ) -> None:
        """COMPLETE with what was written; FAIL when no row could be used."""
        outputs: list[LineageDataset] = [
            TableDataset("player_prop_predictions", rows=counts.written or 0),
            TableDataset("prediction_rejects", rows=counts.rejected or 0),
        ]
        if challengers:
            rows = sum(c.written for c in challengers)
            outputs.append(TableDataset("challenger_predictions", rows=rows))
        inputs = _inputs(card, [c.card for c in challengers], batch_input)
        failed = status is BatchStatus.FAILED
        state = RunState.FAIL if failed else RunState.COMPLETE
        self._emit(request, state, inputs, outputs, error=error if failed else None)

    def failed(self, request: BatchRequest, error: str) -> None:
        """FAIL: the batch stopped (what it read is in its START, when it got that far)."""
        self._emit(request, RunState.FAIL, (), error=error)

    def _emit(
        self,
        request: BatchRequest,
        state: RunState,
        inputs: Sequence[LineageDataset],
        outputs: Sequence[LineageDataset] = (),
        *,
        error: str | None = None,
    ) -> None:
        if self.emitter is None:
            return
        job, ids = batch_job(request.system_id), batch_run_id(request.batch_id)
        self.emitter.emit(LineageRun(job, ids, state, now_utc(), inputs, outputs, error))


def _inputs(
    card: ModelCard, challengers: Sequence[ModelCard], batch_input: BatchInput
) -> list[LineageDataset]:
    return [
        model_dataset(card),
        *(model_dataset(c) for c in challengers),
        ObjectDataset(uri=batch_input.kept_uri),
    ]
