"""When a ledger entry stopped being in force: ``entry_ends`` over hand-written rows."""

from __future__ import annotations

from datetime import UTC, datetime

from attribution.history.ledger import entry_ends
from attribution.ports import Row


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def entry(model: str, role: str, day: int, until: datetime | None = None, system: str = "s") -> Row:
    return {
        "system_id": system,
        "model_sha256": model,
        "role": role,
        "active_from": at(day),
        "active_until": until,
    }


def test_a_champion_ends_at_the_next_promotion_and_the_last_one_has_not_ended() -> None:
    rows = [entry("a", "champion", 1), entry("b", "champion", 5), entry("a", "champion", 9)]
    assert entry_ends(rows) == [at(5), at(9), None]


def test_a_challenge_ends_at_its_term_or_its_models_next_entry_whichever_is_first() -> None:
    rows = [
        entry("a", "champion", 1),
        entry("b", "challenger", 2, until=at(20)),  # retired on the 6th, before its term
        entry("c", "challenger", 2, until=at(4)),  # its term ends first
        entry("d", "challenger", 3),  # promoted on the 8th
        entry("b", "retired", 6),
        entry("d", "champion", 8),
    ]
    assert entry_ends(rows) == [at(8), at(6), at(4), at(8), None, None]


def test_a_champion_is_not_ended_by_a_challenge_nor_by_another_systems_promotion() -> None:
    rows = [
        entry("a", "champion", 1),
        entry("b", "challenger", 2),
        entry("x", "champion", 3, system="other"),
    ]
    assert entry_ends(rows) == [None, None, None]


def test_entries_at_the_same_instant_do_not_end_each_other() -> None:
    rows = [entry("a", "champion", 1), entry("b", "challenger", 1)]
    assert entry_ends(rows) == [None, None]
