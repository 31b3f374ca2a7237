"""Verify a system's day when its batches end, once per short window of completions.

Completions are grouped by the window (``VERIFY_COALESCE_SECONDS``) their batch finished in.
The first completion of a window claims it (one keyed row in ``verification_triggers``),
waits for the window to close, so that every batch finishing inside it has written its
log and rows, then verifies the system and day once; the others of that window are
acknowledged as coalesced. The verification's request id is the window's, so a redelivered
completion records nothing twice; a claimant that died before verifying is replaced by its
own redelivery. The Scheduler's verification stays the safety net for a run that never
announced itself.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from attribution.batches.completion import BatchCompletion
from attribution.clock import now_utc
from attribution.logs import get_logger
from attribution.ports import Warehouse
from attribution.verification.outcome import SystemVerdict
from attribution.verification.verifier import Verifier
from attribution.warehouse.sql_text import sql

_log = get_logger("attribution.verification.post_run")
TRIGGERS = "verification_triggers"


@dataclass(frozen=True)
class PostRunOutcome:
    trigger_id: str
    verdicts: list[SystemVerdict]

    @property
    def coalesced(self) -> bool:
        """Another completion of the same window verifies (or verified) the day."""
        return not self.verdicts


def window_start(finished_at: datetime, seconds: float) -> datetime:
    """The start of the window of ``seconds`` that ``finished_at`` falls in (UTC epoch
    aligned); ``finished_at`` itself when windows are off (0)."""
    if seconds <= 0:
        return finished_at
    epoch = finished_at.timestamp()
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


class PostRunVerification:
    def __init__(
        self,
        *,
        warehouse: Warehouse,
        verifier: Verifier,
        window_seconds: float,
        clock: Callable[[], datetime] = now_utc,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.warehouse = warehouse
        self.verifier = verifier
        self.window_seconds = window_seconds
        self.clock = clock
        self.sleep = sleep

    def handle(self, completion: BatchCompletion) -> PostRunOutcome:
        start = window_start(completion.finished_at, self.window_seconds)
        trigger_id = hashlib.sha256(
            f"{completion.system_id}|{completion.game_date}|{start.isoformat()}".encode()
        ).hexdigest()[:32]
        if not self._claim(trigger_id, completion, start):
            _log.info(
                "batch completion coalesced",
                extra={"batch_id": completion.batch_id, "trigger_id": trigger_id},
            )
            return PostRunOutcome(trigger_id, [])
        closes = start + timedelta(seconds=self.window_seconds)
        wait = (closes - self.clock()).total_seconds()
        if wait > 0:
            self.sleep(wait)
        verdicts = self.verifier.verify(
            completion.game_date, completion.system_id, request_id=f"post-run:{trigger_id}"
        )
        self.warehouse.update_rows(
            TRIGGERS,
            [{"trigger_id": trigger_id, "verified_at": self.clock()}],
            ["trigger_id"],
            only_where="verified_at IS NULL",
        )
        return PostRunOutcome(trigger_id, verdicts)

    def _claim(self, trigger_id: str, completion: BatchCompletion, start: datetime) -> bool:
        """True when this completion verifies the window: it claimed it now, or claimed
        it before (a redelivery) and the verification was not recorded."""
        row = {
            "trigger_id": trigger_id,
            "system_id": completion.system_id,
            "game_date": completion.game_date,
            "window_start": start,
            "batch_id": completion.batch_id,
            "claimed_at": self.clock(),
            "verified_at": None,
        }
        if self.warehouse.insert_new_rows(TRIGGERS, [row], ["trigger_id"]) == 1:
            return True
        claimed = self.warehouse.query(sql("verification_trigger"), {"trigger_id": trigger_id})
        return bool(
            claimed
            and claimed[0]["batch_id"] == completion.batch_id
            and claimed[0]["verified_at"] is None
        )
