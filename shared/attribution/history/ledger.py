"""The deployment ledger: which model is active for a system, from when, and who said so.

Append-only. "Which model was live at time T" is the latest promotion at or before T.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from attribution.clock import now_utc
from attribution.errors import PermanentError
from attribution.model_card.card import ModelCard, format_timestamp
from attribution.model_card.registry import CardRegistry
from attribution.ports import Row, Warehouse
from attribution.warehouse.sql_text import sql


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    system_id: str
    model_card_id: str
    model_sha256: str
    model_file_name: str
    active_from: datetime
    deployed_by: str | None
    note: str | None


def deployment_id_for(system_id: str, card_id: str, active_from: datetime) -> str:
    key = f"{system_id}|{card_id}|{format_timestamp(active_from)}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class DeploymentLedger:
    def __init__(self, warehouse: Warehouse, registry: CardRegistry) -> None:
        self.warehouse = warehouse
        self.registry = registry

    def promote(
        self,
        system_id: str,
        card: ModelCard,
        *,
        at: datetime | None = None,
        by: str | None = None,
        note: str | None = None,
    ) -> tuple[Deployment, bool]:
        """Record that ``card`` is active for ``system_id`` from ``at``; True when new."""
        if card.system_id is not None and card.system_id != system_id:
            raise PermanentError(
                "wrong_system",
                f"model {card.model_file_name} declares system_id {card.system_id}, "
                f"not {system_id}",
            )
        active_from = at or now_utc()
        deployment = Deployment(
            deployment_id=deployment_id_for(system_id, card.card_id, active_from),
            system_id=system_id,
            model_card_id=card.card_id,
            model_sha256=card.model_sha256,
            model_file_name=card.model_file_name,
            active_from=active_from,
            deployed_by=by,
            note=note,
        )
        row: Row = {
            **deployment.__dict__,
            "recorded_at": now_utc(),
        }
        new = self.warehouse.insert_new_rows("model_deployments", [row], ["deployment_id"]) == 1
        return deployment, new

    def active_at(self, system_id: str, at: datetime) -> Deployment | None:
        rows = self.warehouse.query(sql("deployment_active_at"), {"system_id": system_id, "at": at})
        if not rows:
            return None
        row = rows[0]
        return Deployment(
            deployment_id=row["deployment_id"],
            system_id=row["system_id"],
            model_card_id=row["model_card_id"],
            model_sha256=row["model_sha256"],
            model_file_name=row["model_file_name"],
            active_from=row["active_from"],
            deployed_by=row["deployed_by"],
            note=row["note"],
        )

    def list(self, system_id: str | None = None) -> builtins.list[Row]:
        return self.warehouse.query(sql("deployments_list"), {"system_id": system_id})

    def timeline(self, system_id: str) -> LedgerTimeline:
        entries = []
        for row in self.list(system_id):
            card = self.registry.get(row["model_card_id"])
            if card is not None:
                entries.append((row["active_from"], card))
        return LedgerTimeline(entries)


class LedgerTimeline:
    """One system's promotions in time order, with the cards they name."""

    def __init__(self, entries: builtins.list[tuple[datetime, ModelCard]]) -> None:
        self.entries = sorted(entries, key=lambda e: e[0])

    def active_at(self, at: datetime) -> ModelCard | None:
        active = None
        for active_from, card in self.entries:
            if active_from <= at:
                active = card
            else:
                break
        return active

    def candidates(self, at: datetime, window: timedelta) -> builtins.list[ModelCard]:
        """Every model active at some instant within ``window`` of ``at``."""
        found: dict[str, ModelCard] = {}
        start = self.active_at(at - window)
        if start is not None:
            found[start.model_sha256] = start
        for active_from, card in self.entries:
            if at - window < active_from <= at + window:
                found.setdefault(card.model_sha256, card)
        return list(found.values())


class ActiveModelCache:
    """Caches "which card is active for a system" for a few seconds per instance.

    Short enough that a promotion takes effect without a redeploy; long enough that a
    burst of batches does not query the ledger each time.
    """

    def __init__(
        self,
        ledger: DeploymentLedger,
        *,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ledger = ledger
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._entries: dict[str, tuple[float, ModelCard | None]] = {}
        self._lock = threading.Lock()

    def active_card(self, system_id: str) -> ModelCard | None:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(system_id)
            if entry is not None and now - entry[0] < self.ttl_seconds:
                return entry[1]
        deployment = self.ledger.active_at(system_id, now_utc())
        card = None
        if deployment is not None:
            card = self.ledger.registry.get(deployment.model_card_id)
            if card is None:
                raise PermanentError(
                    "unknown_model",
                    f"the ledger names card {deployment.model_card_id} for {system_id}, "
                    "but the registry has no such card",
                )
        with self._lock:
            self._entries[system_id] = (now, card)
        return card

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
