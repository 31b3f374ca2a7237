"""Score a batch's challengers beside its champion, on the rows the batch already read and
checked once.

Each challenger is called as its own card says (its own hash check, its own features): a
row only that challenger cannot use is its own reject, and a challenger that cannot run
at all (not servable, bytes that fail their hash, a feature the slate lacks) writes
nothing and says why. Neither ever changes the champion's rows or the batch's status.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from attribution.batches.lineup import Role
from attribution.batches.profile_counts import write_profile_counts
from attribution.batches.request import BatchRequest
from attribution.batches.rows import RowReject, SlateChecks, check_features
from attribution.batches.scoring import score
from attribution.batches.stamping import PickRules, stamp_predictions
from attribution.errors import PermanentError
from attribution.logs import get_logger
from attribution.model_card.card import ModelCard
from attribution.model_card.loading import ModelCache
from attribution.ports import Warehouse

_log = get_logger("attribution.batches.challengers")

# Writes a challenger's own rejects: (request, rejects, card).
WriteRejects = Callable[[BatchRequest, list[RowReject], ModelCard], None]


@dataclass(frozen=True)
class ChallengerRun:
    """What one challenger did in a batch, as the execution log lists it."""

    card: ModelCard
    written: int = 0
    rejected: int = 0
    error: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "model_file_name": self.card.model_file_name,
            "model_sha256": self.card.model_sha256,
            "model_card_id": self.card.card_id,
            "rows_written": self.written,
            "rows_rejected": self.rejected,
            "error": self.error,
        }


class ChallengerScoring:
    def __init__(
        self,
        *,
        warehouse: Warehouse,
        models: ModelCache,
        rules: PickRules,
        write_rejects: WriteRejects,
    ) -> None:
        self.warehouse = warehouse
        self.models = models
        self.rules = rules
        self.write_rejects = write_rejects

    def run(
        self,
        request: BatchRequest,
        slate: SlateChecks,
        challengers: Sequence[ModelCard],
        *,
        created_at: datetime,
        slate_ids: pa.Array,
    ) -> list[ChallengerRun]:
        """``slate_ids``: every slate row's prediction id, as the champion's rows have them."""
        return [self._one(request, slate, card, created_at, slate_ids) for card in challengers]

    def _one(
        self,
        request: BatchRequest,
        slate: SlateChecks,
        card: ModelCard,
        created_at: datetime,
        slate_ids: pa.Array,
    ) -> ChallengerRun:
        try:
            served = self.models.served(card)
            served.require_servable()
            checked = check_features(slate, served.interface)
            scores = score(served, checked.features)
        except PermanentError as exc:
            _log.warning(
                "challenger not scored",
                extra={
                    "batch_id": request.batch_id,
                    "model_file_name": card.model_file_name,
                    "error": exc.message,
                },
            )
            return ChallengerRun(card, error=f"{exc.message} ({exc.code})")
        # The slate's own rejects are the batch's; only what this model alone refused is its.
        own = [r for r in checked.rejects if not slate.bad[r.row_number]]
        self.write_rejects(request, own, card)
        if checked.good == 0:
            reason = own[0].reason if own else "the batch has no good rows"
            return ChallengerRun(card, rejected=len(own), error=f"no row it could use: {reason}")
        rows = stamp_predictions(
            request,
            card,
            checked,
            scores,
            rules=self.rules,
            created_at=created_at,
            role=Role.CHALLENGER,
            slate_ids=slate_ids,
        )
        self.warehouse.insert_new_rows(
            "challenger_predictions",
            rows,
            key=["prediction_id"],
            # Each challenger's rows are its own: its redelivery checks them alone.
            scope={
                "batch_id": request.batch_id,
                "game_date": request.game_date,
                "model_sha256": card.model_sha256,
            },
            unique_keys=True,
        )
        write_profile_counts(
            self.warehouse,
            request,
            card,
            role=Role.CHALLENGER,
            interface=served.interface,
            features=checked.features,
            predictions=scores.values,
            created_at=created_at,
        )
        return ChallengerRun(card, written=checked.good, rejected=len(own))
