"""A verdict turned into an alert people can act on."""

from __future__ import annotations

from attribution.ports import Alert, AlertImage, AlertSection
from attribution.verification.outcome import Status, SystemVerdict

_SEVERITY = {
    Status.PASS: "info",
    Status.PARTIAL: "warning",
    Status.UNKNOWN: "warning",
    Status.FAIL: "error",
}


def _percent(value: float | None) -> str:
    """A figure for people: ``n/a`` when there was nothing to measure, never ``None%``."""
    return "n/a" if value is None else f"{value}%"


DAY_CHART_ID = "day-chart"


def alert_for(
    verdict: SystemVerdict, *, report_link: str | None = None, chart_png: bytes | None = None
) -> Alert:
    """The verdict as an alert; ``report_link``: the system's HTML report, ``chart_png``:
    its day chart (an email shows it inline)."""
    previous = verdict.previous_verdict.value if verdict.previous_verdict else "first run"
    change = (
        f"{previous} -> {verdict.verdict.value}"
        if verdict.previous_verdict is not verdict.verdict
        else f"still {verdict.verdict.value}"
    )
    sections = []
    for check in verdict.checks:
        lines = list(check.details)
        if check.next_step and check.status is not Status.PASS:
            lines.append(f"Next: {check.next_step}")
        sections.append(
            AlertSection(
                title=f"{check.name}: {check.summary}", status=check.status.value, lines=lines
            )
        )
    return Alert(
        title=f"Attribution {verdict.verdict.value}: {verdict.system_id} {verdict.game_date}",
        severity=_SEVERITY.get(verdict.verdict, "info"),
        text=f"{change}. {verdict.summary()}",
        fields={
            "system_id": verdict.system_id,
            "game_date": verdict.game_date.isoformat(),
            "verdict": verdict.verdict.value,
            "previous": previous,
            "coverage": _percent(verdict.figure("coverage", "coverage_pct")),
            "run_id": verdict.run_id,
        },
        sections=sections,
        link=report_link,
        images=[
            AlertImage(
                DAY_CHART_ID,
                chart_png,
                f"{verdict.system_id} through {verdict.game_date}: attribution coverage, "
                "verdicts and hit rates per day",
            )
        ]
        if chart_png
        else [],
    )
