"""``attribution report html``: the page opened in headless Chromium, its figures held to
``report models --json`` and to the raw rows graded here (the world: ``report_story``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from altair.vegalite.v6.schema import core as vega_lite
from browser import open_offline

from attribution.cli.main import main
from attribution.verification.html_report.panels import DRIFT_FEATURES_SHOWN

from .report_story import NEXT_DAY, ODDS, story
from .support import A_NAME, B_NAME, DAY, SYSTEM, World, graded_frame

__all__ = ["story"]  # the fixture
TIME_PANELS = (
    "timeline", "hit_rate", "mae", "graded_picks", "coverage", "rejected", "verdicts", "drift",
)  # fmt: skip
EVERY_PANEL = (*TIME_PANELS, "odds", "challengers")


def wilson(hits: int, picks: int) -> tuple[float, float]:
    """The 95% Wilson score interval, in percent, as its textbook formula gives it."""
    z = 1.959963984540054
    p = hits / picks
    centre = p + z * z / (2 * picks)
    spread = z * math.sqrt(p * (1 - p) / picks + z * z / (4 * picks * picks))
    return 100 * (centre - spread) / (1 + z * z / picks), 100 * (centre + spread) / (
        1 + z * z / picks
    )


def test_the_textbook_wilson_interval_is_the_one_tables_give() -> None:
    low, high = wilson(8, 10)  # 8 of 10: 49.0% to 94.3% in every table
    assert (round(low, 1), round(high, 1)) == (49.0, 94.3)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def write_page(capsys: pytest.CaptureFixture[str], out: Path) -> None:
    code, printed = cli(
        capsys, "report", "html", "--system-id", SYSTEM, "--from", str(DAY),
        "--to", str(NEXT_DAY), "--out", str(out),
    )  # fmt: skip
    assert code == 0, printed
    assert str(out) in printed


@pytest.fixture
def opened(story: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Any:
    page = tmp_path / "report.html"
    write_page(capsys, page)
    return open_offline(page, tmp_path / "report.png")


def test_the_page_opens_offline_and_draws_every_chart(opened: Any, tmp_path: Path) -> None:
    assert opened.console_errors == []
    assert opened.refused_requests == []  # it asked the network for nothing
    assert [c["panel"] for c in opened.charts] == list(EVERY_PANEL)
    for chart in opened.charts:
        assert chart["rendered"] == "true", chart
        assert chart["svg"] or chart["canvas"], chart
        assert chart["width"] > 100 and chart["height"] > 50, chart
        assert chart["marks"] > 10, chart
    assert opened.screenshot.parent == tmp_path
    assert opened.screenshot.stat().st_size > 20_000


def test_the_models_figures_are_report_models_for_the_same_days(
    opened: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed = cli(
        capsys, "--json", "report", "models", "--system-id", SYSTEM, "--from", str(DAY),
        "--to", str(NEXT_DAY),
    )  # fmt: skip
    assert code == 0
    reported = json.loads(printed)
    # A (champion), B (challenger), B (champion), and the rows no model is named on
    assert len(reported) == 4
    assert opened.data["models"] == reported
    shown = [(cells[0], cells[1], cells[3], cells[5]) for cells in opened.models_table]
    assert shown == [
        (r["model_file_name"] or "", r["model_role"], str(r["predictions"]),
         "" if r["hit_rate"] is None else str(r["hit_rate"]))
        for r in reported
    ]  # fmt: skip


def test_each_day_s_hit_rate_and_band_are_those_of_the_graded_rows(
    story: World, opened: Any
) -> None:
    frame = graded_frame(story.app)
    champion = frame[frame["model_file_name"].notna()]
    daily = {
        (row["game_date"], row["model_file_name"]): row
        for row in opened.data["daily"]
        if row["model_role"] == "champion"
    }
    assert set(daily) == {(str(DAY), A_NAME), (str(NEXT_DAY), B_NAME)}
    for (day, name), row in daily.items():
        rows = champion[(champion["game_date"].astype(str) == day)
                        & (champion["model_file_name"] == name)]  # fmt: skip
        picks, hits = int(rows["picked"].sum()), int(rows["correct"].sum())
        high = rows[rows["edge"].abs() >= 5.0]
        high_picks, high_hits = int(high["picked"].sum()), int(high["correct"].sum())
        assert (row["picks"], row["hits"]) == (picks, hits)
        assert (row["high_edge_picks"], row["high_edge_hits"]) == (high_picks, high_hits)
        assert row["hit_rate"] == round(100 * hits / picks, 1)
        low, top = wilson(hits, picks)
        assert (row["hit_rate_low"], row["hit_rate_high"]) == (round(low, 1), round(top, 1))
        if high_picks:
            low, top = wilson(high_hits, high_picks)
            assert row["high_edge_hit_rate_low"] == round(low, 1)
            assert row["high_edge_hit_rate_high"] == round(top, 1)
        graded = rows[rows["graded"]]
        assert row["mae"] == pytest.approx(graded["absolute_error"].mean(), abs=0.005)


def test_coverage_rejects_and_verdicts_per_day_are_the_warehouse_s(
    story: World, opened: Any
) -> None:
    days = {d["game_date"]: d for d in opened.data["days"]}
    assert set(days) == {str(DAY), str(NEXT_DAY)}
    for day in (DAY, NEXT_DAY):
        rows = story.predictions(day)
        methods = [r["attribution_method"] or "missing" for r in rows]
        shown = days[str(day)]
        assert shown["predictions"] == len(rows)
        assert shown["stamped"] == methods.count("stamped")
        assert shown["missing"] == methods.count("missing")
    assert days[str(NEXT_DAY)]["missing"] == 5
    assert (days[str(DAY)]["rejected"], days[str(NEXT_DAY)]["rejected"]) == (0, 2)
    verdicts = [(v["game_date"], v["verdict"]) for v in opened.data["verdicts"]]
    assert verdicts == [(str(r["game_date"]), r["verdict"]) for r in story.runs()]
    assert (str(NEXT_DAY), "FAIL") in verdicts  # the unattributed rows


def _layers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield spec
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for inner in spec.get(key, []):
            yield from _layers(inner)


def _values(spec: dict[str, Any], layer: dict[str, Any]) -> list[dict[str, Any]]:
    data = layer.get("data", {})
    if "values" in data:
        return list(data["values"])
    return list(spec.get("datasets", {}).get(data.get("name", ""), []))


def panel_spec(text: str, panel: str) -> dict[str, Any]:
    """The Vega-Lite spec of ``panel`` as the page carries it."""
    raw = text.split(f'<script type="application/json" id="spec-{panel}">', 1)[1]
    return json.loads(raw.split("</script>", 1)[0])  # type: ignore[no-any-return]


def _mark(layer: dict[str, Any]) -> dict[str, Any]:
    mark = layer.get("mark")
    return mark if isinstance(mark, dict) else {"type": mark}


def test_the_promotion_is_marked_on_every_chart_over_game_days(
    story: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    write_page(capsys, page)
    text = page.read_text()
    for panel in TIME_PANELS:
        spec = panel_spec(text, panel)
        rules = [
            _values(spec, layer)
            for layer in _layers(spec)
            if isinstance(layer.get("mark"), dict) and layer["mark"].get("strokeDash") == [5, 3]
        ]
        assert rules, panel
        promotions = [{"day": str(DAY), "model_file_name": A_NAME},
                      {"day": str(NEXT_DAY), "model_file_name": B_NAME}]  # fmt: skip
        assert all(values == promotions for values in rules), (panel, rules)
    assert "<link" not in text and "<script src" not in text


def test_every_panel_s_spec_is_valid_vega_lite(
    story: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The page writes its specs unvalidated (for speed); Vega-Lite's own schema holds them."""
    page = tmp_path / "report.html"
    write_page(capsys, page)
    text = page.read_text()
    validator = jsonschema.Draft7Validator(vega_lite.load_schema())
    for panel in EVERY_PANEL:
        spec = panel_spec(text, panel)
        assert [e.message for e in validator.iter_errors(spec)] == [], panel
        broken = {**spec, "width": "wide"}
        assert not validator.is_valid(broken)


def test_a_system_nobody_knows_is_refused_and_no_page_is_written(
    story: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "nobody.html"
    code, _ = cli(capsys, "report", "html", "--system-id", "nobody", "--out", str(out))
    assert code == 5
    assert not out.exists()


def test_an_open_range_spans_the_system_s_days(
    story: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, printed = cli(
        capsys, "--json", "report", "html", "--system-id", SYSTEM, "--out",
        str(tmp_path / "all.html"),
    )  # fmt: skip
    assert code == 0
    assert json.loads(printed)["from"] == str(DAY) and json.loads(printed)["to"] == str(NEXT_DAY)
    assert date.fromisoformat(json.loads(printed)["to"]) == NEXT_DAY


def test_each_pick_is_held_to_its_own_price(story: World, opened: Any) -> None:
    frame = graded_frame(story.app)
    priced = frame[frame["odds"].notna() & frame["picked"]]
    assert set(priced["odds"].astype(int)) == set(ODDS)
    odds = priced["odds"].astype(float)
    break_even = [(-o / (-o + 100)) if o < 0 else 100 / (o + 100) for o in odds]
    won = [(100 / -o if o < 0 else o / 100) for o in odds]
    profit = sum(w if hit else -1.0 for w, hit in zip(won, priced["correct"], strict=True))
    (champion,) = [r for r in opened.data["odds"] if r["model_role"] == "champion"]
    assert champion["model_file_name"] == B_NAME
    assert champion["picks"] == len(priced)
    assert champion["hits"] == int(priced["correct"].sum())
    assert champion["break_even"] == round(100 * sum(break_even) / len(priced), 1)
    assert champion["profit"] == pytest.approx(profit, abs=0.005)
    assert champion["roi"] == round(100 * profit / len(priced), 1)
    stored = story.query(
        "SELECT odds FROM player_prop_predictions WHERE game_date = @day AND odds IS NOT NULL",
        day=NEXT_DAY,
    )
    assert len(stored) == len(story.predictions(NEXT_DAY)) - 5  # all but the unstamped rows


def drift_report(capsys: pytest.CaptureFixture[str], day: date) -> list[dict[str, Any]]:
    """``report drift --json`` for ``day``: one row per model and profiled quantity."""
    code, printed = cli(
        capsys, "--json", "report", "drift", "--system-id", SYSTEM, "--game-date", str(day)
    )
    assert code == 0, printed
    return [
        {"game_date": str(day), "model_role": model["model_role"],
         "model_file_name": model["model_file_name"], "feature": f["feature"],
         "kind": f["kind"], "rows": f["rows"], "psi": f["psi"], "status": f["status"]}
        for model in json.loads(printed)["models"]
        for f in model["features"]
    ]  # fmt: skip


def test_each_day_s_drift_is_report_drift_s_for_that_day(
    opened: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reported = {day: drift_report(capsys, day) for day in (DAY, NEXT_DAY)}
    # A champion and B challenger on DAY, B champion on NEXT_DAY: each with its prediction
    assert {(r["model_file_name"], r["model_role"]) for r in reported[DAY]} == {
        (A_NAME, "champion"),
        (B_NAME, "challenger"),
    }
    assert {(r["model_file_name"], r["model_role"]) for r in reported[NEXT_DAY]} == {
        (B_NAME, "champion")
    }
    assert all(any(r["kind"] == "prediction" for r in rows) for rows in reported.values())
    assert opened.data["drift"] == [*reported[DAY], *reported[NEXT_DAY]]
    spec = panel_spec((tmp_path / "report.html").read_text(), "drift")
    layers = list(_layers(spec))
    drawn = [row for layer in layers if _mark(layer)["type"] == "line"
             for row in _values(spec, layer)]  # fmt: skip
    expected = []
    for model in {(r["model_file_name"], r["model_role"]) for rows in reported.values()
                  for r in rows}:  # fmt: skip
        rows = [r for day in (DAY, NEXT_DAY) for r in reported[day]
                if (r["model_file_name"], r["model_role"]) == model]  # fmt: skip
        largest: dict[str, float] = {}
        for r in rows:
            if r["kind"] != "prediction":
                largest[r["feature"]] = max(largest.get(r["feature"], 0.0), r["psi"])
        top = sorted(largest.values(), reverse=True)[:DRIFT_FEATURES_SHOWN]
        expected += [r for r in rows if r["kind"] == "prediction" or largest[r["feature"]] in top]
    key = itemgetter("game_date", "model_file_name", "model_role", "feature")
    assert sorted(drawn, key=key) == sorted(expected, key=key)
    limits = [row for layer in layers if "limit" in json.dumps(layer.get("encoding", {}))
              for row in _values(spec, layer)]  # fmt: skip
    per_chart = [{"limit": "PARTIAL", "psi": 0.1}, {"limit": "FAIL", "psi": 0.25}]
    assert limits == per_chart * len(spec["vconcat"])  # the settings' defaults, on each model


def test_without_rows_counted_into_a_profile_there_is_no_drift_panel(
    story: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    story.app.warehouse.execute("DELETE FROM input_profile_counts")
    page = tmp_path / "report.html"
    write_page(capsys, page)
    text = page.read_text()
    assert 'id="spec-drift"' not in text
    assert all(f'id="spec-{panel}"' in text for panel in EVERY_PANEL if panel != "drift")
