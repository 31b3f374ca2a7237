"""Input drift as a team meets it: a Poisson regressor and an OVER/UNDER classifier trained
on DataFrames with categories and missing numbers, each profiled with the library's helper
before ``save_model``, uploaded and run with the CLI. One day is like training; on another
the feature job sends minutes in seconds; on another a new team code appears for a third of
the slate; on another a column goes blank for a third of it.

The verifier's PSI and Jensen-Shannon figures are held to a computation in plain NumPy (and
SciPy's ``jensenshannon``) from the raw training rows and the raw slate, never to the
product's code: deciles by ``np.quantile``, bins by ``np.digitize``, a zero share counted as
0.0001 as the product documents.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from user_trained_models import FEATURES, MISSING, Kind, UserModel, facts_for, games, slate, train

from attribution.bootstrap import App, build_app, use_app
from attribution.cli.main import main
from attribution.config import Settings
from attribution.profiles.building import embed_profile
from attribution.verification.outcome import Status

SYSTEM = "points_props"
TRAINING_ROWS = 3000
PLAYERS = 400
LIKE_TRAINING = date(2026, 2, 1)
IN_SECONDS = date(2026, 2, 2)
NEW_TEAM = date(2026, 2, 3)
BLANK_THIRD = date(2026, 2, 4)
NEW_TEAM_CODE = "SEA"
ZERO_SHARE = 1e-4


@dataclass(frozen=True)
class World:
    app: App
    champion: UserModel
    challenger: UserModel
    training: pd.DataFrame
    slates: dict[date, list[dict[str, Any]]]
    home: Path


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def profiled(kind: Kind, folder: Path, name: str, seed: int) -> tuple[UserModel, pd.DataFrame]:
    """A user's model, profiled on the frame it was trained on and saved again."""
    facts = facts_for(
        SYSTEM,
        start=date(2025, 11, 1),
        end=date(2026, 1, 20),
        trained_at="2026-01-21T00:00:00Z",
        over_under=kind is Kind.OVER_UNDER,
    )
    model = train(kind, folder / name, facts=facts, seed=seed, rows=TRAINING_ROWS)
    frame = pd.DataFrame(games(TRAINING_ROWS, seed=seed))[list(FEATURES[kind])]
    embed_profile(model.model, frame)
    model.model.save_model(str(model.path))
    return model, frame


def day_slate(day: date) -> list[dict[str, Any]]:
    rows = slate(day, players=PLAYERS, seed=day.toordinal() % 10_000)
    for index, row in enumerate(rows):
        if day == IN_SECONDS and row[MISSING] is not None:
            row[MISSING] = row[MISSING] * 60
        if day == NEW_TEAM and index % 3 == 0:
            row["opponent"] = NEW_TEAM_CODE
        if day == BLANK_THIRD and index % 3 == 0:
            row["points_avg_last_5"] = ""
    return rows


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("drift_models")
    champion, training = profiled(Kind.POISSON, folder, "points_props_poisson.cbm", seed=1)
    challenger, _ = profiled(Kind.OVER_UNDER, folder, "points_props_over_under.cbm", seed=2)
    home = tmp_path_factory.mktemp("drift_home")
    app = build_app(Settings(home=home))
    use_app(app)
    try:
        for model in (champion, challenger):
            assert cli("upload", str(model.path))[0] == 0
        for command, model, at in (
            ("promote", champion, "2026-01-25T00:00:00Z"),
            ("challenge", challenger, "2026-01-26T00:00:00Z"),
        ):
            assert cli(command, SYSTEM, model.file_name, "--at", at)[0] == 0
        slates = {}
        for day in (LIKE_TRAINING, IN_SECONDS, NEW_TEAM, BLANK_THIRD):
            slates[day] = day_slate(day)
            path = home / f"slate-{day}.csv"
            pd.DataFrame(slates[day]).to_csv(path, index=False)
            code, out = cli("predict", "--system-id", SYSTEM, "--game-date", str(day),
                            "--input", str(path))  # fmt: skip
            assert code == 0, out
        yield World(app, champion, challenger, training, slates, home)
    finally:
        use_app(None)


@pytest.fixture(autouse=True)
def _installed(world: World) -> None:
    use_app(world.app)


def numpy_psi_and_js(training: np.ndarray, day: np.ndarray) -> tuple[float, float]:
    """Deciles of training's present values; bins closed on the right; missing last."""
    edges = np.unique(np.quantile(training[~np.isnan(training)], np.arange(1, 10) / 10))

    def shares(values: np.ndarray) -> np.ndarray:
        present = values[~np.isnan(values)]
        counts = np.bincount(np.digitize(present, edges, right=True), minlength=len(edges) + 1)
        return np.append(counts, np.isnan(values).sum()) / len(values)

    expected, actual = shares(training), shares(day)
    e, a = np.maximum(expected, ZERO_SHARE), np.maximum(actual, ZERO_SHARE)
    return float(np.sum((a - e) * np.log(a / e))), float(jensenshannon(expected, actual, base=2))


def numbers(rows: Sequence[dict[str, Any]], name: str) -> np.ndarray:
    return np.array([np.nan if r[name] in (None, "") else float(r[name]) for r in rows])


def drift_check(world: World, day: date) -> Any:
    (verdict,) = world.app.verifier().verify(day, SYSTEM)
    (check,) = [c for c in verdict.checks if c.name == "drift"]
    return check


def report(day: date) -> dict[str, Any]:
    code, out = cli("--json", "report", "drift", "--system-id", SYSTEM, "--game-date", str(day))
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def features_of(document: dict[str, Any], role: str = "champion") -> dict[str, dict[str, Any]]:
    (model,) = [m for m in document["models"] if m["model_role"] == role]
    return {f["feature"]: f for f in model["features"] if f["kind"] != "prediction"}


def test_a_day_like_training_passes(world: World) -> None:
    check = drift_check(world, LIKE_TRAINING)
    assert check.status is Status.PASS, check.summary
    figures = features_of(report(LIKE_TRAINING))
    assert all(f["status"] == "PASS" for f in figures.values()), figures


def test_minutes_in_seconds_flag_that_feature_alone_with_numpys_psi(world: World) -> None:
    check = drift_check(world, IN_SECONDS)
    assert check.status is Status.FAIL
    assert check.details[0].startswith(MISSING)
    figures = features_of(report(IN_SECONDS))
    flagged = {name for name, f in figures.items() if f["status"] != "PASS"}
    assert flagged == {MISSING}
    moved_inputs = check.summary.split("inputs moved from training: ")[1].split(";")[0]
    assert moved_inputs == f"{MISSING} (PSI {figures[MISSING]['psi']:.2f})"
    psi, js = numpy_psi_and_js(
        world.training[MISSING].to_numpy(dtype=float), numbers(world.slates[IN_SECONDS], MISSING)
    )
    assert psi > 1.0
    assert figures[MISSING]["psi"] == pytest.approx(psi, abs=1e-3)
    assert figures[MISSING]["js_distance"] == pytest.approx(js, abs=1e-3)
    # Most of the day's values are above training's top decile edge.
    assert figures[MISSING]["moved_bins"][0]["label"].startswith(">")


def test_every_numeric_feature_agrees_with_numpy_on_a_normal_day(world: World) -> None:
    figures = features_of(report(LIKE_TRAINING))
    for name in ("points_avg_last_5", MISSING, "rest_days"):
        psi, js = numpy_psi_and_js(
            world.training[name].to_numpy(dtype=float), numbers(world.slates[LIKE_TRAINING], name)
        )
        assert figures[name]["psi"] == pytest.approx(psi, abs=1e-3), name
        assert figures[name]["js_distance"] == pytest.approx(js, abs=1e-3), name


def test_a_new_team_code_is_named_with_its_share_not_in_training(world: World) -> None:
    check = drift_check(world, NEW_TEAM)
    assert check.status is Status.FAIL
    figures = features_of(report(NEW_TEAM))
    opponent = figures["opponent"]
    sent = [r["opponent"] for r in world.slates[NEW_TEAM]]
    assert opponent["unlisted_share"] == pytest.approx(sent.count(NEW_TEAM_CODE) / len(sent), 1e-3)
    assert opponent["training_other_share"] == 0  # every training team is in the profile
    assert {n for n, f in figures.items() if f["status"] != "PASS"} == {"opponent"}


def test_a_column_blank_for_a_third_of_the_slate_shows_as_missing(world: World) -> None:
    figures = features_of(report(BLANK_THIRD))
    feature = figures["points_avg_last_5"]
    sent = numbers(world.slates[BLANK_THIRD], "points_avg_last_5")
    assert feature["missing_share"] == pytest.approx(np.isnan(sent).mean(), abs=1e-4)
    assert feature["training_missing_share"] == 0
    assert feature["status"] == "FAIL"


def test_the_prediction_spread_is_the_models_own_on_training_rows(world: World) -> None:
    """The profile's prediction bins: CatBoost's own predict on the training frame."""
    card = world.app.registry.resolve(world.champion.file_name)
    assert card.training_profile is not None and card.training_profile.prediction is not None
    own = np.asarray(world.champion.model.predict(world.training), dtype=float)
    edges = np.unique(np.quantile(own, np.arange(1, 10) / 10))
    assert card.training_profile.prediction.edges == pytest.approx(tuple(edges), rel=1e-12)


def test_the_challenger_is_reported_and_never_judged(world: World) -> None:
    document = report(IN_SECONDS)
    challenger = features_of(document, "challenger")
    assert challenger[MISSING]["status"] == "FAIL"
    check = drift_check(world, IN_SECONDS)
    assert world.champion.file_name in check.summary
    assert world.challenger.file_name not in check.summary


def test_a_redelivered_batch_counts_nothing_twice(world: World) -> None:
    before = report(LIKE_TRAINING)
    path = world.home / f"slate-{LIKE_TRAINING}.csv"
    (batch,) = world.app.warehouse.query(
        "SELECT DISTINCT batch_id FROM input_profile_counts WHERE game_date = @d",
        {"d": LIKE_TRAINING},
    )
    code, out = cli("predict", "--system-id", SYSTEM, "--game-date", str(LIKE_TRAINING),
                    "--input", str(path), "--batch-id", batch["batch_id"])  # fmt: skip
    assert code == 0, out
    assert report(LIKE_TRAINING) == before


def test_the_report_prints_every_feature(world: World) -> None:
    code, out = cli("report", "drift", "--system-id", SYSTEM, "--game-date", str(IN_SECONDS))
    assert code == 0
    assert "points_props_poisson.cbm (champion)" in out
    for name in ("opponent", "position", "points_avg_last_5", MISSING, "rest_days", "prediction"):
        assert name in out
