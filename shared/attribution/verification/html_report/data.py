"""What the HTML report shows, read once: every figure the panels draw, as JSON-safe rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from attribution.batches.lineup import Role
from attribution.clock import now_utc
from attribution.comparison.compare import Comparison, compare_models
from attribution.history.ledger import entry_ends
from attribution.model_card.registry import CardRegistry
from attribution.ports import Row, Warehouse
from attribution.verification.input_drift import psi_per_day
from attribution.verification.report import model_report
from attribution.verification.settings import VerifierSettings
from attribution.verification.stats import wilson_interval
from attribution.warehouse.sql_text import sql

OPEN_START = date(1900, 1, 1)
OPEN_END = date(9999, 12, 31)
# The attribution methods the coverage panel stacks, in the order it stacks them.
METHODS = ("stamped", "replay_verified", "ledger_inferred", "missing")


@dataclass(frozen=True)
class Segment:
    """A stretch of time one model held one role for the system, from the ledger."""

    model_file_name: str
    role: str
    start: date
    end: date  # the first day it no longer held the role (or the day after the report's end)


@dataclass(frozen=True)
class ReportData:
    system_id: str
    first: date
    last: date
    min_edge: float
    red_day_share: float
    models: list[Row]  # `report models` for the range, as `--json` prints it
    daily: list[Row]  # per day, model and role: picks, hits, Wilson bounds, MAE, the card's
    days: list[Row]  # per day: predictions by attribution method, sides, rejects, RED day
    verdicts: list[Row]  # every verdict reached for a day of the range, in order
    deployments: list[Row]  # the system's ledger, every entry
    comparisons: list[Comparison] = field(default_factory=list)
    odds: list[Row] = field(default_factory=list)  # per model: picks at their own prices
    # per day, model and profiled quantity: its PSI against training, as `report drift` says
    drift: list[Row] = field(default_factory=list)
    drift_limits: dict[str, float] = field(default_factory=dict)  # the PSI of PARTIAL, FAIL

    @property
    def segments(self) -> list[Segment]:
        return ledger_segments(self.deployments, self.first, self.last)

    @property
    def promotions(self) -> list[Row]:
        """The ledger's promotions (champion entries) on a day of the range."""
        return [
            {"day": d["active_from"].date().isoformat(), "model_file_name": d["model_file_name"]}
            for d in self.deployments
            if d["role"] == "champion" and self.first <= d["active_from"].date() <= self.last
        ]

    @property
    def red_days(self) -> list[str]:
        return [d["game_date"] for d in self.days if d["red_day"]]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _rate(hits: int, picks: int) -> float | None:
    return round(100.0 * hits / picks, 1) if picks else None


def _with_wilson(row: Row) -> Row:
    """The day's hit rates beside their 95% Wilson intervals (None without a pick)."""
    out = {key: _iso(value) for key, value in row.items()}
    for prefix in ("", "high_edge_"):
        hits, picks = int(row[f"{prefix}hits"]), int(row[f"{prefix}picks"])
        low, high = wilson_interval(hits, picks)
        out[f"{prefix}hit_rate"] = _rate(hits, picks)
        out[f"{prefix}hit_rate_low"] = round(low, 1) if picks else None
        out[f"{prefix}hit_rate_high"] = round(high, 1) if picks else None
    out["mae"] = None if row["mae"] is None else round(float(row["mae"]), 2)
    out["prediction_type"] = "over_probability" if row["probability_rows"] else "points"
    return out


def _with_red_day(row: Row, red_day_share: float) -> Row:
    """A RED day is one whose picks took one side at ``red_day_share`` percent or more (the
    verifier's recommendation_skew check says the same)."""
    over, under = int(row["over_picks"]), int(row["under_picks"])
    sides = over + under
    out = {key: _iso(value) for key, value in row.items()}
    out["red_day"] = sides > 0 and 100.0 * max(over, under) / sides >= red_day_share
    return out


def _with_return(row: Row) -> Row:
    """A model's picks at their own prices: hit rate (with its Wilson interval) beside the
    mean break-even, and the flat stake's return on investment, all in percent."""
    hits, picks = int(row["hits"]), int(row["picks"])
    low, high = wilson_interval(hits, picks)
    return {
        "model_role": row["model_role"],
        "model_file_name": row["model_file_name"],
        "picks": picks,
        "hits": hits,
        "hit_rate": _rate(hits, picks),
        "hit_rate_low": round(low, 1),
        "hit_rate_high": round(high, 1),
        "break_even": round(100.0 * float(row["break_even"]), 1),
        "profit": round(float(row["profit"]), 2),
        "roi": round(100.0 * float(row["profit"]) / picks, 1),
    }


def _drift(warehouse: Warehouse, params: Row, settings: VerifierSettings) -> list[Row]:
    """Each day's ``report drift`` PSI and status, from one query over the range."""
    counts = warehouse.query_arrow(sql("profile_counts_per_day"), params)
    card_for = cache(CardRegistry(warehouse).get)  # once per model, not per model and day
    return [
        {
            "game_date": day.game_date.isoformat(),
            "model_role": day.model_role,
            "model_file_name": day.model_file_name,
            "feature": day.feature,
            "kind": day.kind,
            "rows": day.rows,
            "psi": day.psi,
            "status": day.status.value,
        }
        for day in psi_per_day(counts, card_for, settings)
    ]


def ledger_segments(deployments: Sequence[Row], first: date, last: date) -> list[Segment]:
    """Who held which role when, within ``first``..``last`` (``entry_ends`` says until when)."""
    beyond = last + timedelta(days=1)
    segments = []
    for entry, ended in zip(deployments, entry_ends(deployments), strict=True):
        if Role.of(entry["role"]) is Role.RETIRED:
            continue  # no longer scored
        start = max(entry["active_from"].date(), first)
        end = min(ended.date() if ended is not None else beyond, beyond)
        if start < end:
            segments.append(Segment(entry["model_file_name"], entry["role"], start, end))
    return segments


def read_report(
    warehouse: Warehouse,
    system_id: str,
    *,
    settings: VerifierSettings,
    from_date: date | None = None,
    to_date: date | None = None,
    min_edge: float = 5.0,
    not_before: date | None = None,
    pending_verdicts: Sequence[Row] = (),
) -> ReportData:
    """Everything the page shows for ``system_id`` from ``from_date`` to ``to_date`` (either
    end open: the system's first or last day, the first no earlier than ``not_before``), its
    RED days and input drift judged as the verifier's ``settings`` judge them.
    ``pending_verdicts``: verdicts reached but not recorded yet (the verifier's, as it
    publishes the page before it records the run)."""
    params = {
        "system_id": system_id,
        "from_date": from_date or not_before or OPEN_START,
        "to_date": to_date or OPEN_END,
        "min_edge": float(min_edge),
    }
    daily = [_with_wilson(r) for r in warehouse.query(sql("report_models_daily"), params)]
    days = [
        _with_red_day(r, settings.red_day_share)
        for r in warehouse.query(sql("report_days"), params)
    ]
    verdicts = [
        {key: _iso(value) for key, value in row.items()}
        for row in [*warehouse.query(sql("report_verdicts"), params), *pending_verdicts]
    ]
    seen = sorted(date.fromisoformat(r["game_date"]) for r in [*daily, *days, *verdicts])
    today = now_utc().date()
    first = from_date or (seen[0] if seen else min(to_date or today, today))
    last = to_date or (seen[-1] if seen else max(first, today))
    models = model_report(
        warehouse, system_id=system_id, from_date=first, to_date=last, min_edge=min_edge
    )
    return ReportData(
        system_id=system_id,
        first=first,
        last=last,
        min_edge=min_edge,
        red_day_share=settings.red_day_share,
        models=models,
        daily=daily,
        days=days,
        verdicts=verdicts,
        deployments=warehouse.query(sql("deployments_list"), {"system_id": system_id}),
        comparisons=compare_models(warehouse, system_id=system_id, from_date=first, to_date=last),
        odds=[_with_return(r) for r in warehouse.query(sql("report_odds"), params)],
        drift=_drift(warehouse, params, settings),
        drift_limits={"PARTIAL": settings.drift_psi_partial, "FAIL": settings.drift_psi_fail},
    )
