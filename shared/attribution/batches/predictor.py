"""Run one prediction batch: resolve the model, predict, stamp its card, write once.

A batch id names one input (its SHA-256 is logged and claimed): a redelivery of the same
input changes nothing, the same id with other rows is refused (``batch_id_reused``). Every
batch is visible from before its first prediction is written: its log row says ``running``
until the batch finishes with ``success``, ``partial`` or ``failed``. A failed batch runs
again when its message comes again (its cause, such as no promoted model, may be fixed); a
batch whose holder died is taken over once its short claim lease runs out, and completes
exactly once, since every write is keyed. Permanent problems are logged, kept in
``dead_letters`` and acknowledged; transient ones (a backend down) propagate so Pub/Sub
redelivers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from attribution.batches.challengers import ChallengerRun, ChallengerScoring
from attribution.batches.claims import BatchClaims, Claim
from attribution.batches.completion import BatchCompletion, CompletionAnnouncer
from attribution.batches.execution_log import BatchCounts, BatchLog, BatchStatus, log_row
from attribution.batches.inputs import (
    BatchInput,
    input_rows,
    keep_input,
    read_batch_input,
    reused_batch_id,
)
from attribution.batches.lineage import BatchLineage
from attribution.batches.lineup import Role
from attribution.batches.profile_counts import write_profile_counts
from attribution.batches.request import BatchRequest, parse_batch_request
from attribution.batches.rows import RowReject, RowsRead, check_features, check_slate
from attribution.batches.scoring import score, text_columns
from attribution.batches.stamping import PickRules, prediction_ids, stamp_predictions
from attribution.clock import now_utc
from attribution.dead_letters import keep_dead_letter
from attribution.errors import PermanentError
from attribution.events import PubSubMessage
from attribution.json_safe import dumps_finite
from attribution.logs import get_logger
from attribution.model_card.card import ModelCard
from attribution.model_card.loading import ModelCache
from attribution.model_card.registry import CardRegistry
from attribution.ports import LineageEmitter, ObjectStore, Row, Warehouse

_log = get_logger("attribution.batches.predictor")

__all__ = ["BatchOutcome", "BatchPredictor", "BatchStatus", "PredictionSettings"]


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str | None
    status: BatchStatus
    requested: int = 0
    written: int = 0
    rejected: int = 0
    card: ModelCard | None = None
    error: str | None = None
    challengers: list[ChallengerRun] = field(default_factory=list)


@dataclass(frozen=True)
class PredictionSettings:
    min_edge: float = 1.0
    over_probability_threshold: float = 0.524
    inputs_bucket: str = "models"
    inputs_prefix: str = "batches/"


@dataclass(frozen=True)
class _Run:
    """One delivery's run of a batch."""

    request: BatchRequest
    message: PubSubMessage
    batch_input: BatchInput
    started_at: datetime
    clock: float

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.clock) * 1000)


class ActiveModels(Protocol):
    """Which models serve a system now: the deployment ledger (``history.ledger``), cached."""

    def active_card(self, system_id: str) -> ModelCard | None: ...

    def active_challengers(self, system_id: str) -> tuple[ModelCard, ...]: ...


class BatchPredictor:
    """The prediction-batch use case over injected ports."""

    def __init__(
        self,
        *,
        warehouse: Warehouse,
        registry: CardRegistry,
        active_models: ActiveModels,
        models: ModelCache,
        store_for: Callable[[str], ObjectStore],
        settings: PredictionSettings,
        claims: BatchClaims | None = None,
        completions: CompletionAnnouncer | None = None,
        lineage: LineageEmitter | None = None,
    ) -> None:
        self.lineage = BatchLineage(lineage)
        self.claims = claims
        self.completions = completions
        self.warehouse = warehouse
        self.log = BatchLog(warehouse)
        self.registry = registry
        self.active_models = active_models
        self.models = models
        self.store_for = store_for
        self.settings = settings
        self.rules = PickRules(settings.min_edge, settings.over_probability_threshold)
        self.challengers = ChallengerScoring(
            warehouse=warehouse, models=models, rules=self.rules, write_rejects=self._write_rejects
        )

    def handle_message(self, message: PubSubMessage) -> BatchOutcome:
        started_at = now_utc()
        clock = time.perf_counter()
        try:
            request = parse_batch_request(message.data)
        except PermanentError as exc:
            return self._refuse_message(message, exc, started_at)
        try:
            batch_input = read_batch_input(
                request, self.store_for, self.settings.inputs_bucket, self.settings.inputs_prefix
            )
        except PermanentError as exc:
            return self._fail(request, message, exc, started_at, clock, input_sha256=None)
        run = _Run(request, message, batch_input, started_at, clock)
        done = self._done_or_refused(run)
        if done is not None:
            return done
        claim = self.claims.claim(request.batch_id, batch_input.sha256) if self.claims else None
        try:
            done = self._done_or_refused(run)  # another delivery may have finished meanwhile
            if done is not None:
                return done
            if claim is None or self.claims is None:
                return self._run(run, claim)
            with self.claims.held(claim):
                return self._run(run, claim)
        except PermanentError as exc:
            if claim is not None and self.claims is not None:
                self.claims.release(claim)
            return self._fail(
                request, message, exc, started_at, clock, input_sha256=batch_input.sha256
            )
        except Exception as exc:
            if claim is not None and self.claims is not None:
                self.claims.release(claim)  # let the redelivery start at once
            self.lineage.failed(request, f"{type(exc).__name__}: {exc}")
            raise

    def _done_or_refused(self, run: _Run) -> BatchOutcome | None:
        """The outcome when the batch id is already done, or names another input."""
        batch_id = run.request.batch_id
        logged = self.log.get(batch_id)
        if logged is None:
            return None
        if logged.reused_by(run.batch_input.sha256):
            assert logged.input_sha256 is not None
            error = reused_batch_id(batch_id, logged.input_sha256)
            self._dead_letter(run.message, error)
            _log.error("batch refused", extra={"batch_id": batch_id, "error": error.message})
            return BatchOutcome(batch_id, BatchStatus.FAILED, error=str(error))
        if logged.status.final:
            _log.info("batch already processed", extra={"batch_id": batch_id})
            return BatchOutcome(batch_id, BatchStatus.ALREADY_DONE)
        return None  # failed or unfinished: this delivery runs it (again)

    def _run(self, run: _Run, claim: Claim | None) -> BatchOutcome:
        request, batch_input = run.request, run.batch_input
        keep_input(batch_input, self.store_for(batch_input.kept_bucket), request.batch_id)
        card = self.resolve_card(request)
        self.lineage.started(request, card, batch_input)
        served = self.models.served(card)
        served.require_servable()
        challengers = self.challengers_for(request, card)
        interfaces = [c.interface for c in challengers if c.interface is not None]
        read = input_rows(batch_input, request, text_columns(served.interface, *interfaces))
        requested = read.table.num_rows + len(read.unreadable)
        self.log.record(self._row(run, BatchStatus.RUNNING, card, BatchCounts(requested)))
        slate = check_slate(read.table, game_date=request.game_date)
        slate_ids = prediction_ids(
            request, slate.players.combine_chunks(), slate.line, slate.books.combine_chunks()
        )
        checked = check_features(slate, served.interface)
        scores = score(served, checked.features)
        rows = stamp_predictions(
            request,
            card,
            checked,
            scores,
            rules=self.rules,
            created_at=run.started_at,
            slate_ids=slate_ids,
        )
        if claim is not None:
            claim.still_held()
        self.warehouse.insert_new_rows(
            "player_prop_predictions",
            rows,
            key=["prediction_id"],
            scope={"batch_id": request.batch_id, "game_date": request.game_date},
            unique_keys=True,  # check_rows rejects a repeated player, line and sportsbook
        )
        write_profile_counts(
            self.warehouse,
            request,
            card,
            role=Role.CHAMPION,
            interface=served.interface,
            features=checked.features,
            predictions=scores.values,
            created_at=run.started_at,
        )
        rejects = [*checked.rejects, *_unreadable_rejects(read)]
        self._write_rejects(request, rejects)
        scored = self.challengers.run(
            request, slate, challengers, created_at=run.started_at, slate_ids=slate_ids
        )
        status = (
            BatchStatus.FAILED
            if checked.good == 0
            else BatchStatus.PARTIAL
            if rejects
            else BatchStatus.SUCCESS
        )
        error = None
        if rejects:
            error = f"{len(rejects)} of {requested} rows rejected; first: {rejects[0].reason}"
        if requested == 0:
            error = "the batch has no rows"
        counts = BatchCounts(requested, checked.good, len(rejects))
        self.log.record(self._row(run, status, card, counts, error=error, challengers=scored))
        self._announce(request, status, counts)
        self.lineage.finished(
            request, card, batch_input, status, counts, error=error, challengers=scored
        )
        _log.info(
            "batch predicted",
            extra={
                "batch_id": request.batch_id,
                "system_id": request.system_id,
                "status": status.value,
                "rows_written": checked.good,
                "rows_rejected": len(rejects),
                "model_file_name": card.model_file_name,
                "model_sha256": card.model_sha256,
                "challengers": [c.to_document() for c in scored],
            },
        )
        return BatchOutcome(
            request.batch_id, status, requested, checked.good, len(rejects), card, error, scored
        )

    def _row(
        self,
        run: _Run,
        status: BatchStatus,
        card: ModelCard | None,
        counts: BatchCounts,
        *,
        error: str | None = None,
        challengers: list[ChallengerRun] | None = None,
    ) -> Row:
        return log_row(
            batch_id=run.request.batch_id,
            status=status,
            started_at=run.started_at,
            duration_ms=run.elapsed_ms(),
            request=run.request,
            card=card,
            counts=counts,
            error=error,
            input_sha256=run.batch_input.sha256,
            input_uri=run.batch_input.kept_uri,
            message_id=run.message.message_id,
            challengers=None
            if challengers is None
            else json.dumps([c.to_document() for c in challengers], sort_keys=True),
        )

    def _dead_letter(self, message: PubSubMessage, exc: PermanentError) -> None:
        keep_dead_letter(
            self.warehouse,
            source="prediction_batch",
            event_id=message.message_id,
            error_code=exc.code,
            error=exc.message,
            payload=message.data,
        )

    def resolve_card(self, request: BatchRequest) -> ModelCard:
        """The pinned model, else the one active for the system in the ledger."""
        if request.pin is not None:
            card = self.registry.resolve(request.pin.reference)
            if card.system_id is not None and card.system_id != request.system_id:
                raise PermanentError(
                    "wrong_system",
                    f"pinned model {card.model_file_name} belongs to {card.system_id}, "
                    f"not {request.system_id}",
                )
            return card
        active = self.active_models.active_card(request.system_id)
        if active is None:
            raise PermanentError(
                "no_model",
                f"no model is pinned and none is active for system {request.system_id}: "
                f"promote one with `attribution promote {request.system_id} MODEL`",
            )
        return active

    def challengers_for(self, request: BatchRequest, champion: ModelCard) -> list[ModelCard]:
        """The system's challengers per the ledger (a batch that pins its champion still runs
        them), without the champion itself."""
        return [
            card
            for card in self.active_models.active_challengers(request.system_id)
            if card.model_sha256 != champion.model_sha256
        ]

    def _write_rejects(
        self, request: BatchRequest, rejects: list[RowReject], card: ModelCard | None = None
    ) -> None:
        """Keep rejected rows: the batch's, or those only challenger ``card`` could not use."""
        if not rejects:
            return
        rejected_at = now_utc()
        prefix = (
            request.batch_id if card is None else f"{request.batch_id}:{card.model_sha256[:16]}"
        )
        rows: list[Row] = [
            {
                "reject_id": f"{prefix}:{reject.row_number}",
                "batch_id": request.batch_id,
                "system_id": request.system_id,
                "game_date": request.game_date,
                "row_number": reject.row_number,
                "player_lookup": reject.player_lookup,
                "reason": reject.reason,
                "raw_row": dumps_finite(_raw_row(request, reject), sort_keys=True),
                "rejected_at": rejected_at,
                "model_role": None if card is None else Role.CHALLENGER.value,
                "model_file_name": None if card is None else card.model_file_name,
                "model_sha256": None if card is None else card.model_sha256,
            }
            for reject in rejects
        ]
        self.warehouse.insert_new_rows(
            "prediction_rejects",
            rows,
            key=["reject_id"],
            scope={"batch_id": request.batch_id, "game_date": request.game_date},
        )

    def _fail(
        self,
        request: BatchRequest,
        message: PubSubMessage,
        exc: PermanentError,
        started_at: datetime,
        clock: float,
        *,
        input_sha256: str | None,
    ) -> BatchOutcome:
        self._dead_letter(message, exc)
        self.log.record(
            log_row(
                batch_id=request.batch_id,
                status=BatchStatus.FAILED,
                started_at=started_at,
                duration_ms=int((time.perf_counter() - clock) * 1000),
                request=request,
                counts=BatchCounts(0, 0, 0),
                error=str(exc),
                input_sha256=input_sha256,
                message_id=message.message_id,
            )
        )
        self._announce(request, BatchStatus.FAILED, BatchCounts(0, 0, 0))
        self.lineage.failed(request, str(exc))
        _log.error("batch failed", extra={"batch_id": request.batch_id, "error": str(exc)})
        return BatchOutcome(request.batch_id, BatchStatus.FAILED, error=str(exc))

    def _announce(self, request: BatchRequest, status: BatchStatus, counts: BatchCounts) -> None:
        """Tell the post-run verifier the batch ended. The batch is done whatever happens
        here: an announcement that cannot be published is logged, and the scheduled
        verification of the day still covers the batch."""
        if self.completions is None:
            return
        completion = BatchCompletion(
            batch_id=request.batch_id,
            system_id=request.system_id,
            game_date=request.game_date,
            run_mode=request.run_mode.value,
            status=status.value,
            rows_requested=counts.requested or 0,
            rows_written=counts.written or 0,
            rows_rejected=counts.rejected or 0,
            finished_at=now_utc(),
        )
        try:
            self.completions.announce(completion)
        except Exception as exc:
            _log.error(
                "batch completion not announced; the scheduled verification will cover it",
                extra={"batch_id": request.batch_id, "error": f"{type(exc).__name__}: {exc}"},
            )

    def _refuse_message(
        self, message: PubSubMessage, exc: PermanentError, started_at: datetime
    ) -> BatchOutcome:
        self._dead_letter(message, exc)
        batch_id = _batch_id_of(message.data)
        if batch_id and self.log.get(batch_id) is None:
            self.log.record(
                log_row(
                    batch_id=batch_id,
                    status=BatchStatus.FAILED,
                    started_at=started_at,
                    duration_ms=0,
                    error=str(exc),
                    message_id=message.message_id,
                )
            )
        _log.error(
            "batch message refused",
            extra={"batch_id": batch_id, "error_code": exc.code, "error": exc.message},
        )
        return BatchOutcome(batch_id, BatchStatus.FAILED, error=str(exc))


def _unreadable_rejects(read: RowsRead) -> list[RowReject]:
    return [
        RowReject(
            row_number=bad.row_number,
            player_lookup=None,
            reason=bad.reason,
            raw_row={"line": bad.line_number, "text": bad.text},
        )
        for bad in read.unreadable
    ]


def _raw_row(request: BatchRequest, reject: RowReject) -> Any:
    """The row as it was sent: inline rows as in the message, not as a typed column saw it."""
    if request.rows is not None and 0 <= reject.row_number < len(request.rows):
        return request.rows[reject.row_number]
    return reject.raw_row


def _batch_id_of(data: bytes) -> str | None:
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    batch_id = document.get("batch_id") if isinstance(document, dict) else None
    if isinstance(batch_id, str) and 0 < len(batch_id) <= 128:
        return batch_id
    return None
