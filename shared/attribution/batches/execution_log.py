"""The execution log of prediction batches: one row per batch id, from start to finish.

A batch writes its row as ``running`` before it writes any prediction, and sets its final
status once everything is written, so a batch that dies mid-run stays visible as running.
A final row (``success``, ``partial``) makes its batch id done; a ``failed`` or ``running``
row does not: the batch may run again, for the same input (whose SHA-256 the row records).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from attribution.batches.request import BatchRequest
from attribution.clock import now_utc
from attribution.model_card.card import ModelCard, attribution_columns
from attribution.ports import Row, Warehouse
from attribution.warehouse.sql_text import sql

TABLE = "prediction_execution_log"


class BatchStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    ALREADY_DONE = "already_done"

    @property
    def final(self) -> bool:
        return self in (BatchStatus.SUCCESS, BatchStatus.PARTIAL)


@dataclass(frozen=True)
class LoggedBatch:
    """What the log says of a batch id."""

    status: BatchStatus
    input_sha256: str | None
    started_at: datetime | None

    def reused_by(self, input_sha256: str) -> bool:
        """Another input under the same id (a row from before inputs were hashed can't say)."""
        return self.input_sha256 is not None and self.input_sha256 != input_sha256


@dataclass(frozen=True)
class BatchCounts:
    requested: int | None = None
    written: int | None = None
    rejected: int | None = None


class BatchLog:
    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def get(self, batch_id: str) -> LoggedBatch | None:
        rows = self.warehouse.query(sql("execution_log_for_batch"), {"batch_id": batch_id})
        if not rows:
            return None
        row = rows[0]
        return LoggedBatch(BatchStatus(row["status"]), row["input_sha256"], row["started_at"])

    def record(self, row: Row) -> None:
        """Write the batch's row; over an earlier run's, unless that one is final."""
        if self.warehouse.insert_new_rows(TABLE, [row], key=["batch_id"]) == 1:
            return
        self.warehouse.update_rows(
            TABLE,
            [row],
            key=["batch_id"],
            only_where="status IN ('running', 'failed')",
        )


def log_row(
    *,
    batch_id: str,
    status: BatchStatus,
    started_at: datetime,
    duration_ms: int | None = None,
    request: BatchRequest | None = None,
    card: ModelCard | None = None,
    counts: BatchCounts = BatchCounts(),
    error: str | None = None,
    input_sha256: str | None = None,
    input_uri: str | None = None,
    message_id: str | None = None,
    challengers: str | None = None,
) -> Row:
    """One execution-log row; ``request`` when the batch's message could be parsed;
    ``challengers``, JSON: what each challenger did beside the champion."""
    at = now_utc()
    finished = status is not BatchStatus.RUNNING
    row: Row = {
        "batch_id": batch_id,
        "status": status.value,
        "error": error,
        "rows_requested": counts.requested,
        "rows_written": counts.written,
        "rows_rejected": counts.rejected,
        **(attribution_columns(card) if card else {}),
        "input_sha256": input_sha256,
        "input_uri": input_uri,
        "message_id": message_id,
        "started_at": started_at,
        "finished_at": at if finished else None,
        "duration_ms": duration_ms if finished else None,
        "logged_at": at,
        "challengers": challengers,
    }
    if request is not None:
        row |= {
            "system_id": request.system_id,
            "game_date": request.game_date,
            "run_mode": request.run_mode.value,
            "model_pin": request.pin.reference if request.pin else None,
            "input_uri": input_uri or request.rows_uri,
        }
    return row
