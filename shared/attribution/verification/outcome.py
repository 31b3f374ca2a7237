"""Statuses, check results and thresholds: the vocabulary of a verdict."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "PASS"
    PARTIAL = "PARTIAL"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"
    INFO = "INFO"


_RANK = {Status.INFO: 0, Status.PASS: 0, Status.PARTIAL: 1, Status.UNKNOWN: 2, Status.FAIL: 3}


def overall(statuses: Iterable[Status]) -> Status:
    """FAIL beats UNKNOWN beats PARTIAL beats PASS; INFO never changes a verdict."""
    worst = Status.PASS
    for status in statuses:
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst


@dataclass(frozen=True)
class Threshold:
    """When a count of problems out of a total becomes PARTIAL or FAIL.

    Each level has a relative (percent of total) and an absolute (count) trigger; either
    one reaching its value is enough. ``None`` disables a trigger.
    """

    partial_count: int | None = 1
    partial_pct: float | None = None
    fail_count: int | None = None
    fail_pct: float | None = None

    def judge(self, problems: int, total: int) -> Status:
        pct = 100.0 * problems / total if total else (100.0 if problems else 0.0)
        if problems > 0 and (
            (self.fail_count is not None and problems >= self.fail_count)
            or (self.fail_pct is not None and pct >= self.fail_pct)
        ):
            return Status.FAIL
        if problems > 0 and (
            (self.partial_count is not None and problems >= self.partial_count)
            or (self.partial_pct is not None and pct >= self.partial_pct)
        ):
            return Status.PARTIAL
        return Status.PASS


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    next_step: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "figures": self.figures,
            "details": self.details,
            "next_step": self.next_step,
        }


@dataclass(frozen=True)
class SystemVerdict:
    run_id: str
    game_date: date
    system_id: str
    verdict: Status
    previous_verdict: Status | None
    checks: list[CheckResult]
    started_at: datetime
    finished_at: datetime
    alerted: bool = False
    new: bool = True

    @property
    def failing(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status in (Status.FAIL, Status.PARTIAL, Status.UNKNOWN)]

    def summary(self) -> str:
        if not self.failing:
            return f"{self.system_id} {self.game_date}: every check passed"
        return f"{self.system_id} {self.game_date}: " + "; ".join(
            f"{c.name} {c.status.value}: {c.summary}" for c in self.failing
        )

    def figure(self, check: str, key: str) -> Any:
        for result in self.checks:
            if result.name == check:
                return result.figures.get(key)
        return None

    def to_document(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "game_date": self.game_date.isoformat(),
            "system_id": self.system_id,
            "verdict": self.verdict.value,
            "previous_verdict": self.previous_verdict.value if self.previous_verdict else None,
            "summary": self.summary(),
            "alerted": self.alerted,
            "checks": [c.to_document() for c in self.checks],
        }


def verification_document(verdicts: Sequence[SystemVerdict]) -> dict[str, Any]:
    """What a verification answers, the same on the command line (``--json``) and over HTTP:
    every verdict, in the order they were reached."""
    return {"verdicts": [v.to_document() for v in verdicts]}
