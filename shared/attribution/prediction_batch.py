"""Run one prediction batch: resolve the model, predict, stamp its card, write once.

Every batch leaves one ``prediction_execution_log`` row. Permanent problems (a malformed
message, no model, a hash mismatch) are logged, recorded and acknowledged; transient ones
(a backend down) propagate so Pub/Sub redelivers. Redelivery writes nothing twice: the
batch's log row and the predictions' deterministic ids make every write insert-once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import pyarrow as pa

from attribution.batch_claims import BatchClaims
from attribution.batch_request import BatchRequest, parse_batch_request, split_gs_uri
from attribution.batch_rows import (
    CheckedRows,
    RowReject,
    format_of,
    read_rows,
    rows_to_table,
)
from attribution.card import ModelCard, attribution_columns, now_utc
from attribution.dead_letters import keep_dead_letter
from attribution.deployments import ActiveModelCache
from attribution.errors import PermanentError
from attribution.events import PubSubMessage
from attribution.logs import get_logger
from attribution.model_loading import ModelCache
from attribution.ports import ObjectStore, Row, Warehouse
from attribution.registry import CardRegistry
from attribution.scoring import score_rows, text_columns
from attribution.sql_text import sql
from attribution.stamping import PickRules, stamp_predictions
from attribution.tables import json_default

_log = get_logger("attribution.prediction_batch")


class BatchStatus(StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    ALREADY_DONE = "already_done"


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str | None
    status: BatchStatus
    requested: int = 0
    written: int = 0
    rejected: int = 0
    card: ModelCard | None = None
    error: str | None = None


@dataclass(frozen=True)
class PredictionSettings:
    min_edge: float = 1.0
    over_probability_threshold: float = 0.524
    inputs_bucket: str = "models"
    inputs_prefix: str = "batches/"


def kept_input_name(prefix: str, batch_id: str, fmt: str) -> str:
    """Where a batch's input is kept: derived from its batch_id alone."""
    return f"{prefix}{batch_id}/input.{fmt}"


class BatchPredictor:
    """The prediction-batch use case over injected ports."""

    def __init__(
        self,
        *,
        warehouse: Warehouse,
        registry: CardRegistry,
        active_models: ActiveModelCache,
        models: ModelCache,
        store_for: Callable[[str], ObjectStore],
        settings: PredictionSettings,
        claims: BatchClaims | None = None,
    ) -> None:
        self.claims = claims
        self.warehouse = warehouse
        self.registry = registry
        self.active_models = active_models
        self.models = models
        self.store_for = store_for
        self.settings = settings

    def handle_message(self, message: PubSubMessage) -> BatchOutcome:
        started_at = now_utc()
        clock = time.perf_counter()
        try:
            request = parse_batch_request(message.data)
        except PermanentError as exc:
            return self._refuse_message(message, exc, started_at)
        if self._already_logged(request.batch_id):
            _log.info("batch already processed", extra={"batch_id": request.batch_id})
            return BatchOutcome(request.batch_id, BatchStatus.ALREADY_DONE)
        claim = self.claims.claim(request.batch_id) if self.claims else None
        if claim is not None and self._already_logged(request.batch_id):
            return BatchOutcome(request.batch_id, BatchStatus.ALREADY_DONE)
        try:
            return self._run(request, message, started_at, clock)
        except PermanentError as exc:
            keep_dead_letter(
                self.warehouse,
                source="prediction_batch",
                event_id=message.message_id,
                error_code=exc.code,
                error=exc.message,
                payload=message.data,
            )
            self._log_batch(
                request,
                status=BatchStatus.FAILED,
                error=str(exc),
                card=None,
                counts=(0, 0, 0),
                started_at=started_at,
                clock=clock,
                message_id=message.message_id,
            )
            _log.error("batch failed", extra={"batch_id": request.batch_id, "error": str(exc)})
            return BatchOutcome(request.batch_id, BatchStatus.FAILED, error=str(exc))
        except Exception:
            if claim is not None and self.claims is not None:
                self.claims.release(claim)  # let the redelivery start at once
            raise

    def _run(
        self, request: BatchRequest, message: PubSubMessage, started_at: datetime, clock: float
    ) -> BatchOutcome:
        card = self.resolve_card(request)
        served = self.models.served(card)
        served.require_servable()
        table, input_uri = self._input_rows(request, text_columns(served.interface))
        checked, scores = score_rows(served, table, request.game_date)
        rows = stamp_predictions(
            request,
            card,
            checked,
            scores,
            rules=PickRules(self.settings.min_edge, self.settings.over_probability_threshold),
            created_at=started_at,
        )
        self.warehouse.insert_new_rows(
            "player_prop_predictions",
            rows,
            key=["prediction_id"],
            scope={"batch_id": request.batch_id, "game_date": request.game_date},
            unique_keys=True,  # check_rows rejects a repeated player, line and sportsbook
        )
        self._write_rejects(request, checked)
        status = (
            BatchStatus.FAILED
            if checked.good == 0
            else BatchStatus.PARTIAL
            if checked.rejects
            else BatchStatus.SUCCESS
        )
        error = None
        if checked.rejects:
            error = f"{len(checked.rejects)} of {checked.requested} rows rejected; first: " + (
                checked.rejects[0].reason
            )
        counts = (checked.requested, checked.good, len(checked.rejects))
        self._log_batch(
            request,
            status=status,
            error=error,
            card=card,
            counts=counts,
            started_at=started_at,
            clock=clock,
            message_id=message.message_id,
            input_uri=input_uri,
        )
        _log.info(
            "batch predicted",
            extra={
                "batch_id": request.batch_id,
                "system_id": request.system_id,
                "status": status.value,
                "rows_written": checked.good,
                "rows_rejected": len(checked.rejects),
                "model_file_name": card.model_file_name,
                "model_sha256": card.model_sha256,
            },
        )
        return BatchOutcome(
            request.batch_id, status, checked.requested, checked.good, len(checked.rejects), card
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

    def _input_rows(
        self, request: BatchRequest, text_columns: tuple[str, ...]
    ) -> tuple[pa.Table, str]:
        """The batch's rows, and where its input is kept (written there first if need be)."""
        inputs = self.store_for(self.settings.inputs_bucket)
        if request.rows is not None:
            name = kept_input_name(self.settings.inputs_prefix, request.batch_id, "jsonl")
            if inputs.stat(name) is None:
                lines = "".join(
                    json.dumps(row, default=json_default, sort_keys=True) + "\n"
                    for row in request.rows
                )
                inputs.write(name, lines.encode(), content_type="application/x-ndjson")
            return rows_to_table(request.rows), f"gs://{inputs.bucket}/{name}"
        assert request.rows_uri is not None
        bucket, name = split_gs_uri(request.rows_uri)
        data = self.store_for(bucket).read(name)
        fmt = format_of(name)
        kept = kept_input_name(self.settings.inputs_prefix, request.batch_id, fmt)
        if (bucket, name) != (inputs.bucket, kept) and inputs.stat(kept) is None:
            inputs.write(kept, data)
        table = read_rows(data, fmt, source=request.rows_uri, text_columns=text_columns)
        return table, f"gs://{inputs.bucket}/{kept}"

    def _already_logged(self, batch_id: str) -> bool:
        return bool(self.warehouse.query(sql("execution_log_for_batch"), {"batch_id": batch_id}))

    def _write_rejects(self, request: BatchRequest, checked: CheckedRows) -> None:
        if not checked.rejects:
            return
        rejected_at = now_utc()
        rows: list[Row] = [
            {
                "reject_id": f"{request.batch_id}:{reject.row_number}",
                "batch_id": request.batch_id,
                "system_id": request.system_id,
                "game_date": request.game_date,
                "row_number": reject.row_number,
                "player_lookup": reject.player_lookup,
                "reason": reject.reason,
                "raw_row": json.dumps(
                    _raw_row(request, reject), default=json_default, sort_keys=True
                ),
                "rejected_at": rejected_at,
            }
            for reject in checked.rejects
        ]
        self.warehouse.insert_new_rows(
            "prediction_rejects",
            rows,
            key=["reject_id"],
            scope={"batch_id": request.batch_id, "game_date": request.game_date},
        )

    def _log_batch(
        self,
        request: BatchRequest,
        *,
        status: BatchStatus,
        error: str | None,
        card: ModelCard | None,
        counts: tuple[int, int, int],
        started_at: datetime,
        clock: float,
        message_id: str | None,
        input_uri: str | None = None,
    ) -> None:
        finished_at = now_utc()
        attribution: dict[str, Any] = attribution_columns(card) if card else {}
        row: Row = {
            "batch_id": request.batch_id,
            "system_id": request.system_id,
            "game_date": request.game_date,
            "run_mode": request.run_mode.value,
            "status": status.value,
            "error": error,
            "rows_requested": counts[0],
            "rows_written": counts[1],
            "rows_rejected": counts[2],
            **attribution,
            "input_uri": input_uri or request.rows_uri,
            "model_pin": request.pin.reference if request.pin else None,
            "message_id": message_id,
            "started_at": started_at,
            "finished_at": finished_at,
            "duration_ms": int((time.perf_counter() - clock) * 1000),
            "logged_at": finished_at,
        }
        self.warehouse.insert_new_rows("prediction_execution_log", [row], key=["batch_id"])

    def _refuse_message(
        self, message: PubSubMessage, exc: PermanentError, started_at: datetime
    ) -> BatchOutcome:
        keep_dead_letter(
            self.warehouse,
            source="prediction_batch",
            event_id=message.message_id,
            error_code=exc.code,
            error=exc.message,
            payload=message.data,
        )
        batch_id = _batch_id_of(message.data)
        if batch_id and not self._already_logged(batch_id):
            row: Row = {
                "batch_id": batch_id,
                "status": BatchStatus.FAILED.value,
                "error": str(exc),
                "message_id": message.message_id,
                "started_at": started_at,
                "finished_at": now_utc(),
                "logged_at": now_utc(),
            }
            self.warehouse.insert_new_rows("prediction_execution_log", [row], key=["batch_id"])
        _log.error(
            "batch message refused",
            extra={"batch_id": batch_id, "error_code": exc.code, "error": exc.message},
        )
        return BatchOutcome(batch_id, BatchStatus.FAILED, error=str(exc))


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
