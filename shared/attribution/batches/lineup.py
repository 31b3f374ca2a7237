"""The models that run for a system: one champion, whose rows are the system's predictions,
and any number of challengers scored beside it on the same rows (the ledger, in
``history.ledger``, says which and from when)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from attribution.model_card.card import ModelCard


class Role(StrEnum):
    CHAMPION = "champion"
    CHALLENGER = "challenger"
    RETIRED = "retired"

    @classmethod
    def of(cls, raw: str | None) -> Role:
        """An entry's role; entries recorded before roles existed are promotions."""
        return cls(raw) if raw else cls.CHAMPION


@dataclass(frozen=True)
class Lineup:
    """The models that run for a system at an instant: its champion and its challengers."""

    champion: ModelCard | None
    challengers: tuple[ModelCard, ...] = field(default=())

    def role_of(self, model_sha256: str) -> Role | None:
        if self.champion is not None and self.champion.model_sha256 == model_sha256:
            return Role.CHAMPION
        if any(c.model_sha256 == model_sha256 for c in self.challengers):
            return Role.CHALLENGER
        return None
