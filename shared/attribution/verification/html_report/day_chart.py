"""The picture an alert email carries inline: the report's coverage, verdict and hit-rate
panels in one PNG, drawn by vl-convert (no browser)."""

from __future__ import annotations

import altair as alt
import vl_convert

from attribution.verification.html_report.data import ReportData
from attribution.verification.html_report.page import VEGA_LITE_VERSION
from attribution.verification.html_report.panels import coverage, hit_rates, verdicts

DAY_CHART_PANELS = (coverage, verdicts, hit_rates)


def day_chart_png(data: ReportData) -> bytes | None:
    """The PNG, or None when none of its panels has anything to show."""
    charts = [panel.chart for build in DAY_CHART_PANELS if (panel := build(data)) is not None]
    if not charts:
        return None
    spec = (
        alt.vconcat(*charts)
        .resolve_scale(color="independent")
        .properties(title=f"{data.system_id}: {data.first} to {data.last}")
        .to_dict()
    )
    return vl_convert.vegalite_to_png(spec, vl_version=VEGA_LITE_VERSION)
