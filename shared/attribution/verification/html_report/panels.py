"""The report's panels: one builder each, drawn with Vega-Altair.

A builder takes the ``ReportData`` and returns a ``Panel``, or None when the system has
nothing for it to show (no challenger, no odds, no rows counted into a training profile).
``PANELS`` is the page's order; a new panel is a builder added to it. Every chart over game
days carries the same marks: the ledger's promotions (dashed rules, labelled with the model
promoted) and the RED days (red bands).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import altair as alt

from attribution.model_card.profile import PREDICTION
from attribution.verification.html_report.data import METHODS, ReportData

WIDTH = 720
DAY_HEIGHT = 180
VERDICT_COLOURS = {
    "PASS": "#1a7f37",
    "PARTIAL": "#bf8700",
    "UNKNOWN": "#57606a",
    "FAIL": "#cf222e",
}
METHOD_COLOURS = {
    "stamped": "#1a7f37",
    "replay_verified": "#0969da",
    "ledger_inferred": "#bf8700",
    "missing": "#cf222e",
}
RED = "#cf222e"
DRIFT_FEATURES_SHOWN = 5  # per model, the features that moved most; its predictions besides


Chart = alt.LayerChart | alt.FacetChart | alt.VConcatChart


@dataclass(frozen=True)
class Panel:
    key: str  # the element id on the page and the chart's name
    title: str
    about: str  # what the chart shows, in a sentence or two
    chart: Chart


PanelBuilder = Callable[[ReportData], Panel | None]


def _datetime(day: date) -> alt.DateTime:
    return alt.DateTime(year=day.year, month=day.month, date=day.day, utc=True)


def day_axis(data: ReportData, field: str = "game_date", *, title: str = "game day") -> alt.X:
    """The x axis every chart over game days shares: the report's days, in UTC."""
    return alt.X(
        field,
        type="temporal",
        timeUnit="utcyearmonthdate",
        title=title,
        # A tick a day at most: left to itself, Vega puts several in a day of a short range.
        axis=alt.Axis(
            format="%b %d",
            labelAngle=0,
            labelOverlap=True,
            tickCount=alt.TimeIntervalStep(interval="day", step=1),
        ),
        scale=alt.Scale(domain=[_datetime(data.first), _datetime(data.last + timedelta(days=1))]),
    )


def _names_legend(columns: int | None = None) -> alt.Legend:
    """A legend under the chart that shows whole model and feature names (no ellipsis)."""
    if columns is None:
        return alt.Legend(orient="bottom", labelLimit=0)
    return alt.Legend(orient="bottom", labelLimit=0, columns=columns)


def _values(rows: Sequence[dict[str, Any]]) -> alt.InlineData:
    # A tuple, not a list: Altair deep-copies lists at every step of building a chart, and a
    # range's rows (60 days of drift, say) would be copied half a dozen times.
    return alt.InlineData(values=tuple(rows))


def day_marks(data: ReportData) -> list[alt.Chart]:
    """RED-day bands and promotion rules, to layer over a chart of game days."""
    marks: list[alt.Chart] = []
    if data.red_days:
        bands = [
            {"day": day, "next": (date.fromisoformat(day) + timedelta(days=1)).isoformat()}
            for day in data.red_days
        ]
        marks.append(
            alt.Chart(_values(bands))
            .mark_rect(color=RED, opacity=0.12)
            .encode(
                x=day_axis(data, "day"),
                x2=alt.X2("next", timeUnit="utcyearmonthdate"),
                tooltip=[alt.Tooltip("day:N", title="RED day")],
            )
        )
    if data.promotions:
        rules = alt.Chart(_values(data.promotions)).encode(x=day_axis(data, "day"))
        marks.append(
            rules.mark_rule(strokeDash=[5, 3], color="#24292f").encode(
                tooltip=[
                    alt.Tooltip("model_file_name:N", title="promoted"),
                    alt.Tooltip("day:N", title="on"),
                ]
            )
        )
        marks.append(
            rules.mark_text(align="left", dx=3, dy=-4, fontSize=10, color="#24292f", y=0).encode(
                text="model_file_name:N"
            )
        )
    return marks


def _over_days(
    data: ReportData, *layers: alt.Chart, height: int = DAY_HEIGHT
) -> alt.LayerChart | alt.FacetChart:
    return alt.layer(*day_marks(data), *layers).properties(width=WIDTH, height=height)


def timeline(data: ReportData) -> Panel | None:
    segments = [
        {
            "model_file_name": s.model_file_name,
            "role": s.role,
            "start": s.start.isoformat(),
            "end": s.end.isoformat(),
        }
        for s in data.segments
    ]
    if not segments:
        return None
    bars = (
        alt.Chart(_values(segments))
        .mark_bar(height=14, cornerRadius=2)
        .encode(
            x=day_axis(data, "start"),
            x2=alt.X2("end", timeUnit="utcyearmonthdate"),
            y=alt.Y("model_file_name:N", title=None),
            color=alt.Color(
                "role:N",
                scale=alt.Scale(domain=["champion", "challenger"], range=["#0969da", "#bf8700"]),
            ),
            tooltip=["model_file_name:N", "role:N", "start:N", "end:N"],
        )
    )
    return Panel(
        "timeline",
        "Which model was live, in which role",
        "From the deployment ledger: each model's term as the champion (whose rows are the "
        "system's predictions) or as a challenger scored beside it. Dashed rules mark the "
        "promotions; red bands the RED days.",
        _over_days(data, bars, height=40 + 28 * len({s["model_file_name"] for s in segments})),
    )


def _model_label(row: dict[str, Any]) -> str:
    return f"{row['model_file_name']} ({row['model_role']})"


def _models(data: ReportData) -> list[str]:
    return sorted({_model_label(r) for r in data.daily})


def hit_rates(data: ReportData) -> Panel | None:
    charts = []
    for model in _models(data):
        rows = [r for r in data.daily if _model_label(r) == model]
        points = rows[0]["prediction_type"] == "points"
        series = [
            {
                "game_date": r["game_date"],
                "series": label,
                "hit_rate": r[f"{prefix}hit_rate"],
                "low": r[f"{prefix}hit_rate_low"],
                "high": r[f"{prefix}hit_rate_high"],
                "picks": r[f"{prefix}picks"],
            }
            for r in rows
            for prefix, label in (("", "all picks"), ("high_edge_", "high-edge picks"))
            if r[f"{prefix}picks"] and (points or not prefix)
        ]
        if not series:
            continue
        colour = alt.Color(
            "series:N",
            scale=alt.Scale(domain=["all picks", "high-edge picks"], range=["#0969da", "#8250df"]),
            title=None,
        )
        base = alt.Chart(_values(series)).encode(x=day_axis(data), color=colour)
        layers = [
            base.mark_area(opacity=0.18).encode(
                y=alt.Y("low:Q", title="hit rate (%)", scale=alt.Scale(domain=[0, 100])),
                y2="high:Q",
            ),
            base.mark_line(point=True).encode(
                y="hit_rate:Q",
                tooltip=["game_date:N", "series:N", "hit_rate:Q", "low:Q", "high:Q", "picks:Q"],
            ),
        ]
        expected = rows[0]["expected_hit_rate"]
        if expected is not None:
            promise = "high-edge" if points else "every pick's"
            layers.append(
                alt.Chart(_values([{"card": expected, "label": f"card's {promise} hit rate"}]))
                .mark_rule(color="#cf222e", strokeDash=[2, 2])
                .encode(y="card:Q", tooltip=["label:N", "card:Q"])
            )
        charts.append(_over_days(data, *layers).properties(title=model))
    if not charts:
        return None
    return Panel(
        "hit_rate",
        "Hit rate per model and day, against its card",
        f"Each day's graded picks: the share that hit, all picks and the high-edge ones (|edge| "
        f"at least {data.min_edge:g} points), with the 95% Wilson interval as a band; the "
        "dotted line is the hit rate the model's card declared (a points model declares its "
        "high-edge hit rate, an over/under classifier that of every pick).",
        alt.vconcat(*charts),
    )


def mae(data: ReportData) -> Panel | None:
    rows = [{**r, "model": _model_label(r)} for r in data.daily if r["mae"] is not None]
    if not rows:
        return None
    cards = {_model_label(r): r["expected_mae"] for r in rows if r["expected_mae"] is not None}
    colour = alt.Color("model:N", title=None, legend=_names_legend(columns=1))
    lines = (
        alt.Chart(_values(rows))
        .mark_line(point=True)
        .encode(
            x=day_axis(data),
            y=alt.Y("mae:Q", title="MAE (points)"),
            color=colour,
            tooltip=["game_date:N", "model:N", "mae:Q", "expected_mae:Q", "picks:Q"],
        )
    )
    card_rules = (
        alt.Chart(_values([{"model": m, "expected_mae": v} for m, v in sorted(cards.items())]))
        .mark_rule(strokeDash=[2, 2])
        .encode(y="expected_mae:Q", color=colour, tooltip=["model:N", "expected_mae:Q"])
    )
    return Panel(
        "mae",
        "MAE against the card's",
        "Each day's mean absolute error of the points predicted, per model; the dotted line "
        "of its colour is the MAE its card declared.",
        _over_days(data, lines, card_rules),
    )


def graded_picks(data: ReportData) -> Panel | None:
    rows = [{**r, "model": _model_label(r)} for r in data.daily]
    if not rows:
        return None
    bars = (
        alt.Chart(_values(rows))
        .mark_bar()
        .encode(
            x=day_axis(data),
            xOffset=alt.XOffset("model:N"),
            y=alt.Y("picks:Q", title="graded picks"),
            color=alt.Color("model:N", title=None, legend=_names_legend(columns=1)),
            tooltip=["game_date:N", "model:N", "predictions:Q", "picks:Q", "high_edge_picks:Q"],
        )
    )
    return Panel(
        "graded_picks",
        "Graded picks",
        "Per day and model: the OVER/UNDER picks that have a result and were not a push (what "
        "each hit rate above is measured on).",
        _over_days(data, bars),
    )


def coverage(data: ReportData) -> Panel | None:
    rows = [
        {"game_date": d["game_date"], "method": method, "predictions": d[method]}
        for d in data.days
        for method in METHODS
        if d[method]
    ]
    if not rows:
        return None
    bars = (
        alt.Chart(_values(rows))
        .mark_bar()
        .encode(
            x=day_axis(data),
            y=alt.Y("predictions:Q", title="predictions", stack="zero"),
            color=alt.Color(
                "method:N",
                title="attribution",
                scale=alt.Scale(domain=list(METHODS), range=[METHOD_COLOURS[m] for m in METHODS]),
            ),
            order=alt.Order("method_order:Q"),
            tooltip=["game_date:N", "method:N", "predictions:Q"],
        )
        .transform_calculate(method_order=f"indexof({json.dumps(list(METHODS))}, datum.method)")
    )
    return Panel(
        "coverage",
        "Attribution coverage per day",
        "The system's predictions each day by how their model is known: stamped by the batch "
        "that wrote them, proven by replaying the kept input (replay_verified), inferred from "
        "the ledger, or missing (no model named, or a replay that refuted it).",
        _over_days(data, bars),
    )


def rejected(data: ReportData) -> Panel | None:
    if not data.days:
        return None
    bars = (
        alt.Chart(
            _values([{"game_date": d["game_date"], "rejected": d["rejected"]} for d in data.days])
        )
        .mark_bar(color="#9a6700")
        .encode(
            x=day_axis(data),
            y=alt.Y("rejected:Q", title="rejected rows"),
            tooltip=["game_date:N", "rejected:Q"],
        )
    )
    return Panel(
        "rejected",
        "Rejected rows",
        "Input rows the system's batches refused each day (kept in prediction_rejects with "
        "the reason).",
        _over_days(data, bars, height=120),
    )


def verdicts(data: ReportData) -> Panel | None:
    if not data.verdicts:
        return None
    runs: list[dict[str, Any]] = []
    count: dict[str, int] = {}
    for run in data.verdicts:
        count[run["game_date"]] = count.get(run["game_date"], 0) + 1
        runs.append({**run, "run": count[run["game_date"]]})
    points = (
        alt.Chart(_values(runs))
        .mark_square(size=120)
        .encode(
            x=day_axis(data),
            y=alt.Y("run:O", title="verification", sort="ascending"),
            color=alt.Color(
                "verdict:N",
                scale=alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values())),
            ),
            tooltip=["game_date:N", "verdict:N", "finished_at:N"],
        )
    )
    return Panel(
        "verdicts",
        "Verdict history",
        "Every verdict the verifier reached for each game day, the first at the top: a day "
        "that failed and later passed shows both. Red bands are RED days (one side took "
        f"{data.red_day_share:g}% or more of the day's picks).",
        _over_days(data, points, height=40 + 22 * max(count.values())),
    )


def _most_moved(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One model's rows of the features whose largest PSI of the range is among the
    ``DRIFT_FEATURES_SHOWN`` largest, and of its predictions."""
    largest: dict[str, float] = {}
    for row in rows:
        if row["kind"] != PREDICTION:
            largest[row["feature"]] = max(largest.get(row["feature"], 0.0), row["psi"])
    shown = sorted(largest, key=lambda name: -largest[name])[:DRIFT_FEATURES_SHOWN]
    return [r for r in rows if r["kind"] == PREDICTION or r["feature"] in shown]


def drift(data: ReportData) -> Panel | None:
    if not data.drift:
        return None
    limits = [
        alt.Chart(_values([{"limit": level, "psi": psi}]))
        .mark_rule(color=VERDICT_COLOURS[level], strokeDash=[2, 2])
        .encode(y="psi:Q", tooltip=["limit:N", "psi:Q"])
        for level, psi in data.drift_limits.items()
    ]
    charts = []
    for model in sorted({_model_label(r) for r in data.drift}):
        rows = _most_moved([r for r in data.drift if _model_label(r) == model])
        lines = (
            alt.Chart(_values(rows))
            .mark_line(point=True)
            .encode(
                x=day_axis(data),
                # PSI runs from 0 to several where a unit changes: a square root keeps the
                # limits, 0.1 and 0.25 by default, apart.
                y=alt.Y("psi:Q", title="PSI against training", scale=alt.Scale(type="sqrt")),
                color=alt.Color("feature:N", title=None, legend=_names_legend()),
                tooltip=["game_date:N", "feature:N", "kind:N", "psi:Q", "status:N", "rows:Q"],
            )
        )
        charts.append(_over_days(data, lines, *limits).properties(title=model))
    return Panel(
        "drift",
        "Input drift against the training profile",
        f"Per model and day, the PSI of the {DRIFT_FEATURES_SHOWN} features that moved most "
        "over these days and of the model's predictions, against the training profile its "
        "card carries (`attribution report drift` has every feature). The dotted lines are "
        "the PSI of PARTIAL and FAIL; the drift check judges the champion's, and only where a "
        "day's counts differ from training's by more than chance.",
        alt.vconcat(*charts),
    )


def challengers(data: ReportData) -> Panel | None:
    rows = [
        {
            "challenger": c.challenger_file_name,
            "champion": c.champion_file_name,
            "difference": c.hit.difference,
            "low": c.hit.difference_low,
            "high": c.hit.difference_high,
            "paired_picks": c.hit.n,
            "decision": c.decision.verdict.value,
        }
        for c in data.comparisons
        if c.hit.difference is not None
    ]
    if not rows:
        return None
    base = alt.Chart(_values(rows)).encode(y=alt.Y("challenger:N", title=None))
    chart = alt.layer(
        base.mark_rule(strokeWidth=2).encode(
            x=alt.X("low:Q", title="hit rate, challenger minus champion (points)"), x2="high:Q"
        ),
        base.mark_point(filled=True, size=80).encode(
            x="difference:Q",
            tooltip=[
                "challenger:N",
                "champion:N",
                "difference:Q",
                "low:Q",
                "high:Q",
                "paired_picks:Q",
                "decision:N",
            ],
        ),
        alt.Chart(_values([{"zero": 0}])).mark_rule(color="#57606a").encode(x="zero:Q"),
    ).properties(width=WIDTH, height=40 + 30 * len(rows))
    return Panel(
        "challengers",
        "Challengers against the champion",
        "On the picks both made on the same rows: the challenger's hit rate minus the "
        "champion's, with its 95% interval (`attribution report compare` has the test and "
        "the MAE).",
        chart,
    )


def odds(data: ReportData) -> Panel | None:
    if not data.odds:
        return None
    rows = [{**r, "model": _model_label(r)} for r in data.odds]
    model = alt.Y("model:N", title=None)
    base = alt.Chart(_values(rows)).encode(y=model)
    hit_rate = alt.layer(
        base.mark_rule(strokeWidth=2, color="#0969da").encode(
            x=alt.X("hit_rate_low:Q", title="hit rate (%)", scale=alt.Scale(domain=[0, 100])),
            x2="hit_rate_high:Q",
        ),
        base.mark_point(filled=True, size=80, color="#0969da").encode(
            x="hit_rate:Q", tooltip=["model:N", "picks:Q", "hits:Q", "hit_rate:Q"]
        ),
        base.mark_tick(color="#cf222e", thickness=2, size=24).encode(
            x="break_even:Q", tooltip=["model:N", alt.Tooltip("break_even:Q", title="break-even")]
        ),
    ).properties(width=WIDTH, height=40 + 30 * len(rows), title="hit rate and break-even")
    roi = (
        base.mark_bar()
        .encode(
            x=alt.X("roi:Q", title="flat-stake return (%)"),
            color=alt.condition("datum.roi >= 0", alt.value("#1a7f37"), alt.value(RED)),
            tooltip=["model:N", "picks:Q", "profit:Q", "roi:Q"],
        )
        .properties(width=WIDTH, height=40 + 30 * len(rows), title="return on a flat stake")
    )
    return Panel(
        "odds",
        "Against the prices",
        "Picks whose rows gave American odds: the hit rate with its 95% Wilson interval "
        "beside the break-even of their own prices (red tick: the mean of each pick's "
        "break-even), and what one unit staked on every pick returned.",
        alt.vconcat(hit_rate, roi),
    )


PANELS: tuple[PanelBuilder, ...] = (
    timeline,
    hit_rates,
    mae,
    graded_picks,
    coverage,
    rejected,
    verdicts,
    drift,
    odds,
    challengers,
)


def build_panels(data: ReportData, builders: Sequence[PanelBuilder] = PANELS) -> list[Panel]:
    return [panel for build in builders if (panel := build(data)) is not None]
