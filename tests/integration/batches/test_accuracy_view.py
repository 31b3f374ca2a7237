"""The ``prediction_accuracy`` view grades stamped predictions against loaded results."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from app_support import upload_model
from catboost_oracle import regressor_predictions

from attribution.devtools.slates import Slate, slate_for
from attribution.devtools.training import TrainingSpec, train_model
from attribution.verification.game_results import load_results

from .support import (
    GAME_DATE,
    BatchWorld,
    predictions,
    publish,
    query,
    request,
)


def _rows_with_chosen_edges(slate: Slate, model_path: Any) -> list[dict[str, Any]]:
    """The slate with lines set around the model's own predictions, so the recommendations
    are known: rows 0-5 OVER, 6-11 UNDER, 12-17 PASS (min edge 1.0)."""
    predicted = regressor_predictions(model_path, slate.rows)
    rows = [dict(r) for r in slate.rows]
    for index, row in enumerate(rows[:18]):
        offset = -3.0 if index < 6 else 3.0 if index < 12 else 0.25
        row["line_value"] = round(float(predicted[index]) + offset, 2)
    return rows


def test_prediction_accuracy_grades_over_under_push_and_pass(
    world: BatchWorld, slate: Slate, models: Any
) -> None:
    app = world.app
    rows = _rows_with_chosen_edges(slate, models.old)
    assert publish(app, request("b-graded", rows)).ok
    made = {r["player_lookup"]: r for r in predictions(app, "b-graded")}
    players = [r["player_lookup"] for r in rows]
    recommendation = [made[p]["recommendation"] for p in players[:18]]
    assert recommendation == ["OVER"] * 6 + ["UNDER"] * 6 + ["PASS"] * 6

    line = {p: made[p]["line_value"] for p in players}
    actual = {
        players[0]: line[players[0]] + 4,  # OVER, went over: correct
        players[1]: max(line[players[1]] - 4, 0.0),  # OVER, went under: wrong
        players[2]: line[players[2]],  # OVER, push: ungraded
        players[6]: max(line[players[6]] - 4, 0.0),  # UNDER, went under: correct
        players[7]: line[players[7]] + 4,  # UNDER, went over: wrong
        players[8]: line[players[8]],  # UNDER, push: ungraded
        players[12]: line[players[12]] + 6,  # PASS: ungraded
        players[13]: max(line[players[13]] - 6, 0.0),  # PASS: ungraded
    }
    # players[3] has no result yet: no grade, no error
    loaded = load_results(
        app.warehouse,
        pa.Table.from_pylist(
            [
                {"game_date": GAME_DATE.isoformat(), "player_lookup": p, "actual_points": a}
                for p, a in actual.items()
            ]
        ),
    )
    assert (loaded.loaded, loaded.rejected) == (len(actual), [])

    graded = {
        r["player_lookup"]: r
        for r in query(
            app, "SELECT * FROM prediction_accuracy WHERE batch_id = @batch_id", batch_id="b-graded"
        )
    }
    assert len(graded) == 40  # every prediction, graded or not
    expected_correct = {
        players[0]: True,
        players[1]: False,
        players[2]: None,
        players[6]: True,
        players[7]: False,
        players[8]: None,
        players[12]: None,
        players[13]: None,
        players[3]: None,
    }
    assert {p: graded[p]["prediction_correct"] for p in expected_correct} == expected_correct
    for player, points in actual.items():
        row = graded[player]
        assert row["actual_points"] == points
        assert row["absolute_error"] == pytest.approx(
            abs(made[player]["predicted_points"] - points)
        )
        assert row["model_file_name"] == world.old.model_file_name
    assert graded[players[3]]["actual_points"] is None
    assert graded[players[3]]["absolute_error"] is None


def test_results_load_once_and_report_bad_rows(world: BatchWorld, slate: Slate) -> None:
    table = pa.Table.from_pylist(slate.results[:5])
    first = load_results(world.app.warehouse, table)
    again = load_results(world.app.warehouse, table)
    assert (first.loaded, again.loaded) == (5, 0)
    bad = pa.Table.from_pylist(
        [
            {"game_date": "2026-03-01", "player_lookup": "p_ok", "actual_points": 12.0},
            {"game_date": "not a date", "player_lookup": "p_1", "actual_points": 3.0},
            {"game_date": "2026-03-01", "player_lookup": " ", "actual_points": 3.0},
            {"game_date": "2026-03-01", "player_lookup": "p_3", "actual_points": -1.0},
        ]
    )
    report = load_results(world.app.warehouse, bad)
    assert report.loaded == 1
    assert [index for index, _ in report.rejected] == [1, 2, 3]


# The seed's "Priority 3" question, as its authors wrote it (less the dataset qualifier).
SEED_PRIORITY_3 = """
SELECT
  model_file_name,
  COUNT(*) as predictions,
  ROUND(100.0 * COUNTIF(prediction_correct) / COUNT(*), 1) as hit_rate,
  ROUND(AVG(ABS(predicted_points - actual_points)), 2) as mae,
  MIN(game_date) as first_game,
  MAX(game_date) as last_game
FROM prediction_accuracy
WHERE system_id = 'catboost_v9'
  AND model_file_name IS NOT NULL  -- Only predictions with attribution
  AND ABS(predicted_points - line_value) >= 5  -- High-edge picks
GROUP BY model_file_name
ORDER BY last_game DESC;
"""


def test_the_seeds_sql_still_answers_on_points_rows_beside_a_classifiers(
    world: BatchWorld, models: Any, tmp_path: Any
) -> None:
    """A classifier system writes rows with no points into the same table; the seed's query
    over the points system answers as before, figures checked by hand."""
    app = world.app
    slate = slate_for(GAME_DATE, players=120, extra_lines=20)
    assert publish(app, request("b-points", slate.rows)).ok
    classifier = train_model(
        TrainingSpec(system_id="catboost_ou", over_under=True, rows=2000, iterations=20, depth=4),
        tmp_path / "catboost_ou.cbm",
    )
    card = upload_model(app, classifier, "catboost_ou.cbm")
    app.ledger.promote("catboost_ou", card)
    assert publish(app, request("b-ou", slate.rows, system_id="catboost_ou")).ok
    load_results(app.warehouse, pa.Table.from_pylist(slate.results))

    answer = query(app, SEED_PRIORITY_3)

    actual = {r["player_lookup"]: r["actual_points"] for r in slate.results}
    rows = [r for r in predictions(app, "b-points") if abs(r["edge"]) >= 5]
    correct = [
        (actual[r["player_lookup"]] > r["line_value"])
        if r["recommendation"] == "OVER"
        else (actual[r["player_lookup"]] < r["line_value"])
        for r in rows
        if actual[r["player_lookup"]] != r["line_value"]
    ]
    errors = [abs(r["predicted_points"] - actual[r["player_lookup"]]) for r in rows]
    assert answer == [
        {
            "model_file_name": world.old.model_file_name,
            "predictions": len(rows),
            "hit_rate": round(100.0 * sum(correct) / len(rows), 1),
            "mae": round(sum(errors) / len(errors), 2),
            "first_game": GAME_DATE,
            "last_game": GAME_DATE,
        }
    ]
    assert len(rows) > 10
    assert all(r["predicted_points"] is None for r in predictions(app, "b-ou"))
