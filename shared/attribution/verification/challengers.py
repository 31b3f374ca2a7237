"""The challengers as context for a verdict, and the alert when one becomes decided.

The ``challengers`` check never changes a verdict (status INFO): it reports each challenger
against the champion on the games both predicted up to the verified day. When a
challenger's comparison becomes significant (better or worse than the champion) where the
system's previous verification did not say so, one alert says it; the next verifications,
saying the same, say nothing more.
"""

from __future__ import annotations

import json
from typing import Any

from attribution.comparison.compare import Comparison, compare_models
from attribution.comparison.paired import Verdict
from attribution.ports import Alert, AlertSection, Row
from attribution.verification.checks import CheckContext
from attribution.verification.outcome import CheckResult, Status

CHECK = "challengers"


def challengers(ctx: CheckContext) -> list[CheckResult]:
    """The check, or none for a system whose challengers (if any) have no graded rows yet."""
    comparisons = compare_models(ctx.warehouse, system_id=ctx.system_id, to_date=ctx.game_date)
    if not comparisons:
        return []
    decided = [c for c in comparisons if c.decision.verdict is not Verdict.NOT_YET_DISTINGUISHABLE]
    check = CheckResult(
        CHECK,
        Status.INFO,
        f"{len(comparisons)} challenger comparison(s) on the games to date, {len(decided)} decided",
        {"decisions": {_key(c): c.decision.verdict.value for c in comparisons}},
        [
            f"{c.challenger_file_name} vs {c.champion_file_name}: {c.decision.text}"
            for c in comparisons
        ],
        next_step="`attribution report compare --system-id S` gives the figures; "
        "`attribution promote S CHALLENGER` records them with the promotion"
        if decided
        else None,
    )
    return [check]


def _key(comparison: Comparison) -> str:
    return f"{comparison.challenger_sha256}:{comparison.champion_sha256}"


def newly_decided(result: CheckResult, previous_runs: list[Row]) -> list[str]:
    """The details of the comparisons decided now that the system's latest earlier
    verification had not decided so."""
    before = _decisions(previous_runs[0]) if previous_runs else {}
    now: dict[str, str] = result.figures.get("decisions", {})
    lines = dict(zip(now, result.details, strict=True))
    return [
        lines[key]
        for key, decision in now.items()
        if decision != Verdict.NOT_YET_DISTINGUISHABLE and before.get(key) != decision
    ]


def _decisions(run: Row) -> dict[str, str]:
    checks: list[dict[str, Any]] = json.loads(run.get("checks_json") or "[]")
    for check in checks:
        if check.get("name") == CHECK:
            decisions: dict[str, str] = check.get("figures", {}).get("decisions", {})
            return decisions
    return {}


def decided_alert(system_id: str, game_date: str, lines: list[str]) -> Alert:
    return Alert(
        title=f"Challenger decided: {system_id}",
        severity="info",
        text=f"{system_id}, games to {game_date}: " + "; ".join(lines),
        fields={"system_id": system_id, "game_date": game_date},
        sections=[AlertSection(title=CHECK, status=Status.INFO.value, lines=lines)],
    )
