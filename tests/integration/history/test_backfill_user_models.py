"""Replay proves attribution for legacy rows written by models as users train them.

Four models are trained in the test the way teams train: a ``CatBoostRegressor`` with the
Poisson loss and ``cat_features=["opponent", "position"]``, one with RMSE whose category
is an integer column (``rest_days``), a Tweedie regressor and an OVER/UNDER
``CatBoostClassifier``; each on a pandas DataFrame with NaNs in a numeric column. A
legacy writer (no stamping, no execution log) stored what the user's own class answered:
points from ``CatBoostRegressor.predict`` (the exponent applied) or, for the classifier,
``predict_proba[:, OVER]`` in ``over_probability`` with ``predicted_points`` NULL; some
players have two lines (a sportsbook each), some rows name no book, some miss a number.
Its input was kept at ``batches/<batch_id>/input.jsonl`` or ``.csv``.

The ledger is imported from a deploy log (``attribution ledger import``); inside a
promotion's window each row has two candidates (the Poisson model and the RMSE one, or
the Tweedie model and the classifier), and replay must pick the one that reproduces it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from app_support import upload_model
from batches.support import csv_bytes, jsonl_bytes
from user_trained_models import (
    MISSING,
    OTHER_BOOK,
    Kind,
    UserModel,
    facts_for,
    recommendation_for_points,
    recommendation_for_probability,
    slate,
    train,
    user_frame,
)

from attribution.bootstrap import App
from attribution.cli.main import main
from attribution.history.backfill import LEDGER_INFERRED, REPLAY_VERIFIED
from attribution.model_card.card import ModelCard
from attribution.model_card.interface import CatBoostOutput, FeatureType, PredictionType
from attribution.ports import Row

from .support import assert_attributed, assert_unattributed

POINTS_SYSTEM = "user_points"
OU_SYSTEM = "user_ou"
# The deploy log: the RMSE and Tweedie models from Jan 10, Poisson and the classifier from
# Feb 2 22:00 UTC. The default ambiguity window is 30 minutes.
T0 = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)
T1 = datetime(2026, 2, 2, 22, 0, tzinfo=UTC)
DAY = date(2026, 2, 2)
NEXT_DAY = date(2026, 2, 3)
MINUTE = timedelta(minutes=1)
PLAYERS = 10
TWO_LINES = 3
ROWS = PLAYERS + TWO_LINES


@dataclass(frozen=True)
class Trained:
    poisson: UserModel
    rmse: UserModel
    tweedie: UserModel
    classifier: UserModel

    def all(self) -> dict[str, UserModel]:
        return {
            "poisson": self.poisson,
            "rmse": self.rmse,
            "tweedie": self.tweedie,
            "classifier": self.classifier,
        }


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    folder = tmp_path_factory.mktemp("user-models")

    def fit(kind: Kind, name: str, system_id: str, seed: int) -> UserModel:
        facts = facts_for(
            system_id,
            start=date(2025, 11, 1) + timedelta(days=seed),
            end=date(2026, 1, 31),
            trained_at=f"2026-02-01T0{seed}:00:00Z",
            over_under=kind is Kind.OVER_UNDER,
        )
        return train(kind, folder / name, facts=facts, seed=seed)

    return Trained(
        poisson=fit(Kind.POISSON, "points_poisson.cbm", POINTS_SYSTEM, 1),
        rmse=fit(Kind.RMSE_INT_CATEGORY, "points_rmse_rest_category.cbm", POINTS_SYSTEM, 2),
        tweedie=fit(Kind.TWEEDIE, "ou_tweedie_points.cbm", OU_SYSTEM, 3),
        classifier=fit(Kind.OVER_UNDER, "ou_classifier.cbm", OU_SYSTEM, 4),
    )


@dataclass
class UserHistory:
    app: App
    models: dict[str, UserModel]
    cards: dict[str, ModelCard]

    def legacy_batch(
        self,
        batch_id: str,
        *,
        made_by: str,
        created_at: datetime,
        keep: str = "jsonl",
        day: date = DAY,
        seed: int = 0,
        stored_in: str | None = None,
    ) -> dict[str, Row]:
        """What a legacy writer stored for ``made_by``'s answers on a slate, keyed by
        prediction id; ``stored_in`` overrides the column the value went to."""
        model = self.models[made_by]
        system_id = self.cards[made_by].system_id
        rows = slate(day, players=PLAYERS, seed=seed, two_lines=TWO_LINES)
        name = f"{self.app.settings.batch_inputs_prefix}{batch_id}/input.{keep}"
        encode = {"jsonl": jsonl_bytes, "csv": csv_bytes}[keep]
        self.app.models.write(name, encode(rows))
        values = model.predict(rows)  # the user's own CatBoost class
        column = stored_in or ("over_probability" if model.over_under else "predicted_points")
        written: list[Row] = []
        for row, value in zip(rows, values.tolist(), strict=True):
            book = row.get("sportsbook")
            line = float(row["line_value"])
            stored: Row = {
                "prediction_id": f"{batch_id}:{row['player_lookup']}:{line:g}:{book or '-'}",
                "batch_id": batch_id,
                "system_id": system_id,
                "game_date": day,
                "player_lookup": row["player_lookup"],
                "line_value": line,
                "sportsbook": book,
                "predicted_points": None,
                "over_probability": None,
                "run_mode": "OVERNIGHT",
                "created_at": created_at,
            }
            stored[column] = value
            if model.over_under:
                stored["recommendation"] = recommendation_for_probability(value)
            else:
                stored["edge"] = value - line
                stored["recommendation"] = recommendation_for_points(value, line)
            written.append(stored)
        assert len({r["prediction_id"] for r in written}) == len(written)
        self.app.warehouse.insert_rows("player_prop_predictions", written)
        return {str(r["prediction_id"]): r for r in written}

    def change(self, prediction_id: str, column: str, value: float | None) -> None:
        """A hand edit or a lossy copy of one stored value."""
        assert column in ("predicted_points", "over_probability")
        self.app.warehouse.execute(
            f"UPDATE player_prop_predictions SET {column} = @value "
            "WHERE prediction_id = @prediction_id",
            {"value": value, "prediction_id": prediction_id},
        )

    def row(self, prediction_id: str) -> Row:
        rows = self.app.warehouse.query(
            "SELECT * FROM player_prop_predictions WHERE prediction_id = @id",
            {"id": prediction_id},
        )
        assert len(rows) == 1, (prediction_id, rows)
        return rows[0]


def deploy_log(cards: Mapping[str, ModelCard], folder: Path) -> Path:
    path = folder / "deploy_history.csv"
    lines = ["system_id,model_file_name,active_from,by,note"]
    for key, system_id, at in (
        ("rmse", POINTS_SYSTEM, T0),
        ("tweedie", OU_SYSTEM, T0),
        ("poisson", POINTS_SYSTEM, T1),
        ("classifier", OU_SYSTEM, T1),
    ):
        lines.append(
            f"{system_id},{cards[key].model_file_name},"
            f"{at.isoformat().replace('+00:00', 'Z')},deploy-log,{key}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def history(
    app_factory: Any, trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> UserHistory:
    """The four models published through the bucket trigger; the deploy log imported."""
    app = app_factory()
    models = trained.all()
    cards = {key: upload_model(app, m.path, m.file_name) for key, m in models.items()}
    imported = run_json(capsys, "ledger", "import", str(deploy_log(cards, tmp_path)))
    assert imported == {"entries": 4, "imported": 4, "already_recorded": 0}
    return UserHistory(app=app, models=models, cards=cards)


def by_player(rows: Mapping[str, Row]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for prediction_id, row in sorted(rows.items()):
        grouped.setdefault(row["player_lookup"], []).append(prediction_id)
    return grouped


def assert_verified(history: UserHistory, rows: Mapping[str, Row], key: str) -> None:
    """Each row proven to be ``key``'s, its stored values untouched."""
    for prediction_id, written in rows.items():
        row = history.row(prediction_id)
        assert_attributed(row, history.cards[key], REPLAY_VERIFIED)
        for column in ("predicted_points", "over_probability", "line_value", "sportsbook"):
            assert row[column] == written[column], (prediction_id, column)


# --- the premise: cards that say how users' models are called ------------------------------


def test_the_cards_say_how_each_user_model_is_called(history: UserHistory) -> None:
    poisson, rmse = history.cards["poisson"], history.cards["rmse"]
    tweedie, classifier = history.cards["tweedie"], history.cards["classifier"]

    def categorical(card: ModelCard) -> list[str]:
        return [f.name for f in card.features if f.type is FeatureType.CATEGORICAL]

    assert categorical(poisson) == ["position", "opponent"]
    assert categorical(rmse) == ["rest_days", "opponent"]
    assert (poisson.prediction_type, poisson.catboost_output) == (
        PredictionType.POINTS,
        CatBoostOutput.EXPONENT,
    )
    assert tweedie.catboost_output is CatBoostOutput.EXPONENT
    assert rmse.catboost_output is CatBoostOutput.RAW_FORMULA_VAL
    assert classifier.prediction_type is PredictionType.OVER_PROBABILITY
    assert classifier.over_class == "OVER"
    assert classifier.class_names is not None and "UNDER" in classifier.class_names
    assert {c.system_id for c in (poisson, rmse)} == {POINTS_SYSTEM}
    assert {c.system_id for c in (tweedie, classifier)} == {OU_SYSTEM}
    # The exponent matters: Poisson's raw formula value is the log of its points.
    rows = slate(DAY, players=4, seed=0)
    user = history.models["poisson"]
    raw = user.model.predict(user_frame(user.model, rows), prediction_type="RawFormulaVal")
    np.testing.assert_allclose(np.exp(raw), user.predict(rows), rtol=1e-12)
    assert not np.allclose(raw, user.predict(rows))


# --- replay -------------------------------------------------------------------------------


def test_replay_proves_every_user_model_row_with_the_right_card(
    history: UserHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside the windows one candidate each; inside, two; replay (``attribution backfill
    --replay``) proves every row, points and probabilities alike, JSONL and CSV alike."""
    batches = {
        "poisson": history.legacy_batch(
            "pts-clear", made_by="poisson", created_at=T1 + timedelta(days=1), day=NEXT_DAY
        ),
        "classifier": history.legacy_batch(
            "ou-clear", made_by="classifier", created_at=T1 + timedelta(days=1), day=NEXT_DAY
        ),
    }
    window = {
        # After the promotion, kept as CSV; before it, by the model then active (JSONL).
        "poisson": history.legacy_batch(
            "pts-window-new", made_by="poisson", created_at=T1 + 10 * MINUTE, keep="csv", seed=1
        ),
        "rmse": history.legacy_batch(
            "pts-window-old", made_by="rmse", created_at=T1 - 10 * MINUTE, seed=2
        ),
        "classifier": history.legacy_batch(
            "ou-window-new", made_by="classifier", created_at=T1 + 5 * MINUTE, keep="csv", seed=3
        ),
        "tweedie": history.legacy_batch(
            "ou-window-old", made_by="tweedie", created_at=T1 - 5 * MINUTE, seed=4
        ),
    }
    # What the rows hold: two lines for some players (one at the same number from another
    # book), rows naming no book, missing numbers; the classifier's rows no points.
    sample = batches["classifier"]
    lines = by_player(sample)
    assert (
        sorted(len(ids) for ids in lines.values()) == [1] * (PLAYERS - TWO_LINES) + [2] * TWO_LINES
    )
    assert {r["sportsbook"] for r in sample.values()} == {"draftkings", OTHER_BOOK, None}
    assert all(r["predicted_points"] is None for r in sample.values())
    kept = history.app.models.read("batches/ou-clear/input.jsonl").decode()
    assert f'"{MISSING}": null' in kept and '"rest_days": ' in kept
    windowed = sorted(i for rows in window.values() for i in rows)
    everything = [*batches.values(), *window.values()]

    plain = run_json(capsys, "backfill")

    assert plain["by_method"] == {LEDGER_INFERRED: 2 * ROWS, "ambiguous": 4 * ROWS}
    assert set(plain["ambiguous_rows"]) <= set(windowed)
    assert plain["ambiguous"] == len(windowed)

    replayed = run_json(capsys, "backfill", "--replay")

    assert replayed["by_method"] == {REPLAY_VERIFIED: 6 * ROWS}
    assert replayed["unreproduced"] == replayed["ambiguous"] == 0
    assert replayed["by_model"] == {
        history.cards["poisson"].model_file_name: 2 * ROWS,
        history.cards["classifier"].model_file_name: 2 * ROWS,
        history.cards["rmse"].model_file_name: ROWS,
        history.cards["tweedie"].model_file_name: ROWS,
    }
    assert replayed["updated"] == 6 * ROWS
    for key, rows in batches.items():
        assert_verified(history, rows, key)
    for key, rows in window.items():
        assert_verified(history, rows, key)
    assert sum(len(rows) for rows in everything) == 6 * ROWS

    again = run_json(capsys, "backfill", "--replay")
    assert (again["considered"], again["updated"]) == (0, 0)  # proven rows are final


def test_a_row_whose_stored_value_was_changed_stays_unreproduced(history: UserHistory) -> None:
    """One changed prediction in each kind of batch: points outside and inside a window,
    a probability inside one. Those rows stay unstamped; their neighbours are proven."""
    clear = history.legacy_batch(
        "pts-clear", made_by="poisson", created_at=T1 + timedelta(days=1), day=NEXT_DAY
    )
    close = history.legacy_batch(
        "pts-window", made_by="poisson", created_at=T1 + MINUTE, keep="csv", seed=5
    )
    ou = history.legacy_batch("ou-window", made_by="classifier", created_at=T1 + MINUTE, seed=6)
    changed = {
        sorted(clear)[2]: ("predicted_points", 1e-4),
        sorted(close)[-1]: ("predicted_points", -0.5),
        sorted(ou)[4]: ("over_probability", 1e-4),
    }
    everything = {**clear, **close, **ou}
    for prediction_id, (column, delta) in changed.items():
        history.change(prediction_id, column, everything[prediction_id][column] + delta)

    summary = history.app.backfill().run(replay=True)

    assert sorted(summary.unreproduced) == sorted(changed)
    assert dict(summary.by_method) == {REPLAY_VERIFIED: 3 * ROWS - 3, "unreproduced": 3}
    assert summary.refuted == []  # never inferred, so nothing to refute
    for prediction_id in changed:
        assert_unattributed(history.row(prediction_id))
    for rows, key in ((clear, "poisson"), (close, "poisson"), (ou, "classifier")):
        assert_verified(history, {i: r for i, r in rows.items() if i not in changed}, key)


def test_classifier_rows_are_matched_on_over_probability_not_points(
    history: UserHistory,
) -> None:
    """A writer that put the classifier's probability in predicted_points, or a points
    model's points in over_probability, wrote rows no candidate reproduces: replay
    compares a probability with over_probability and points with predicted_points."""
    good = history.legacy_batch(
        "ou-good", made_by="classifier", created_at=T1 + timedelta(days=1), day=NEXT_DAY
    )
    misfiled = history.legacy_batch(
        "ou-misfiled",
        made_by="classifier",
        created_at=T1 + timedelta(days=1),
        day=NEXT_DAY,
        seed=7,
        stored_in="predicted_points",
    )
    points_as_probability = history.legacy_batch(
        "ou-points-misfiled",
        made_by="tweedie",
        created_at=T1 - MINUTE,
        seed=8,
        stored_in="over_probability",
    )
    in_window = history.legacy_batch(
        "ou-window", made_by="classifier", created_at=T1 + 2 * MINUTE, seed=9
    )
    # A player's two lines have two probabilities: swapping them must not pass.
    pairs = [ids for ids in by_player(in_window).values() if len(ids) == 2]
    first, second = next(
        ids for ids in pairs if in_window[ids[0]]["line_value"] != in_window[ids[1]]["line_value"]
    )
    a, b = in_window[first]["over_probability"], in_window[second]["over_probability"]
    assert abs(a - b) > 1e-3, (first, a, b)
    history.change(first, "over_probability", b)
    history.change(second, "over_probability", a)
    swapped = {first, second}

    summary = history.app.backfill().run(replay=True)

    never = sorted([*misfiled, *points_as_probability, *swapped])
    assert sorted(summary.unreproduced) == never
    assert dict(summary.by_method) == {
        REPLAY_VERIFIED: 2 * ROWS - 2,
        "unreproduced": 2 * ROWS + 2,
    }
    assert dict(summary.by_model) == {history.cards["classifier"].model_file_name: 2 * ROWS - 2}
    for prediction_id in never:
        assert_unattributed(history.row(prediction_id))
    assert_verified(history, good, "classifier")
    assert_verified(history, {i: r for i, r in in_window.items() if i not in swapped}, "classifier")


def test_a_replay_reads_categories_sent_as_text_in_a_csv_for_both_candidates(
    history: UserHistory,
) -> None:
    """In a CSV the window's candidates disagree on ``rest_days``: a number to the Poisson
    model, a category (trained on ints) to the RMSE one. Both must still reproduce their
    own rows from the very same kept file."""
    by_poisson = history.legacy_batch(
        "csv-new", made_by="poisson", created_at=T1 + 3 * MINUTE, keep="csv", seed=11
    )
    by_rmse = history.legacy_batch(
        "csv-old", made_by="rmse", created_at=T1 - 3 * MINUTE, keep="csv", seed=12
    )
    kept = history.app.models.read("batches/csv-old/input.csv").decode().splitlines()
    header = kept[0].split(",")
    assert "rest_days" in header and "sportsbook" in header
    first = dict(zip(header, kept[1].split(","), strict=True))
    assert first["rest_days"].isdigit() and first["opponent"].isalpha()
    assert any(",," in line or line.endswith(",") for line in kept[1:])  # blank cells

    summary = history.app.backfill().run(replay=True)

    assert dict(summary.by_method) == {REPLAY_VERIFIED: 2 * ROWS}
    assert_verified(history, by_poisson, "poisson")
    assert_verified(history, by_rmse, "rmse")


def test_the_users_predictions_differ_between_the_window_candidates(
    trained: Trained,
) -> None:
    """The premise of the window tests: the two candidates of each window never give the
    same number on these slates, so a replay match singles one out."""
    for seed in range(13):
        rows: Sequence[dict[str, Any]] = slate(DAY, players=PLAYERS, seed=seed)
        gap = np.abs(trained.poisson.predict(rows) - trained.rmse.predict(rows))
        assert gap.min() > 1e-4, seed
        probability = trained.classifier.predict(rows)
        assert ((probability > 0) & (probability < 1)).all()
