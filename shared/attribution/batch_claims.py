"""One delivery at a time per batch: a lease object created atomically in the bucket.

Pub/Sub may deliver the same batch twice at once. DuckDB's keyed insert is exact under its
lock, but BigQuery does not serialise insert-only MERGEs, so two racing writers could both
insert. Before writing, a delivery creates ``<prefix><batch_id>/claim.json`` only if it does
not exist (GCS ``ifGenerationMatch=0``). The loser gets a TransientError and is redelivered
later, when the batch's log row says it is done. A claim whose holder died is taken over
once its lease has expired; a holder that fails releases its claim at once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from attribution.card import format_timestamp, now_utc
from attribution.errors import TransientError
from attribution.extraction import parse_timestamp
from attribution.logs import get_logger
from attribution.ports import ObjectStore

_log = get_logger("attribution.batch_claims")


@dataclass(frozen=True)
class Claim:
    name: str
    generation: str
    holder: str


class BatchClaims:
    def __init__(self, store: ObjectStore, prefix: str, *, lease: timedelta) -> None:
        self.store = store
        self.prefix = prefix
        self.lease = lease

    def _name(self, batch_id: str) -> str:
        return f"{self.prefix}{batch_id}/claim.json"

    def _body(self, holder: str, at: datetime) -> bytes:
        return json.dumps({"holder": holder, "claimed_at": format_timestamp(at)}).encode()

    def claim(self, batch_id: str) -> Claim:
        """Take the batch, or raise TransientError while another delivery holds it."""
        name = self._name(batch_id)
        holder = uuid.uuid4().hex
        now = now_utc()
        created = self.store.create_exclusive(
            name, self._body(holder, now), content_type="application/json"
        )
        if created is not None:
            return Claim(name, str(created.generation), holder)
        existing = self.store.stat(name)
        if existing is not None and self._expired(name, now):
            taken = self.store.replace_if_generation(
                name, self._body(holder, now), str(existing.generation)
            )
            if taken is not None:
                _log.warning("took over an expired batch claim", extra={"batch_id": batch_id})
                return Claim(name, str(taken.generation), holder)
        raise TransientError(
            f"batch {batch_id} is being processed by another delivery; it will be retried"
        )

    def _expired(self, name: str, now: datetime) -> bool:
        try:
            body = json.loads(self.store.read(name))
            claimed_at = parse_timestamp(str(body["claimed_at"]), fact="claimed_at")
        except Exception:  # an unreadable claim is treated as abandoned
            return True
        return now - claimed_at > self.lease

    def release(self, claim: Claim) -> None:
        self.store.delete_if_generation(claim.name, claim.generation)
