"""The deployment ledger: which models run for a system, in which role, from when, and who
said so.

Append-only. A system has one champion (the model its batches write to
``player_prop_predictions``) and any number of challengers (scored beside it on the same
rows, written to ``challenger_predictions``). Each entry gives one model a role from an
instant: ``champion`` (``promote``; entries from before roles have none and are champions),
``challenger`` (``challenge``, optionally ``until`` an instant) or ``retired`` (``retire``: a
challenger no longer scored). "Which models ran for S at T, in which role" is the latest
champion entry at or before T, and every model whose own latest entry by then makes it a
challenger still in its term.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from attribution.batches.lineup import Lineup, Role
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
    role: Role = Role.CHAMPION
    active_until: datetime | None = None
    evidence: str | None = None


def deployment_id_for(
    system_id: str, card_id: str, active_from: datetime, role: Role = Role.CHAMPION
) -> str:
    key = f"{system_id}|{card_id}|{format_timestamp(active_from)}"
    if role is not Role.CHAMPION:  # a promotion's id is the one it had before roles
        key += f"|{role.value}"
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
        evidence: str | None = None,
    ) -> tuple[Deployment, bool]:
        """Record that ``card`` is the champion for ``system_id`` from ``at``; True when new.
        A challenger promoted stops being a challenger; ``evidence`` is the comparison that
        decided it (JSON)."""
        return self._record(system_id, card, Role.CHAMPION, at, by=by, note=note, evidence=evidence)

    def challenge(
        self,
        system_id: str,
        card: ModelCard,
        *,
        at: datetime | None = None,
        until: datetime | None = None,
        by: str | None = None,
        note: str | None = None,
    ) -> tuple[Deployment, bool]:
        """Record that ``card`` runs as a challenger for ``system_id`` from ``at`` (until
        ``until``, or until retired or promoted); True when new."""
        start = at or now_utc()
        if until is not None and until <= start:
            raise PermanentError(
                "bad_argument",
                f"--until {format_timestamp(until)} is not after the challenge starts "
                f"({format_timestamp(start)})",
            )
        lineup = self.lineup_at(system_id, start)
        if lineup.role_of(card.model_sha256) is Role.CHAMPION:
            raise PermanentError(
                "already_champion",
                f"{card.model_file_name} is the champion of {system_id}: it cannot also "
                "challenge it (promote another model first)",
            )
        return self._record(system_id, card, Role.CHALLENGER, start, by=by, note=note, until=until)

    def retire(
        self,
        system_id: str,
        card: ModelCard,
        *,
        at: datetime | None = None,
        by: str | None = None,
        note: str | None = None,
    ) -> tuple[Deployment, bool]:
        """Record that the challenger ``card`` is no longer scored for ``system_id``."""
        start = at or now_utc()
        role = self.lineup_at(system_id, start).role_of(card.model_sha256)
        if role is not Role.CHALLENGER:
            what = "the champion" if role is Role.CHAMPION else "not a challenger"
            raise PermanentError(
                "not_a_challenger",
                f"{card.model_file_name} is {what} of {system_id}"
                + (": promote another model to replace it" if role is Role.CHAMPION else ""),
            )
        return self._record(system_id, card, Role.RETIRED, start, by=by, note=note)

    def _record(
        self,
        system_id: str,
        card: ModelCard,
        role: Role,
        at: datetime | None,
        *,
        by: str | None,
        note: str | None,
        until: datetime | None = None,
        evidence: str | None = None,
    ) -> tuple[Deployment, bool]:
        if card.system_id is not None and card.system_id != system_id:
            raise PermanentError(
                "wrong_system",
                f"model {card.model_file_name} declares system_id {card.system_id}, "
                f"not {system_id}",
            )
        active_from = at or now_utc()
        deployment = Deployment(
            deployment_id=deployment_id_for(system_id, card.card_id, active_from, role),
            system_id=system_id,
            model_card_id=card.card_id,
            model_sha256=card.model_sha256,
            model_file_name=card.model_file_name,
            active_from=active_from,
            deployed_by=by,
            note=note,
            role=role,
            active_until=until,
            evidence=evidence,
        )
        row: Row = {**deployment.__dict__, "role": role.value, "recorded_at": now_utc()}
        new = self.warehouse.insert_new_rows("model_deployments", [row], ["deployment_id"]) == 1
        return deployment, new

    def active_at(self, system_id: str, at: datetime) -> Deployment | None:
        """The champion's entry in force at ``at``."""
        rows = self.warehouse.query(sql("deployment_active_at"), {"system_id": system_id, "at": at})
        return _deployment(rows[0]) if rows else None

    def lineup_at(self, system_id: str, at: datetime) -> Lineup:
        return self.timeline(system_id).lineup_at(at)

    def list(self, system_id: str | None = None) -> builtins.list[Row]:
        return self.warehouse.query(sql("deployments_list"), {"system_id": system_id})

    def timeline(self, system_id: str) -> LedgerTimeline:
        entries = []
        for row in self.list(system_id):
            card = self.registry.get(row["model_card_id"])
            if card is not None:
                entries.append(
                    LedgerEntry(row["active_from"], Role.of(row["role"]), row["active_until"], card)
                )
        return LedgerTimeline(entries)


def entry_ends(rows: Sequence[Row]) -> builtins.list[datetime | None]:
    """When each ledger row stopped being in force (None while it is, and for a retirement,
    which is an end itself): a promotion at its system's next promotion, a challenge at its
    term's end or its model's next entry for the system, whichever comes first."""
    ends: builtins.list[datetime | None] = []
    for row in rows:
        later = [
            r
            for r in rows
            if r["system_id"] == row["system_id"] and r["active_from"] > row["active_from"]
        ]
        role = Role.of(row["role"])
        if role is Role.CHAMPION:
            stops = [r["active_from"] for r in later if Role.of(r["role"]) is Role.CHAMPION]
        elif role is Role.CHALLENGER:
            stops = [r["active_from"] for r in later if r["model_sha256"] == row["model_sha256"]]
            if row["active_until"] is not None:
                stops.append(row["active_until"])
        else:
            stops = []
        ends.append(min(stops, default=None))
    return ends


def _deployment(row: Row) -> Deployment:
    return Deployment(
        deployment_id=row["deployment_id"],
        system_id=row["system_id"],
        model_card_id=row["model_card_id"],
        model_sha256=row["model_sha256"],
        model_file_name=row["model_file_name"],
        active_from=row["active_from"],
        deployed_by=row["deployed_by"],
        note=row["note"],
        role=Role.of(row.get("role")),
        active_until=row.get("active_until"),
        evidence=row.get("evidence"),
    )


@dataclass(frozen=True)
class LedgerEntry:
    active_from: datetime
    role: Role
    active_until: datetime | None
    card: ModelCard


class LedgerTimeline:
    """One system's ledger entries in time order, with the cards they name."""

    def __init__(self, entries: builtins.list[LedgerEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: e.active_from)
        self.promotions = [e for e in self.entries if e.role is Role.CHAMPION]

    def active_at(self, at: datetime) -> ModelCard | None:
        """The champion at ``at``."""
        active = None
        for entry in self.promotions:
            if entry.active_from <= at:
                active = entry.card
            else:
                break
        return active

    def lineup_at(self, at: datetime) -> Lineup:
        champion = self.active_at(at)
        latest: dict[str, LedgerEntry] = {}
        for entry in self.entries:
            if entry.active_from > at:
                break
            latest[entry.card.model_sha256] = entry
        challengers = tuple(
            e.card
            for e in latest.values()
            if e.role is Role.CHALLENGER
            and (e.active_until is None or e.active_until > at)
            and (champion is None or e.card.model_sha256 != champion.model_sha256)
        )
        return Lineup(champion, challengers)

    def candidates(self, at: datetime, window: timedelta) -> builtins.list[ModelCard]:
        """Every model that was champion at some instant within ``window`` of ``at``."""
        found: dict[str, ModelCard] = {}
        start = self.active_at(at - window)
        if start is not None:
            found[start.model_sha256] = start
        for entry in self.promotions:
            if at - window < entry.active_from <= at + window:
                found.setdefault(entry.card.model_sha256, entry.card)
        return list(found.values())

    def challenger_candidates(self, at: datetime, window: timedelta) -> set[str]:
        """The sha256 of every model that was a challenger at some instant within ``window``
        of ``at`` (at its edges, or where an entry changed the lineup inside it)."""
        instants = [at - window, at + window]
        instants += [
            e.active_from for e in self.entries if at - window < e.active_from <= at + window
        ]
        instants += [
            e.active_until - timedelta(microseconds=1)
            for e in self.entries
            if e.active_until is not None and at - window < e.active_until <= at + window
        ]
        return {c.model_sha256 for t in instants for c in self.lineup_at(t).challengers}


class ActiveModelCache:
    """Caches "which models run for a system now" for a few seconds per instance.

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
        self._entries: dict[str, tuple[float, Lineup]] = {}
        self._lock = threading.Lock()

    def active_card(self, system_id: str) -> ModelCard | None:
        return self.lineup(system_id).champion

    def active_challengers(self, system_id: str) -> tuple[ModelCard, ...]:
        return self.lineup(system_id).challengers

    def lineup(self, system_id: str) -> Lineup:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(system_id)
            if entry is not None and now - entry[0] < self.ttl_seconds:
                return entry[1]
        at = now_utc()
        deployment = self.ledger.active_at(system_id, at)
        lineup = self.ledger.lineup_at(system_id, at)
        champion = lineup.champion
        if deployment is not None and (
            champion is None or champion.card_id != deployment.model_card_id
        ):
            raise PermanentError(
                "unknown_model",
                f"the ledger names card {deployment.model_card_id} for {system_id}, "
                "but the registry has no such card",
            )
        with self._lock:
            self._entries[system_id] = (now, lineup)
        return lineup

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
