"""One delivery at a time per batch: a lease object created atomically in the bucket.

Pub/Sub may deliver the same batch twice at once. DuckDB's keyed insert is exact under its
lock, but BigQuery does not serialise insert-only MERGEs, so two racing writers could both
insert. Before writing, a delivery creates ``<prefix><batch_id>/claim.json`` only if it does
not exist (GCS ``ifGenerationMatch=0``). The loser gets a TransientError and is redelivered
later, when the batch's log row says it is done.

The lease is short and renewed while the batch runs (a heartbeat rewrites the claim every
third of it), so the claim of a holder that died (a killed process) expires in seconds and
the next delivery takes it over; a holder that fails releases its claim at once. The claim
records the batch's input hash beside its holder.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from attribution.clock import now_utc
from attribution.errors import TransientError
from attribution.logs import get_logger
from attribution.model_card.card import format_timestamp
from attribution.model_card.extraction import parse_timestamp
from attribution.ports import ObjectStore

_log = get_logger("attribution.batches.claims")


@dataclass
class Claim:
    """A held claim; its generation moves as the heartbeat renews it."""

    name: str
    generation: str
    holder: str
    input_sha256: str
    lost: threading.Event = field(default_factory=threading.Event)

    def still_held(self) -> None:
        """Raise if another delivery took the claim over (this holder stalled past the lease)."""
        if self.lost.is_set():
            raise TransientError(f"the claim {self.name} was taken over by another delivery")


class BatchClaims:
    def __init__(self, store: ObjectStore, prefix: str, *, lease: timedelta) -> None:
        self.store = store
        self.prefix = prefix
        self.lease = lease

    def _name(self, batch_id: str) -> str:
        return f"{self.prefix}{batch_id}/claim.json"

    def _body(self, holder: str, input_sha256: str, at: datetime) -> bytes:
        body = {"holder": holder, "input_sha256": input_sha256, "claimed_at": format_timestamp(at)}
        return json.dumps(body).encode()

    def claim(self, batch_id: str, input_sha256: str) -> Claim:
        """Take the batch, or raise TransientError while another delivery holds it."""
        name = self._name(batch_id)
        holder = uuid.uuid4().hex
        now = now_utc()
        body = self._body(holder, input_sha256, now)
        created = self.store.create_exclusive(name, body, content_type="application/json")
        if created is not None:
            return Claim(name, str(created.generation), holder, input_sha256)
        existing = self.store.stat(name)
        if existing is not None and self._expired(name, now):
            taken = self.store.replace_if_generation(name, body, str(existing.generation))
            if taken is not None:
                _log.warning("took over an expired batch claim", extra={"batch_id": batch_id})
                return Claim(name, str(taken.generation), holder, input_sha256)
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

    def renew(self, claim: Claim) -> bool:
        """Move the claim's lease on; False (and the claim marked lost) if it was taken."""
        body = self._body(claim.holder, claim.input_sha256, now_utc())
        renewed = self.store.replace_if_generation(claim.name, body, claim.generation)
        if renewed is None:
            claim.lost.set()
            return False
        claim.generation = str(renewed.generation)
        return True

    @contextmanager
    def held(self, claim: Claim) -> Iterator[Claim]:
        """Renew ``claim`` every third of the lease until the block ends."""
        stop = threading.Event()
        period = max(self.lease.total_seconds() / 3, 0.05)

        def beat() -> None:
            while not stop.wait(period):
                try:
                    if not self.renew(claim):
                        _log.error("batch claim lost", extra={"claim": claim.name})
                        return
                except Exception as exc:  # a store hiccup: try again next beat
                    _log.warning("claim renewal failed", extra={"error": str(exc)})

        heartbeat = threading.Thread(target=beat, name=f"claim {claim.name}", daemon=True)
        heartbeat.start()
        try:
            yield claim
        finally:
            stop.set()
            heartbeat.join()

    def release(self, claim: Claim) -> None:
        self.store.delete_if_generation(claim.name, claim.generation)
