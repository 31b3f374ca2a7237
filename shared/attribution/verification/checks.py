"""Each check answers one question about one system's predictions on one game date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from attribution.model_card.interface import PredictionType
from attribution.model_card.registry import CardRegistry
from attribution.objects import split_gs_uri
from attribution.ports import ObjectStore, Row, Warehouse
from attribution.verification.outcome import CheckResult, Status
from attribution.verification.settings import VerifierSettings
from attribution.verification.stats import wilson_interval
from attribution.warehouse.sql_text import sql


@dataclass(frozen=True)
class CheckContext:
    warehouse: Warehouse
    registry: CardRegistry
    store_for: Callable[[str], ObjectStore]
    settings: VerifierSettings
    game_date: date
    system_id: str

    def query(self, name: str, **extra: Any) -> list[Row]:
        params = {"game_date": self.game_date, "system_id": self.system_id, **extra}
        return self.warehouse.query(sql(name), params)

    def judge(self, threshold: str, problems: int, total: int) -> Status:
        return self.settings.thresholds[threshold].judge(problems, total)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def coverage(ctx: CheckContext) -> CheckResult:
    rows = ctx.query("verify_coverage")
    row = rows[0] if rows else {"predictions": 0, "attributed": 0}
    total, attributed = int(row["predictions"]), int(row["attributed"])
    missing = total - attributed
    figures: dict[str, Any] = {
        "predictions": total,
        "attributed": attributed,
        "missing": missing,
        "coverage_pct": _pct(attributed, total) if total else None,
        "by_method": {
            m: int(row.get(m) or 0)
            for m in ("stamped", "replay_verified", "ledger_inferred", "replay_refuted")
        },
    }
    if total == 0:
        return CheckResult(
            "coverage",
            Status.UNKNOWN,
            f"no predictions for {ctx.system_id} on {ctx.game_date}",
            figures,
            next_step="Did the run happen? Check the scheduler, `attribution predictions "
            f"--game-date {ctx.game_date}` and prediction_execution_log for failed batches.",
        )
    status = ctx.judge("attribution", missing, total)
    details: list[str] = []
    if missing:
        sample = ctx.query("verify_missing_attribution", sample_size=ctx.settings.sample_size)
        details = [f"prediction {s['prediction_id']} (batch {s['batch_id']})" for s in sample]
        if missing > len(sample):
            details.append(f"+{missing - len(sample)} more")
    methods = ", ".join(f"{k} {v}" for k, v in figures["by_method"].items() if v)
    return CheckResult(
        "coverage",
        status,
        f"{attributed}/{total} predictions fully attributed ({figures['coverage_pct']}%)"
        + (f"; {methods}" if methods else ""),
        figures,
        details,
        next_step=None
        if status is Status.PASS
        else "Rows without a card were written by something other than prediction_batch, or "
        "before stamping: find the batches above in prediction_execution_log, then run "
        "`attribution backfill --replay` for old rows or redeploy the writer.",
    )


def model_distribution(ctx: CheckContext) -> CheckResult:
    rows = ctx.query("verify_model_distribution")
    details = [
        f"{r['model_file_name']} {str(r['model_sha256'])[:12]}: {r['predictions']} rows, "
        f"training window {r['training_start_date']}..{r['training_end_date']}"
        if r["model_sha256"]
        else f"no model stamped: {r['predictions']} rows"
        for r in rows
    ]
    models = [r for r in rows if r["model_sha256"]]
    return CheckResult(
        "model_distribution",
        Status.INFO,
        f"{len(models)} model(s) produced predictions",
        {"models": rows},
        details,
    )


def completeness(ctx: CheckContext) -> list[CheckResult]:
    batches = ctx.query("verify_completeness")
    expected = missing = rejected = requested = 0
    failed: list[str] = []
    unfinished: list[str] = []
    never_logged: list[str] = []
    short: list[str] = []
    history: list[str] = []
    for b in batches:
        if b["never_logged"]:
            if b["rows_backfilled"] == b["rows_present"]:
                history.append(
                    f"batch {b['batch_id']}: {b['rows_present']} rows written before the "
                    "execution log existed, attributed by backfill"
                )
            else:
                never_logged.append(f"batch {b['batch_id']}: {b['rows_present']} rows, no log row")
            continue
        if b["status"] == "failed":
            failed.append(f"batch {b['batch_id']} failed: {b['error'] or 'no reason logged'}")
        elif b["status"] == "running":
            unfinished.append(
                f"batch {b['batch_id']} started and has not finished: still running, or its "
                f"process died ({b['rows_present']} of {b['rows_requested']} rows written)"
            )
        want = int(b["rows_requested"] or 0) - int(b["rows_rejected"] or 0)
        requested += int(b["rows_requested"] or 0)
        rejected += int(b["rows_rejected"] or 0)
        expected += max(want, 0)
        gap = max(want - int(b["rows_present"]), 0)
        if gap:
            missing += gap
            short.append(f"batch {b['batch_id']}: {b['rows_present']} of {want} rows present")
    rows_status = ctx.judge("completeness", missing + len(never_logged), max(expected, 1))
    failed_status = ctx.judge("failed_batches", len(failed), max(len(batches), 1))
    if unfinished:  # whatever the thresholds say: its rows may be missing without a trace
        rows_status = failed_status = Status.FAIL
    rejected_status = ctx.judge("rejected_rows", rejected, max(requested, 1))
    figures = {
        "batches": len(batches),
        "rows_expected": expected,
        "rows_missing": missing,
        "rows_requested": requested,
        "rows_rejected": rejected,
        "failed_batches": len(failed),
        "unfinished_batches": len(unfinished),
        "never_logged_batches": len(never_logged),
        "backfilled_batches": len(history),
    }
    return [
        CheckResult(
            "completeness",
            rows_status,
            f"{expected - missing}/{expected} expected rows present in {len(batches)} batch(es)"
            + (f"; {len(never_logged)} batch(es) never logged" if never_logged else ""),
            figures,
            short + never_logged + history,
            next_step=None
            if rows_status is Status.PASS
            else "Rows are missing or unlogged: compare prediction_execution_log with "
            "player_prop_predictions for these batches; republish the batch (same batch_id "
            "is safe: writes are insert-once).",
        ),
        CheckResult(
            "failed_batches",
            failed_status,
            f"{len(failed)} failed batch(es)"
            + (f", {len(unfinished)} started and not finished" if unfinished else ""),
            {"failed_batches": len(failed), "unfinished_batches": len(unfinished)},
            unfinished + failed,
            next_step=None
            if failed_status is Status.PASS
            else "Read the error of each failed batch; fix the cause (promote a model, fix the "
            "input) and publish the same batch again (same batch_id and rows: a failed or "
            "unfinished batch runs again, and completes exactly once). dead_letters keeps "
            "the message.",
        ),
        CheckResult(
            "rejected_rows",
            rejected_status,
            f"{rejected}/{requested} requested rows rejected ({_pct(rejected, requested)}%)",
            {"rows_rejected": rejected, "rows_requested": requested},
            next_step=None
            if rejected_status is Status.PASS
            else "Look at prediction_rejects for the reasons; the upstream feature job is "
            "sending bad rows.",
        ),
    ]


def registry_consistency(ctx: CheckContext) -> list[CheckResult]:
    models = [r for r in ctx.query("verify_model_distribution") if r["model_sha256"]]
    problems: list[str] = []
    for model in models:
        card = ctx.registry.get(model["model_card_id"]) if model["model_card_id"] else None
        if card is None:
            problems.append(f"{model['model_file_name']}: no card {model['model_card_id']}")
            continue
        bucket, name = split_gs_uri(card.model_uri)
        stored = ctx.store_for(bucket).stat(name)
        if stored is None:
            problems.append(f"{card.model_file_name}: {card.model_uri} is gone from the bucket")
        elif stored.generation != card.model_generation or stored.md5_hex != card.model_md5:
            problems.append(
                f"{card.model_file_name}: {card.model_uri} was replaced (generation "
                f"{stored.generation} vs card {card.model_generation})"
            )
    orphans: list[str] = []
    for row in ctx.registry.list(ctx.system_id):
        bucket, name = split_gs_uri(row["model_uri"])
        stored = ctx.store_for(bucket).stat(name)
        if stored is None:
            orphans.append(f"card {row['card_id'][:12]} ({row['model_file_name']}): object gone")
    status = ctx.judge("registry", len(problems), max(len(models), 1))
    orphan_status = ctx.judge("orphan_cards", len(orphans), 1)
    return [
        CheckResult(
            "bucket_vs_registry",
            status,
            f"{len(models) - len(problems)}/{len(models)} referenced models match the bucket "
            "and the registry",
            {"referenced_models": len(models), "problems": len(problems)},
            problems,
            next_step=None
            if status is Status.PASS
            else "A model that produced predictions no longer matches its card: restore the "
            "object generation (bucket versioning) or re-upload and re-promote; never "
            "overwrite a model file in place.",
        ),
        CheckResult(
            "orphan_cards",
            orphan_status,
            f"{len(orphans)} card(s) whose object is gone",
            {"orphan_cards": len(orphans)},
            orphans,
            next_step=None
            if orphan_status is Status.PASS
            else "Cards point at deleted objects: restore them if they may be promoted again.",
        ),
    ]


def performance(ctx: CheckContext) -> CheckResult:
    """Each model's graded figures against its card: a points model on MAE and high-edge hit
    rate, an over/under classifier on the hit rate of its picks, Brier score and log loss."""
    rows = ctx.query("verify_performance", high_edge=ctx.settings.high_edge)
    flagged: list[str] = []
    details: list[str] = []
    figures: list[dict[str, Any]] = []
    for r in rows:
        if int(r["probability_rows"]):
            entry, line, reasons = _classifier_performance(ctx, r)
        else:
            entry, line, reasons = _points_performance(ctx, r)
        figures.append(entry)
        if int(r["graded"]) == 0:
            details.append(f"{r['model_file_name']}: no results yet")
            continue
        if reasons:
            flagged.append(r["model_file_name"])
            line += " -> " + "; ".join(reasons)
        details.append(line)
    graded = sum(e["graded"] for e in figures)
    if graded == 0:
        return CheckResult(
            "performance",
            Status.INFO,
            "no graded predictions (no results yet, or no prediction names its model)",
            {"models": figures},
            details,
        )
    status = ctx.judge("performance", len(flagged), max(len(rows), 1))
    return CheckResult(
        "performance",
        status,
        f"{len(flagged)} of {len(rows)} model(s) off their card",
        {"models": figures},
        details,
        next_step=None
        if status is Status.PASS
        else "A model is not performing as its card promised: compare with `attribution "
        "report models`, check for a RED day or a data problem, consider rolling back with "
        "`attribution promote`.",
    )


_Judged = tuple[dict[str, Any], str, list[str]]


def _beyond(value: float | None, expected: Any, tolerance: float) -> bool:
    """A loss-like figure worse than the card's by more than the tolerance."""
    return value is not None and expected is not None and value > float(expected) + tolerance


@dataclass(frozen=True)
class _HitRate:
    """A hit rate with its 95% Wilson interval, and whether the card's rate lies outside."""

    picks: int
    rate: float | None
    low: float
    high: float
    reasons: list[str]
    note: str

    def text(self) -> str:
        return f"{self.rate}% on {self.picks} picks (95% interval {self.low:.1f}-{self.high:.1f})"


def _hit_rate(ctx: CheckContext, hits: int, picks: int, expected: Any) -> _HitRate:
    low, high = wilson_interval(hits, picks)
    min_sample = ctx.settings.min_sample
    reasons: list[str] = []
    note = ""
    if picks < min_sample:
        note = f"; sample under {min_sample}, hit rate not judged"
    elif expected is not None and not low <= float(expected) <= high:
        reasons.append("card's hit rate outside the 95% interval")
    return _HitRate(picks, _pct(hits, picks) if picks else None, low, high, reasons, note)


def _rounded(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _points_performance(ctx: CheckContext, r: Row) -> _Judged:
    s = ctx.settings
    high_edge = _hit_rate(
        ctx, int(r["high_edge_hits"]), int(r["high_edge_picks"]), r["expected_hit_rate"]
    )
    mae = _rounded(r["mae"], 2)
    line = (
        f"{r['model_file_name']}, its games through {ctx.game_date}: MAE {mae} (card "
        f"{r['expected_mae']}), high-edge hit rate {high_edge.text()} (card's high-edge hit "
        f"rate {r['expected_hit_rate']}%){high_edge.note}"
    )
    reasons = high_edge.reasons
    if _beyond(mae, r["expected_mae"], s.mae_tolerance):
        reasons.insert(0, f"MAE over the card's by more than {s.mae_tolerance}")
    entry = {
        "model_file_name": r["model_file_name"],
        "prediction_type": PredictionType.POINTS.value,
        "graded": int(r["graded"]),
        "mae": mae,
        "expected_mae": r["expected_mae"],
        "picks": int(r["picks"]),
        "hit_rate": _pct(int(r["hits"]), int(r["picks"])) if r["picks"] else None,
        "high_edge_picks": high_edge.picks,
        "high_edge_hit_rate": high_edge.rate,
        "high_edge_interval": [round(high_edge.low, 1), round(high_edge.high, 1)],
        "expected_hit_rate": r["expected_hit_rate"],
    }
    return entry, line, reasons


def _classifier_performance(ctx: CheckContext, r: Row) -> _Judged:
    s = ctx.settings
    card = ctx.registry.get(r["model_card_id"]) if r["model_card_id"] else None
    expected_brier = card.expected_brier_score if card else None
    expected_log_loss = card.expected_log_loss if card else None
    picks = _hit_rate(ctx, int(r["hits"]), int(r["picks"]), r["expected_hit_rate"])
    brier, log_loss = _rounded(r["brier_score"], 4), _rounded(r["log_loss"], 4)
    line = (
        f"{r['model_file_name']}, its games through {ctx.game_date}: hit rate of its picks "
        f"{picks.text()} (card's {r['expected_hit_rate']}%), "
        f"Brier {brier} (card {expected_brier}), log loss {log_loss} (card "
        f"{expected_log_loss}) on {int(r['scored'])} graded{picks.note}"
    )
    reasons = picks.reasons
    if _beyond(brier, expected_brier, s.brier_tolerance):
        reasons.append(f"Brier score over the card's by more than {s.brier_tolerance}")
    if _beyond(log_loss, expected_log_loss, s.log_loss_tolerance):
        reasons.append(f"log loss over the card's by more than {s.log_loss_tolerance}")
    entry = {
        "model_file_name": r["model_file_name"],
        "prediction_type": PredictionType.OVER_PROBABILITY.value,
        "graded": int(r["scored"]),  # a push is no hit and no miss: Brier and log loss skip it
        "picks": picks.picks,
        "hit_rate": picks.rate,
        "hit_rate_interval": [round(picks.low, 1), round(picks.high, 1)],
        "expected_hit_rate": r["expected_hit_rate"],
        "brier_score": brier,
        "expected_brier_score": expected_brier,
        "log_loss": log_loss,
        "expected_log_loss": expected_log_loss,
    }
    return entry, line, reasons


def recommendation_skew(ctx: CheckContext) -> CheckResult:
    counts = {
        r["recommendation"]: int(r["predictions"]) for r in ctx.query("verify_recommendations")
    }
    over, under = counts.get("OVER", 0), counts.get("UNDER", 0)
    sides = over + under
    over_share, under_share = _pct(over, sides), _pct(under, sides)
    # Judged on the exact share: 74.97% shows as 75.0% but does not reach 75%.
    red = sides > 0 and 100.0 * max(over, under) / sides >= ctx.settings.red_day_share
    side = "UNDER" if under_share >= over_share else "OVER"
    return CheckResult(
        "recommendation_skew",
        Status.INFO,
        (f"RED day: {max(over_share, under_share)}% {side}" if red else "balanced")
        + f" (OVER {over_share}%, UNDER {under_share}% of the day's {sides} picks; no bet "
        f"(PASS) on {counts.get('PASS', 0)})",
        {"over": over, "under": under, "pass": counts.get("PASS", 0), "red_day": red},
    )


def leakage(ctx: CheckContext) -> CheckResult:
    rows = ctx.query("verify_model_distribution")
    leaked = [r for r in rows if int(r["leaked"] or 0) > 0]
    count = sum(int(r["leaked"]) for r in leaked)
    total = sum(int(r["predictions"]) for r in rows)
    status = ctx.judge("leakage", count, max(total, 1))
    return CheckResult(
        "leakage",
        status,
        f"{count} prediction(s) for a game on or before their model's training end",
        {"leaked": count},
        [
            f"{r['model_file_name']}: trained through {r['training_end_date']}, "
            f"{r['leaked']} rows for {ctx.game_date}"
            for r in leaked
        ],
        next_step=None
        if status is Status.PASS
        else "The model saw these games in training: its figures on them mean nothing. "
        "Exclude them from evaluation; check which model is promoted.",
    )
