"""Champion and challengers compared on the same games once their results are in.

For each challenger and the champion it ran beside: the picks both made on the same batch,
player, line and sportsbook that have a result (``compare_paired.sql``), each model's hit
rate there with the paired difference, its 95% interval and an exact McNemar test, the MAE
difference on the same predictions with a paired interval, and a plain verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from attribution.comparison.paired import (
    Decision,
    HitRateComparison,
    MaeComparison,
    PairedPicks,
    decide,
    paired_mae,
)
from attribution.ports import Row, Warehouse
from attribution.warehouse.sql_text import sql


@dataclass(frozen=True)
class Comparison:
    """One challenger against one champion, on the predictions both made."""

    system_id: str
    champion_file_name: str
    champion_sha256: str
    challenger_file_name: str
    challenger_sha256: str
    first_game: date | None
    last_game: date | None
    paired_predictions: int
    hit: HitRateComparison
    mae: MaeComparison
    decision: Decision

    def to_document(self) -> dict[str, Any]:
        return {
            "system_id": self.system_id,
            "champion": {
                "model_file_name": self.champion_file_name,
                "model_sha256": self.champion_sha256,
            },
            "challenger": {
                "model_file_name": self.challenger_file_name,
                "model_sha256": self.challenger_sha256,
            },
            "first_game": self.first_game,
            "last_game": self.last_game,
            "paired_predictions": self.paired_predictions,
            "hit_rate": self.hit.to_document(),
            "mae": self.mae.to_document(),
            "decision": self.decision.to_document(),
        }

    def text(self) -> str:
        """The verdict line, then the MAE line, for people."""
        mae = self.mae
        if mae.n and mae.difference is not None:
            interval = (
                f", 95% CI {mae.difference_low:+.2f} to {mae.difference_high:+.2f}"
                if mae.difference_low is not None and mae.difference_high is not None
                else ""
            )
            mae_line = (
                f"MAE {mae.challenger_mae:.2f} vs {mae.champion_mae:.2f} on {mae.n:,} paired "
                f"predictions ({mae.difference:+.2f} points{interval})"
            )
        else:
            mae_line = "MAE: no paired points predictions with results"
        return f"{self.decision.text}\n{mae_line}"


def compare_models(
    warehouse: Warehouse,
    *,
    system_id: str,
    from_date: date | None = None,
    to_date: date | None = None,
    min_edge: float = 0.0,
) -> list[Comparison]:
    """Every challenger of ``system_id`` against each champion it ran beside."""
    rows = warehouse.query(
        sql("compare_paired"),
        {
            "system_id": system_id,
            "from_date": from_date or date(1900, 1, 1),
            "to_date": to_date or date(9999, 12, 31),
            "min_edge": float(min_edge),
        },
    )
    pairs: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        pairs.setdefault((row["challenger_sha256"], row["champion_sha256"]), []).append(row)
    return [_comparison(system_id, paired) for paired in pairs.values()]


def _comparison(system_id: str, rows: Sequence[Row]) -> Comparison:
    first = rows[0]
    hit = PairedPicks.from_grades(
        [r["champion_correct"] for r in rows], [r["challenger_correct"] for r in rows]
    ).hit_rates()
    errors = [
        (r["champion_error"], r["challenger_error"])
        for r in rows
        if r["champion_error"] is not None and r["challenger_error"] is not None
    ]
    mae = paired_mae([e[0] for e in errors], [e[1] for e in errors])
    days = [r["game_date"] for r in rows]
    return Comparison(
        system_id=system_id,
        champion_file_name=first["champion_file_name"],
        champion_sha256=first["champion_sha256"],
        challenger_file_name=first["challenger_file_name"],
        challenger_sha256=first["challenger_sha256"],
        first_game=min(days),
        last_game=max(days),
        paired_predictions=len(rows),
        hit=hit,
        mae=mae,
        decision=decide(hit),
    )


def evidence_document(comparison: Comparison) -> str:
    """What a promotion keeps of the comparison that decided it (JSON)."""
    return json.dumps(comparison.to_document(), default=str, sort_keys=True)


def evidence_summary(evidence: str | None) -> str | None:
    """A ledger entry's evidence in a few words: picks, hit-rate difference, p-value."""
    if not evidence:
        return None
    document = json.loads(evidence)
    hit = document["hit_rate"]
    if not hit["n"]:
        return "no paired graded picks"
    summary = f"{hit['n']} picks, {hit['difference']:+.1f} pts, p={hit['mcnemar_p']:.3g}"
    mae = document["mae"]
    if mae["n"] and mae["difference"] is not None:
        summary += f", MAE {mae['difference']:+.2f}"
    return summary
