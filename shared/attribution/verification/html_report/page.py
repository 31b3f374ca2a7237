"""The report as one self-contained HTML page: Vega, Vega-Lite and Vega-Embed inline (from
vl-convert's bundle), every chart's spec and data inline, system fonts only, so it opens
offline and fetches nothing.

The page also carries its figures as JSON (``<script type="application/json"
id="report-data">``): the models table is `attribution report models --json` for the same
range, the rest what the charts draw.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

import altair as alt
import vl_convert

from attribution.clock import now_utc
from attribution.json_safe import dumps_finite, json_default
from attribution.verification.html_report.data import ReportData
from attribution.verification.html_report.panels import PANELS, Panel, PanelBuilder, build_panels

# The Vega-Lite version the page's libraries compile, the one Altair writes specs for.
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
MODEL_COLUMNS = (
    ("model_file_name", "model"),
    ("model_role", "role"),
    ("prediction_type", "predicts"),
    ("predictions", "predictions"),
    ("picks", "graded picks"),
    ("hit_rate", "hit rate %"),
    ("high_edge_picks", "high-edge picks"),
    ("high_edge_hit_rate", "high-edge hit rate %"),
    ("expected_hit_rate", "card's hit rate %"),
    ("mae", "MAE"),
    ("expected_mae", "card's MAE"),
    ("first_game", "first game"),
    ("last_game", "last game"),
)
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 960px; color: #24292f; }
h1 { margin-bottom: 0.2rem; } .range { color: #57606a; margin-top: 0; }
.note { background: #fff8c5; border-left: 3px solid #bf8700; padding: 0.4rem 0.6rem; }
section { margin: 2rem 0; } section p { color: #57606a; max-width: 48rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
"""
_EMBED = """
for (const element of document.querySelectorAll(".chart")) {
  const spec = JSON.parse(document.getElementById("spec-" + element.dataset.panel).textContent);
  vegaEmbed(element, spec, {actions: false, renderer: "svg"})
    .then(() => { element.dataset.rendered = "true"; })
    .catch((error) => { element.dataset.rendered = "error"; console.error(error); });
}
"""


@cache
def vega_libraries() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script, assigning them to ``window``."""
    return vl_convert.javascript_bundle(
        "window.vega = vega; window.vegaLite = vegaLite; window.vegaEmbed = vegaEmbed;",
        vl_version=VEGA_LITE_VERSION,
    )


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``<`` can close it."""
    return dumps_finite(value, default=json_default, sort_keys=True).replace("<", "\\u003c")


def page_data(data: ReportData) -> dict[str, Any]:
    return {
        "system_id": data.system_id,
        "from": data.first,
        "to": data.last,
        "min_edge": data.min_edge,
        "models": data.models,
        "daily": data.daily,
        "days": data.days,
        "verdicts": data.verdicts,
        "promotions": data.promotions,
        "red_days": data.red_days,
        "comparisons": [c.to_document() for c in data.comparisons],
        "odds": data.odds,
        "drift": data.drift,
        "drift_limits": data.drift_limits,
    }


def _cell(value: Any) -> str:
    if value is None:
        return "<td></td>"
    shown = html.escape(value.isoformat() if isinstance(value, date) else str(value))
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f'<td class="number">{shown}</td>' if numeric else f"<td>{shown}</td>"


def models_table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No predictions in this range.</p>"
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in MODEL_COLUMNS)
    body = "".join(
        "<tr>" + "".join(_cell(row.get(key)) for key, _ in MODEL_COLUMNS) + "</tr>" for row in rows
    )
    return f'<table id="models"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def ledger_note(data: ReportData) -> str | None:
    """Why the page has no timeline, when it has none: no ledger entry in force on its days."""
    if data.segments:
        return None
    if not data.deployments:
        return "No timeline: the deployment ledger has no entry for this system."
    first = min(data.deployments, key=lambda d: d["active_from"])
    if first["active_from"].date() > data.last:
        return (
            f"No timeline: the ledger's first entry ({first['model_file_name']} as "
            f"{first['role']} from {first['active_from']:%Y-%m-%d %H:%M}Z) came after these "
            "game days, so their batches ran after the games (a backtest or a replay). Each "
            "prediction's stamp still names the model that made it."
        )
    return "No timeline: no model held a role on these game days (every entry had ended)."


def _panel(panel: Panel) -> str:
    return (
        f'<section id="panel-{panel.key}"><h2>{html.escape(panel.title)}</h2>'
        f"<p>{html.escape(panel.about)}</p>"
        f'<div class="chart" data-panel="{panel.key}"></div>'
        f'<script type="application/json" id="spec-{panel.key}">'
        # Unvalidated: checking a spec against Vega-Lite's schema costs more than drawing it
        # and grows with its rows; the tests validate every panel's spec instead.
        f"{script_json(panel.chart.to_dict(validate=False))}</script></section>"
    )


def render_page(data: ReportData, panels: Sequence[Panel]) -> str:
    title = f"{data.system_id}: models, attribution and verdicts"
    note = ledger_note(data)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_STYLE}</style>",
            f"<script>{vega_libraries()}</script>",
            "</head><body>",
            f"<h1>{html.escape(data.system_id)}</h1>",
            f'<p class="range">Game days {data.first} to {data.last}; written '
            f"{now_utc():%Y-%m-%d %H:%M}Z by <code>attribution report html</code>.</p>",
            *([f'<p class="note" id="ledger-note">{html.escape(note)}</p>'] if note else []),
            '<section id="panel-models"><h2>Models over the range</h2>'
            "<p>What <code>attribution report models</code> says for the same days.</p>",
            models_table(data.models),
            "</section>",
            *(_panel(panel) for panel in panels),
            f'<script type="application/json" id="report-data">{script_json(page_data(data))}'
            "</script>",
            f"<script>{_EMBED}</script>",
            "</body></html>",
        ]
    )


def report_page(data: ReportData, builders: Sequence[PanelBuilder] = PANELS) -> str:
    """The page of ``data`` with every panel ``builders`` make of it."""
    return render_page(data, build_panels(data, builders))
