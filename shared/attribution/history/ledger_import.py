"""Import deployment history recorded before the ledger existed (deploy logs, handoffs).

Every entry is checked before anything is written: the model must be in the registry and
belong to the system, and no entry may contradict the ledger (another model recorded for
the same system at the same instant). Re-importing the same file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from attribution.batches.lineup import Role
from attribution.errors import PermanentError
from attribution.history.ledger import DeploymentLedger
from attribution.model_card.card import ModelCard, format_timestamp
from attribution.model_card.extraction import parse_timestamp


@dataclass(frozen=True)
class LedgerEntry:
    line: int
    system_id: str
    card: ModelCard
    active_from: datetime
    by: str | None
    note: str | None


@dataclass(frozen=True)
class LedgerImport:
    entries: int
    imported: int
    already_recorded: int


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_entries(table: pa.Table, ledger: DeploymentLedger) -> list[LedgerEntry]:
    """Validate every row; raise one PermanentError listing every problem found."""
    problems: list[str] = []
    entries: list[LedgerEntry] = []
    for line, row in enumerate(table.to_pylist(), start=1):
        system_id = _text(row.get("system_id"))
        reference = _text(row.get("model_sha256")) or _text(row.get("model_file_name"))
        raw_from = _text(row.get("active_from"))
        if not system_id or not reference or not raw_from:
            problems.append(
                f"entry {line}: needs system_id, model_sha256 or model_file_name, active_from"
            )
            continue
        try:
            active_from = parse_timestamp(raw_from, fact="active_from")
            card = ledger.registry.resolve(reference)
        except PermanentError as exc:
            problems.append(f"entry {line}: {exc.message}")
            continue
        if card.system_id is not None and card.system_id != system_id:
            problems.append(
                f"entry {line}: {card.model_file_name} belongs to {card.system_id}, not {system_id}"
            )
            continue
        entries.append(
            LedgerEntry(
                line, system_id, card, active_from, _text(row.get("by")), _text(row.get("note"))
            )
        )
    problems.extend(_contradictions(entries, ledger))
    if problems:
        raise PermanentError("ledger_conflict", "nothing imported: " + "; ".join(problems))
    return entries


def _contradictions(entries: list[LedgerEntry], ledger: DeploymentLedger) -> list[str]:
    problems: list[str] = []
    claimed: dict[tuple[str, datetime], tuple[str, str]] = {}
    for system_id in {e.system_id for e in entries}:
        for row in ledger.list(system_id):
            if row["role"] != Role.CHAMPION:
                continue  # a challenger may start at a promotion's instant
            key = (system_id, row["active_from"])
            claimed[key] = (row["model_sha256"], f"the ledger ({row['model_file_name']})")
    for entry in entries:
        key = (entry.system_id, entry.active_from)
        if key in claimed and claimed[key][0] != entry.card.model_sha256:
            problems.append(
                f"entry {entry.line}: {entry.card.model_file_name} from "
                f"{format_timestamp(entry.active_from)} contradicts {claimed[key][1]} "
                f"for {entry.system_id} at that instant"
            )
        claimed.setdefault(key, (entry.card.model_sha256, f"entry {entry.line}"))
    return problems


def import_ledger(table: pa.Table, ledger: DeploymentLedger) -> LedgerImport:
    entries = parse_entries(table, ledger)
    imported = 0
    for entry in entries:
        _, new = ledger.promote(
            entry.system_id,
            entry.card,
            at=entry.active_from,
            by=entry.by or "ledger import",
            note=entry.note,
        )
        imported += int(new)
    return LedgerImport(len(entries), imported, len(entries) - imported)
