"""The verifier on an over/under classifier's system: graded on the hit rate of its picks,
its Brier score and log loss against the card's, never on MAE; several lines a player.

The figures are checked against NumPy over the stored probabilities and the loaded results,
with the picks made here from the probabilities by the break-even rule at -110.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from attribution.devtools.slates import slate_for
from attribution.devtools.training import train_model
from attribution.verification.outcome import Status

from .support import A_SPEC, DAY, World, check

SYSTEM = "catboost_ou"
PLAYERS = 120
EXTRA_LINES = 30
THRESHOLD = 0.524
# Model A's window and measured facts, as an over/under classifier of a system of its own.
OVER_UNDER = replace(A_SPEC, system_id=SYSTEM, over_under=True, rows=4000, iterations=60, seed=31)
# The same model's card promising a Brier score no over/under model reaches.
OVERPROMISED = replace(OVER_UNDER, extra_metadata={"expected_brier_score": "0.05"})


@pytest.fixture(scope="module")
def classifier_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("over-under-models")
    return {
        "honest": train_model(OVER_UNDER, folder / "catboost_ou_v1.cbm"),
        "overpromised": train_model(OVERPROMISED, folder / "catboost_ou_overpromised.cbm"),
    }


def run_day(world: World, path: Path, name: str, *, pushes: int = 0) -> list[dict[str, object]]:
    """Predict and grade DAY; the last ``pushes`` players (one line each) score their line."""
    card = world.upload(path, name)
    assert card.prediction_type is not None
    assert card.prediction_type.value == "over_probability"
    assert card.expected_mae is None and card.is_complete
    world.promote(card, system_id=SYSTEM)
    slate = slate_for(DAY, players=PLAYERS, extra_lines=EXTRA_LINES)
    world.predict(DAY, system_id=SYSTEM, rows=slate.rows)
    results = [
        {**result, "actual_points": row["line_value"]} if index >= PLAYERS - pushes else result
        for index, (result, row) in enumerate(zip(slate.results, slate.rows, strict=False))
    ]
    world.load_results(DAY, results)
    return results


def graded_by_hand(world: World, results: list[dict[str, object]]) -> dict[str, float]:
    actual = {r["player_lookup"]: float(r["actual_points"]) for r in results}  # type: ignore[arg-type]
    rows = world.predictions(DAY, system_id=SYSTEM)
    p = np.array([r["over_probability"] for r in rows], dtype=np.float64)
    line = np.array([r["line_value"] for r in rows], dtype=np.float64)
    points = np.array([actual[r["player_lookup"]] for r in rows], dtype=np.float64)
    decided = points != line
    over = points > line
    pick_over, pick_under = p >= THRESHOLD, 1.0 - p >= THRESHOLD
    picked = (pick_over | pick_under) & decided
    hits = (pick_over & over) | (pick_under & ~over)
    chance = np.where(over, p, 1.0 - p)
    return {
        "rows": float(len(rows)),
        "graded": float(decided.sum()),
        "picks": float(picked.sum()),
        "hit_rate": round(100.0 * hits[picked].sum() / picked.sum(), 1),
        "brier_score": float(np.mean((p[decided] - over[decided]) ** 2)),
        "log_loss": float(np.mean(-np.log(np.clip(chance[decided], 1e-15, None)))),
    }


def test_a_classifier_day_is_graded_on_picks_brier_and_log_loss(
    bare_world: World, classifier_files: dict[str, Path]
) -> None:
    world = bare_world
    results = run_day(world, classifier_files["honest"], "catboost_ou_v1.cbm")
    expected = graded_by_hand(world, results)

    verdict = world.verify(DAY, SYSTEM)

    coverage = check(verdict, "coverage")
    assert coverage.status is Status.PASS, coverage.summary  # no MAE to carry: still attributed
    assert coverage.figures["attributed"] == PLAYERS + EXTRA_LINES
    completeness = check(verdict, "completeness")
    assert completeness.figures["rows_expected"] == PLAYERS + EXTRA_LINES  # lines, not players
    assert completeness.status is Status.PASS

    performance = check(verdict, "performance")
    (figures,) = performance.figures["models"]
    assert figures["prediction_type"] == "over_probability"
    assert "mae" not in figures and "high_edge_picks" not in figures
    assert figures["picks"] == expected["picks"]
    assert figures["hit_rate"] == expected["hit_rate"]
    assert figures["brier_score"] == pytest.approx(expected["brier_score"], abs=5e-5)
    assert figures["log_loss"] == pytest.approx(expected["log_loss"], abs=5e-5)
    card = world.app.registry.resolve("catboost_ou_v1.cbm")
    assert figures["expected_brier_score"] == card.expected_brier_score is not None
    assert figures["expected_log_loss"] == card.expected_log_loss is not None
    low, high = figures["hit_rate_interval"]
    assert low <= expected["hit_rate"] <= high
    assert performance.status is Status.PASS, performance.details
    assert "MAE" not in " ".join(performance.details)
    assert verdict.verdict is Status.PASS


def test_a_push_is_not_graded_in_the_figures_nor_in_the_text(
    bare_world: World, classifier_files: dict[str, Path]
) -> None:
    world = bare_world
    results = run_day(world, classifier_files["honest"], "catboost_ou_v1.cbm", pushes=3)
    expected = graded_by_hand(world, results)
    assert expected["graded"] <= expected["rows"] - 3  # the slate may push on its own too

    performance = check(world.verify(DAY, SYSTEM), "performance")

    (figures,) = performance.figures["models"]
    assert figures["graded"] == expected["graded"]
    (line,) = performance.details
    assert f") on {expected['graded']:.0f} graded" in line


def test_a_classifier_worse_than_its_cards_brier_score_is_flagged(
    bare_world: World, classifier_files: dict[str, Path]
) -> None:
    world = bare_world
    run_day(world, classifier_files["overpromised"], "catboost_ou_overpromised.cbm")

    verdict = world.verify(DAY, SYSTEM)

    performance = check(verdict, "performance")
    assert performance.status is Status.PARTIAL
    assert any("Brier score over the card's" in line for line in performance.details)
    assert performance.next_step
    looser = world.verify(DAY, SYSTEM, env={"VERIFY_BRIER_TOLERANCE": "0.5"})
    assert check(looser, "performance").status is Status.PASS
