"""Models as teams train them, batches as teams send them, checked against CatBoost itself.

Each team trains its own CatBoost model on a pandas DataFrame (categorical ``opponent``,
``position`` and an integer-coded ``arena_zone``, gaps in ``minutes_avg_last_5``, the line
itself as the ``line_value`` feature), declares its facts in the model's metadata, uploads
it with ``attribution upload`` and promotes it with ``attribution promote``. Then it sends
tonight's slate (inline, as a JSONL claim check, or as a spreadsheet's CSV through
``attribution predict``) and expects every row its model can predict to hold exactly what
``CatBoostRegressor.predict`` or ``CatBoostClassifier.predict_proba(...)[:, over]`` says
for that row, and every other row in ``prediction_rejects`` with a reason naming the
feature. Results loaded with ``attribution results`` are graded by ``prediction_accuracy``.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attribution.batches.request import ModelPin
from attribution.bootstrap import App, build_app, use_app
from attribution.cli.main import main
from attribution.config import Settings
from attribution.model_card.card import ModelCard, card_from_json
from attribution.ports import Row

from .support import (
    GAME_DATE,
    claim_check,
    dead_letters,
    log_rows,
    predictions,
    publish,
    query,
    rejects,
    request,
    the_log,
)
from .user_models import (
    BOOL_FEATURE,
    MISSING_TOKEN,
    SOMETIMES_MISSING,
    TEXT_FEATURE,
    Case,
    UserModel,
    catboost_says,
    expectation,
    slate_cases,
    spreadsheet_csv,
    train_all,
    user_frame,
)

POINTS_MODELS = (
    "rmse",
    "mae",
    "quantile",
    "poisson",
    "tweedie",
    "text",
    "forbidden",
    "cat_token",
    "bool_category",
)
CLASSIFIERS = ("over_int", "over_bool", "over_string", "over_yes_no", "over_soft")
UNSERVABLE = {  # what the card must say about why, in words a team can act on
    "multiclass": ("MultiClass", "multiclass"),
    "yetirank": ("YetiRank", "ranks rows within groups"),
    "multirmse": ("MultiRMSE", "several values per row"),
    "multiquantile": ("MultiQuantile", "several values per row"),
    "uncertainty": ("RMSEWithUncertainty", "several values per row"),
    "embedding": ("shot_profile", "embedding features"),
    "classes_ab": ("no class is named OVER", "over_class"),
}
MIN_EDGE = 1.0
THRESHOLD = 0.524
SPREADSHEET_COLUMNS = (  # the order the team's sheet has, not the model's
    "player_lookup",
    "sportsbook",
    "line_value",
    "opponent",
    "position",
    "arena_zone",
    "points_avg_last_10",
    "minutes_avg_last_5",
    "usage_rate",
    TEXT_FEATURE,
    BOOL_FEATURE,
)


# ---------------------------------------------------------------- the teams' world


@dataclass(frozen=True)
class Teams:
    app: App
    models: dict[str, UserModel]
    cards: dict[str, ModelCard]


def cli(*argv: str) -> tuple[int, str]:
    """Run ``attribution ARGV`` in-process on the installed App; exit code and stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, UserModel]:
    return train_all(tmp_path_factory.mktemp("team_models"))


@pytest.fixture(scope="module")
def teams(
    tmp_path_factory: pytest.TempPathFactory, trained: dict[str, UserModel]
) -> Iterator[Teams]:
    """One embedded App; every team's model uploaded and promoted with the CLI."""
    app = build_app(Settings(home=tmp_path_factory.mktemp("team_home"), model_cache_size=32))
    use_app(app)
    cards: dict[str, ModelCard] = {}
    try:
        for key, model in trained.items():
            code, out = cli("--json", "upload", str(model.path))
            assert code == 0, out
            cards[key] = card_from_json(json.dumps(json.loads(out)["card"]))
            code, out = cli("promote", model.system_id, model.file_name, "--by", key)
            assert code == 0 and out.startswith(f"promoted {model.file_name}"), out
        yield Teams(app, trained, cards)
    finally:
        use_app(None)
        app.warehouse.close()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _teams_app(teams: Teams) -> None:
    use_app(teams.app)  # tests/conftest.py clears the process App before each test


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return slate_cases()


def rows_of(cases: Sequence[Case]) -> list[dict[str, Any]]:
    return [dict(c.row) for c in cases]


# ---------------------------------------------------------------- the checks a team makes


def by_line(rows: Sequence[Row]) -> dict[tuple[str, float, str | None], Row]:
    keyed = {(r["player_lookup"], r["line_value"], r["sportsbook"]): r for r in rows}
    assert len(keyed) == len(rows), "two stored rows for one player, line and sportsbook"
    return keyed


def points_recommendation(edge: float) -> str:
    return "PASS" if abs(edge) < MIN_EDGE else "OVER" if edge > 0 else "UNDER"


def probability_recommendation(p: float, threshold: float = THRESHOLD) -> str:
    return "OVER" if p >= threshold else "UNDER" if 1.0 - p >= threshold else "PASS"


def assert_as_catboost_says(
    app: App, batch_id: str, model: UserModel, cases: Sequence[Case]
) -> dict[tuple[str, float, str | None], Row]:
    """Every predictable row written with CatBoost's own number; every other one rejected
    with a reason naming what is wrong. The stored rows by (player, line, sportsbook)."""
    expected = expectation(model, cases)
    log = the_log(app, batch_id)
    stored = by_line(predictions(app, batch_id))
    assert sorted(stored, key=str) == sorted((c.key for c in expected.good), key=str), log["error"]

    wanted = catboost_says(model, [c.row for c in expected.good])
    lines = np.array([c.row["line_value"] for c in expected.good], dtype=np.float64)
    rows = [stored[c.key] for c in expected.good]
    if model.kind == "over":
        got = np.array([r["over_probability"] for r in rows], dtype=np.float64)
        assert all(r["predicted_points"] is None and r["edge"] is None for r in rows)
        picks = [probability_recommendation(p) for p in wanted]
    else:
        got = np.array([r["predicted_points"] for r in rows], dtype=np.float64)
        assert all(r["over_probability"] is None for r in rows)
        edges = np.array([r["edge"] for r in rows], dtype=np.float64)
        np.testing.assert_allclose(edges, wanted - lines, rtol=1e-9, atol=1e-12)
        picks = [points_recommendation(e) for e in wanted - lines]
    np.testing.assert_allclose(got, wanted, rtol=1e-9, atol=0)
    assert [r["recommendation"] for r in rows] == picks
    assert {r["model_file_name"] for r in rows} == {model.file_name}

    recorded = {r["row_number"]: r for r in rejects(app, batch_id)}
    assert sorted(recorded) == sorted(expected.rejected)
    for number, reason in expected.rejected.items():
        assert reason in recorded[number]["reason"], (number, recorded[number]["reason"])

    assert (log["rows_requested"], log["rows_written"], log["rows_rejected"]) == (
        len(cases),
        len(expected.good),
        len(expected.rejected),
    )
    assert log["status"] == ("partial" if expected.rejected else "success")
    return stored


# ---------------------------------------------------------------- cards

CALLING: dict[str, tuple[str, str, tuple[str, ...] | None, str | None]] = {
    "rmse": ("points", "RawFormulaVal", None, None),
    "mae": ("points", "RawFormulaVal", None, None),
    "quantile": ("points", "RawFormulaVal", None, None),
    "poisson": ("points", "Exponent", None, None),
    "tweedie": ("points", "Exponent", None, None),
    "text": ("points", "RawFormulaVal", None, None),
    "forbidden": ("points", "RawFormulaVal", None, None),
    "cat_token": ("points", "RawFormulaVal", None, None),
    "bool_category": ("points", "RawFormulaVal", None, None),
    "over_int": ("over_probability", "Probability", ("0", "1"), "1"),
    "over_bool": ("over_probability", "Probability", ("false", "true"), "true"),
    "over_string": ("over_probability", "Probability", ("OVER", "UNDER"), "OVER"),
    "over_yes_no": ("over_probability", "Probability", ("no", "yes"), "yes"),
    # probabilistic targets name no classes: column 1 is the probability of the target
    "over_soft": ("over_probability", "Probability", None, None),
}


@pytest.mark.parametrize("key", [*POINTS_MODELS, *CLASSIFIERS])
def test_the_card_says_how_to_call_the_model(teams: Teams, key: str) -> None:
    model, card = teams.models[key], teams.cards[key]
    kinds = {name: "numeric" for name in model.features}
    kinds |= {name: "categorical" for name in model.categorical}
    kinds |= {name: "text" for name in model.text}
    assert [(f.name, f.index, f.type.value) for f in card.features] == [
        (name, index, kinds[name]) for index, name in enumerate(model.features)
    ]
    assert card.feature_names == model.features
    assert card.nan_mode == ("Forbidden" if model.forbids_nan else "Min")  # CatBoost's default
    prediction_type, output, classes, over = CALLING[key]
    assert card.servable, card.unservable_reason
    assert card.prediction_type is not None and card.catboost_output is not None
    assert (card.prediction_type.value, card.catboost_output.value) == (prediction_type, output)
    assert (card.class_names or None, card.over_class) == (classes, over)
    assert card.categorical_missing_value == model.missing_token
    assert (card.servable, card.unservable_reason) == (True, None)
    assert card.system_id == model.system_id and card.status.value == "complete"
    assert (card.training_start_date, card.training_end_date) == (
        date(2025, 10, 21),
        date(2026, 2, 15),
    )
    assert (card.expected_mae, card.expected_hit_rate) == (4.4, 55.5)
    if classes is not None:  # the classes in predict_proba's column order, as CatBoost has them
        assert [str(c).lower() for c in model.model.classes_] == [c.lower() for c in classes]
    if model.kind == "over":
        assert card.over_class_index == list(model.model.classes_).index(model.over_label)


@pytest.mark.parametrize("key", list(UNSERVABLE))
def test_an_unservable_model_gets_a_card_saying_why_and_its_batch_fails(
    teams: Teams, cases: list[Case], key: str
) -> None:
    app, model, card = teams.app, teams.models[key], teams.cards[key]
    assert card.servable is False, (
        f"{model.model.get_params().get('loss_function')} is carded servable as "
        f"{card.prediction_type}/{card.catboost_output}"
    )
    assert card.unservable_reason is not None
    for words in UNSERVABLE[key]:
        assert words in card.unservable_reason, card.unservable_reason
    assert card.prediction_type is None and card.catboost_output is None

    batch_id = f"unservable-{key}"
    before = len(dead_letters(app))
    delivery = publish(app, request(batch_id, rows_of(cases[:8]), system_id=model.system_id))
    assert delivery.ok and delivery.attempts == 1  # permanent: acknowledged, not retried

    log = the_log(app, batch_id)
    assert log["status"] == "failed" and log["rows_written"] == 0
    assert log["error"].startswith("unservable_model: ")
    assert card.unservable_reason in log["error"]
    letters = dead_letters(app)[before:]
    assert [(d["source"], d["error_code"]) for d in letters] == [
        ("prediction_batch", "unservable_model")
    ]
    assert card.unservable_reason in letters[0]["error"]
    assert predictions(app, batch_id) == [] and rejects(app, batch_id) == []


def test_an_unservable_model_pinned_by_hash_fails_the_same_way(
    teams: Teams, cases: list[Case]
) -> None:
    app, model, card = teams.app, teams.models["multirmse"], teams.cards["multirmse"]
    pin = ModelPin(model_sha256=card.model_sha256)
    delivery = publish(
        app, request("unservable-pinned", rows_of(cases[:4]), system_id=model.system_id, pin=pin)
    )
    assert delivery.ok
    log = the_log(app, "unservable-pinned")
    assert log["status"] == "failed" and log["error"].startswith("unservable_model: ")
    assert predictions(app, "unservable-pinned") == []


# ---------------------------------------------------------------- points models


@pytest.mark.parametrize("key", POINTS_MODELS)
def test_a_points_model_writes_what_its_regressor_predicts(
    teams: Teams, cases: list[Case], key: str
) -> None:
    app, model = teams.app, teams.models[key]
    batch_id = f"inline-{key}"
    delivery = publish(app, request(batch_id, rows_of(cases), system_id=model.system_id))
    assert delivery.ok and delivery.attempts == 1
    stored = assert_as_catboost_says(app, batch_id, model, cases)
    assert len(stored) >= 30


@pytest.mark.parametrize("key", ["poisson", "tweedie"])
def test_poisson_and_tweedie_are_written_as_points_not_log_points(
    teams: Teams, cases: list[Case], key: str
) -> None:
    app, model = teams.app, teams.models[key]
    batch_id = f"exponent-{key}"
    good = [c for c in cases[:9] if c.problem is None and not c.missing_category]
    assert publish(app, request(batch_id, rows_of(good), system_id=model.system_id)).ok
    stored = by_line(predictions(app, batch_id))
    written = np.array([stored[c.key]["predicted_points"] for c in good])
    raw = model.model.predict(
        user_frame(model, [c.row for c in good]), prediction_type="RawFormulaVal"
    )
    np.testing.assert_allclose(written, np.exp(raw), rtol=1e-9, atol=0)
    assert not np.allclose(written, raw)
    assert (written > 0).all()


def test_nan_mode_forbidden_rejects_rows_with_a_missing_number(
    teams: Teams, cases: list[Case]
) -> None:
    app, model = teams.app, teams.models["forbidden"]
    missing = [n for n, c in enumerate(cases) if c.missing_number]
    assert len(missing) == 2  # one null, one row without the key at all
    batch_id = "forbidden-gaps"
    assert publish(app, request(batch_id, rows_of(cases), system_id=model.system_id)).ok
    recorded = {r["row_number"]: r["reason"] for r in rejects(app, batch_id)}
    for number in missing:
        assert SOMETIMES_MISSING in recorded[number] and "Forbidden" in recorded[number]
    players = {r["player_lookup"] for r in predictions(app, batch_id)}
    assert not players & {cases[n].row["player_lookup"] for n in missing}

    # the RMSE model of the same data takes the same rows, with NaN for the gap
    rmse = teams.models["rmse"]
    assert publish(app, request("nan-gaps", rows_of(cases), system_id=rmse.system_id)).ok
    written = by_line(predictions(app, "nan-gaps"))
    for number in missing:
        case = cases[number]
        assert written[case.key]["predicted_points"] == pytest.approx(
            float(catboost_says(rmse, [case.row])[0]), rel=1e-9, abs=0
        )


def test_a_model_declaring_cat_missing_value_predicts_missing_categories_as_the_token(
    teams: Teams, cases: list[Case]
) -> None:
    app, model = teams.app, teams.models["cat_token"]
    gaps = [c for c in cases if c.missing_category]
    assert {c.missing_category for c in gaps} == {"opponent", "position"}
    batch_id = "token-gaps"
    assert publish(app, request(batch_id, rows_of(gaps), system_id=model.system_id)).ok
    stored = by_line(predictions(app, batch_id))
    assert len(stored) == len(gaps)
    for case in gaps:
        feature = str(case.missing_category)
        as_token = float(catboost_says(model, [{**case.row, feature: MISSING_TOKEN}])[0])
        assert stored[case.key]["predicted_points"] == pytest.approx(as_token, rel=1e-9, abs=0)
        # the token is a category the model learned, not just any unseen text
        unseen = float(catboost_says(model, [{**case.row, feature: "never seen"}])[0])
        assert unseen != pytest.approx(as_token, rel=1e-9)
    assert rejects(app, batch_id) == []


# ---------------------------------------------------------------- over/under classifiers


@pytest.mark.parametrize("key", CLASSIFIERS)
def test_a_classifier_writes_the_over_probability_of_predict_proba(
    teams: Teams, cases: list[Case], key: str
) -> None:
    app, model = teams.app, teams.models[key]
    batch_id = f"inline-{key}"
    assert publish(app, request(batch_id, rows_of(cases), system_id=model.system_id)).ok
    stored = assert_as_catboost_says(app, batch_id, model, cases)
    probabilities = [r["over_probability"] for r in stored.values()]
    assert all(0.0 < p < 1.0 for p in probabilities)
    # The pick by the break-even rule at -110, from the probabilities CatBoost gave.
    for row in stored.values():
        p = row["over_probability"]
        side = "OVER" if p >= 0.524 else "UNDER" if 1.0 - p >= 0.524 else "PASS"
        assert row["recommendation"] == side


def test_the_over_class_is_the_over_column_not_the_second_one(
    teams: Teams, cases: list[Case]
) -> None:
    """The labels sort as ["OVER", "UNDER"]: the OVER is predict_proba's first column."""
    app, model = teams.app, teams.models["over_string"]
    assert list(model.model.classes_) == ["OVER", "UNDER"]
    good = [c for c in cases[:12] if c.problem is None and not c.missing_category]
    assert publish(app, request("over-column", rows_of(good), system_id=model.system_id)).ok
    stored = by_line(predictions(app, "over-column"))
    proba = model.model.predict_proba(user_frame(model, [c.row for c in good]))
    written = np.array([stored[c.key]["over_probability"] for c in good])
    np.testing.assert_allclose(written, proba[:, 0], rtol=1e-9, atol=0)
    assert not np.allclose(written, proba[:, 1])


def test_the_threshold_setting_moves_the_pass_band(
    app_factory: Any, trained: dict[str, UserModel], cases: list[Case]
) -> None:
    from app_support import upload_model

    app = app_factory(over_probability_threshold=0.6)
    model = trained["over_int"]
    app.ledger.promote(model.system_id, upload_model(app, model.path, model.file_name))
    good = [c for c in cases if c.problem is None and not c.missing_category]
    assert publish(app, request("threshold", rows_of(good), system_id=model.system_id)).ok
    stored = by_line(predictions(app, "threshold"))
    wanted = catboost_says(model, [c.row for c in good])
    assert [stored[c.key]["recommendation"] for c in good] == [
        probability_recommendation(p, 0.6) for p in wanted
    ]
    passes = sum(stored[c.key]["recommendation"] == "PASS" for c in good)
    assert passes == sum(0.4 < p < 0.6 for p in wanted)
    assert passes > sum(1 - THRESHOLD < p < THRESHOLD for p in wanted)  # wider than at 0.524


# ---------------------------------------------------------------- lines, books, repeats


@pytest.mark.parametrize("key", ["over_string", "rmse"])
def test_every_line_of_a_player_is_predicted_at_its_own_line(
    teams: Teams, cases: list[Case], key: str
) -> None:
    app, model = teams.app, teams.models[key]
    base = cases[0].row
    lines = [(8.5, "DK"), (14.5, "DK"), (14.5, "FD"), (14.5, None), (22.5, "FD"), (30.5, "MGM")]
    rows = [dict(base, line_value=line, sportsbook=book) for line, book in lines]
    rows.append(dict(rows[1]))  # the DK 14.5 again: a repeat, rejected
    batch_id = f"lines-{key}"
    assert publish(app, request(batch_id, rows, system_id=model.system_id)).ok

    written = predictions(app, batch_id)
    assert len(written) == len(lines)
    stored = by_line(written)
    assert sorted(stored, key=str) == sorted(
        ((base["player_lookup"], line, book) for line, book in lines), key=str
    )
    column = "over_probability" if model.kind == "over" else "predicted_points"
    wanted = catboost_says(model, rows[: len(lines)])
    got = np.array([stored[(base["player_lookup"], line, book)][column] for line, book in lines])
    np.testing.assert_allclose(got, wanted, rtol=1e-9, atol=0)
    assert len(set(np.round(wanted, 12))) > 1  # the line is a feature: it moves the number
    assert len({r["prediction_id"] for r in written}) == len(lines)
    recorded = rejects(app, batch_id)
    assert [r["row_number"] for r in recorded] == [len(lines)]
    assert "the same player, line and sportsbook" in recorded[0]["reason"]


# ---------------------------------------------------------------- categories


ZONE_SPELLINGS: dict[str, Callable[[int], int | str]] = {
    "ints": lambda zone: zone,
    "floats": float,
}


@pytest.mark.parametrize("spelling", list(ZONE_SPELLINGS))
def test_a_float_category_is_rejected_naming_the_feature(
    teams: Teams, cases: list[Case], spelling: str
) -> None:
    """CatBoost refuses 2.5 as a category; the integers around it (sent as ints, or as the
    whole floats a column with a fraction in it makes of them) are categories and are
    predicted as CatBoost predicts them."""
    app, model = teams.app, teams.models["rmse"]
    good = [c for c in cases[:10] if c.problem is None and not c.missing_category]
    spell = ZONE_SPELLINGS[spelling]
    rows = [dict(c.row, arena_zone=spell(c.row["arena_zone"])) for c in good]
    rows.append(dict(cases[22].row, arena_zone=2.5))
    rows.append(dict(cases[23].row, arena_zone=None))
    batch_id = f"float-category-{spelling}"
    assert publish(app, request(batch_id, rows, system_id=model.system_id)).ok

    recorded = {r["row_number"]: r["reason"] for r in rejects(app, batch_id)}
    assert sorted(recorded) == [len(rows) - 2, len(rows) - 1], recorded
    assert "arena_zone" in recorded[len(rows) - 2] and "2.5" in recorded[len(rows) - 2]
    assert "categorical feature arena_zone is missing" in recorded[len(rows) - 1]
    stored = by_line(predictions(app, batch_id))
    wanted = catboost_says(model, [dict(r, arena_zone=int(r["arena_zone"])) for r in rows[:-2]])
    got = [
        stored[(r["player_lookup"], r["line_value"], r["sportsbook"])]["predicted_points"]
        for r in rows[:-2]
    ]
    np.testing.assert_allclose(got, wanted, rtol=1e-9, atol=0)


def test_a_column_mixing_text_and_numbers_is_read_as_text(teams: Teams, cases: list[Case]) -> None:
    """Inline rows whose category column mixes strings and numbers: every value is taken as
    its text (a number's JSON spelling), as the README says, and scored as that category."""
    app, model = teams.app, teams.models["rmse"]
    good = [c for c in cases[:10] if c.problem is None and not c.missing_category]
    rows = [
        dict(c.row, arena_zone=zone if i % 2 else str(zone))
        for i, c in enumerate(good)
        for zone in [c.row["arena_zone"]]
    ]
    rows.append(dict(cases[22].row, arena_zone=2.5))
    batch_id = "mixed-category-spellings"
    assert publish(app, request(batch_id, rows, system_id=model.system_id)).ok
    assert rejects(app, batch_id) == []
    stored = by_line(predictions(app, batch_id))
    wanted = catboost_says(model, [dict(r, arena_zone=str(r["arena_zone"])) for r in rows])
    got = [
        stored[(r["player_lookup"], r["line_value"], r["sportsbook"])]["predicted_points"]
        for r in rows
    ]
    np.testing.assert_allclose(got, wanted, rtol=1e-9, atol=0)


def test_an_integer_category_is_the_same_category_as_its_decimal_text(
    teams: Teams, cases: list[Case]
) -> None:
    app, model = teams.app, teams.models["over_int"]
    base = cases[0].row
    rows = [
        dict(base, arena_zone=4, sportsbook="DK"),
        dict(base, arena_zone="4", sportsbook="FD"),
        dict(base, arena_zone=1, sportsbook="MGM"),
    ]
    assert publish(app, request("int-category", rows, system_id=model.system_id)).ok
    stored = by_line(predictions(app, "int-category"))
    line = base["line_value"]
    p = {
        book: stored[(base["player_lookup"], line, book)]["over_probability"]
        for book in ("DK", "FD", "MGM")
    }
    assert p["DK"] == p["FD"]
    assert p["DK"] != pytest.approx(p["MGM"], rel=1e-9)  # the zone matters to the model
    assert p["MGM"] == pytest.approx(float(catboost_says(model, [rows[2]])[0]), rel=1e-9, abs=0)
    assert p["DK"] == pytest.approx(float(catboost_says(model, [rows[0]])[0]), rel=1e-9, abs=0)


# ---------------------------------------------------------------- text features


def test_a_text_feature_is_fed_as_text_and_a_missing_note_is_rejected(
    teams: Teams, cases: list[Case]
) -> None:
    app, model = teams.app, teams.models["text"]
    assert model.text == (TEXT_FEATURE,)
    base = cases[1].row
    notes = ["healthy", "questionable knee soreness", "a note the model never saw"]
    rows = [
        dict(base, **{TEXT_FEATURE: note, "sportsbook": f"B{i}"}) for i, note in enumerate(notes)
    ]
    rows.append(dict(base, **{TEXT_FEATURE: None, "sportsbook": "B9"}))
    assert publish(app, request("text-notes", rows, system_id=model.system_id)).ok
    stored = by_line(predictions(app, "text-notes"))
    wanted = catboost_says(model, rows[:3])
    got = [
        stored[(base["player_lookup"], base["line_value"], f"B{i}")]["predicted_points"]
        for i in range(3)
    ]
    np.testing.assert_allclose(got, wanted, rtol=1e-9, atol=0)
    assert wanted[0] != pytest.approx(wanted[1], rel=1e-9)  # the note matters to the model
    (reject,) = rejects(app, "text-notes")
    assert (
        reject["row_number"] == 3 and f"text feature {TEXT_FEATURE} is missing" in reject["reason"]
    )


# ---------------------------------------------------------------- files


@pytest.mark.parametrize("key", ["rmse", "over_string", "text", "cat_token", "bool_category"])
def test_a_spreadsheets_csv_through_attribution_predict(
    teams: Teams, cases: list[Case], tmp_path: Path, key: str
) -> None:
    app, model = teams.app, teams.models[key]
    sheet = tmp_path / "tonight.csv"
    sheet.write_bytes(spreadsheet_csv(rows_of(cases), SPREADSHEET_COLUMNS))
    batch_id = f"sheet-{key}"
    code, out = cli(
        "--json",
        "predict",
        "--system-id",
        model.system_id,
        "--game-date",
        GAME_DATE.isoformat(),
        "--input",
        str(sheet),
        "--batch-id",
        batch_id,
    )
    assert code == 0, out
    log = json.loads(out)
    assert log["input_uri"] == f"gs://models/batches/{batch_id}/input.csv"
    assert log["model_file_name"] == model.file_name
    assert_as_catboost_says(app, batch_id, model, cases)


@pytest.mark.parametrize("key", ["poisson", "over_bool", "forbidden"])
def test_a_jsonl_claim_check_is_predicted_like_the_inline_rows(
    teams: Teams, cases: list[Case], key: str
) -> None:
    app, model = teams.app, teams.models[key]
    uri = claim_check(app, f"jsonl-{key}", rows_of(cases), "jsonl")
    batch_id = f"jsonl-{key}"
    assert publish(app, request(batch_id, rows_uri=uri, system_id=model.system_id)).ok
    assert_as_catboost_says(app, batch_id, model, cases)
    assert len(log_rows(app, batch_id)) == 1


# ---------------------------------------------------------------- grading


RESULTS_DAY = date(2026, 3, 2)


def _actual_points(cases: Sequence[Case]) -> dict[str, float]:
    """One result a player: between a player's two lines for some, on the line for one
    (a push), none at all for one."""
    rng = np.random.default_rng(9)
    actual: dict[str, float] = {}
    for case in cases:
        player, line = case.row["player_lookup"], case.row["line_value"]
        if player in actual or line is None or not player.strip():
            continue
        actual[player] = float(max(0.0, np.round(line + rng.normal(0, 5))))
    first = {c.row["player_lookup"]: c.row["line_value"] for c in reversed(cases[:36])}
    for player in ("player_00", "player_01", "player_02"):
        actual[player] = first[player] + 1.0  # over the DK line, under the FD line two higher
    actual["player_03"] = first["player_03"]  # a push on the DK line, under the FD line
    del actual["player_04"]  # no result yet
    return actual


def _grade(row: Row, actual: Mapping[str, float]) -> tuple[bool | None, bool | None]:
    """(over hit, pick correct), graded by hand."""
    points = actual.get(row["player_lookup"])
    if points is None or points == row["line_value"]:
        return None, None
    hit = points > row["line_value"]
    pick = row["recommendation"]
    return hit, (hit if pick == "OVER" else not hit if pick == "UNDER" else None)


def test_prediction_accuracy_grades_every_line_and_the_probability(
    teams: Teams, cases: list[Case], tmp_path: Path
) -> None:
    app = teams.app
    points_model, classifier = teams.models["rmse"], teams.models["over_string"]
    for model in (points_model, classifier):
        sent = request(
            f"graded-{model.key}",
            rows_of(cases),
            system_id=model.system_id,
            game_date=RESULTS_DAY,
        )
        assert publish(app, sent).ok

    actual = _actual_points(cases)
    results = tmp_path / "box_scores.csv"
    results.write_bytes(
        spreadsheet_csv(
            [
                {"game_date": RESULTS_DAY.isoformat(), "player_lookup": p, "actual_points": a}
                for p, a in actual.items()
            ],
            ("game_date", "player_lookup", "actual_points"),
        )
    )
    code, out = cli("results", "--input", str(results))
    assert (code, out.strip()) == (
        0,
        f"results: {len(actual)} loaded, 0 already present, 0 rejected",
    )

    for model in (points_model, classifier):
        batch_id = f"graded-{model.key}"
        made = predictions(app, batch_id)
        graded = query(
            app, "SELECT * FROM prediction_accuracy WHERE batch_id = @batch_id", batch_id=batch_id
        )
        assert len(graded) == len(made) == len(expectation(model, cases).good)
        hand = {}
        for row in graded:
            hit, correct = _grade(row, actual)
            hand[row["prediction_id"]] = (hit, correct)
            assert row["over_hit"] is hit
            assert row["prediction_correct"] is correct
            assert row["actual_points"] == actual.get(row["player_lookup"])
            if model.kind == "over":
                p = row["over_probability"]
                assert row["absolute_error"] is None
                if hit is None:
                    assert row["brier_score"] is None and row["log_loss"] is None
                else:
                    outcome = 1.0 if hit else 0.0
                    assert row["brier_score"] == pytest.approx((p - outcome) ** 2, rel=1e-12)
                    assert row["log_loss"] == pytest.approx(
                        -np.log(p if hit else 1.0 - p), rel=1e-12
                    )
            else:
                assert row["brier_score"] is None and row["log_loss"] is None
                if row["actual_points"] is None:
                    assert row["absolute_error"] is None
                else:
                    assert row["absolute_error"] == pytest.approx(
                        abs(row["predicted_points"] - row["actual_points"]), rel=1e-12
                    )
        # both lines of a player are graded, each against its own line
        by_key = {(r["player_lookup"], r["sportsbook"]): r for r in graded if r["line_value"]}
        assert by_key[("player_00", "DK")]["over_hit"] is True
        assert by_key[("player_00", "FD")]["over_hit"] is False
        assert by_key[("player_03", "DK")]["over_hit"] is None  # the push
        assert by_key[("player_03", "FD")]["over_hit"] is False
        assert by_key[("player_04", "DK")]["actual_points"] is None

        picks = [c for _, c in hand.values() if c is not None]
        day = RESULTS_DAY.isoformat()
        code, out = cli(
            "--json", "report", "models", "--system-id", model.system_id, "--from", day, "--to", day
        )
        assert code == 0, out
        (report,) = json.loads(out)
        assert report["model_file_name"] == model.file_name
        assert report["predictions"] == len(graded)
        assert report["picks"] == len(picks) > 10
        assert abs(report["hit_rate"] - 100.0 * sum(picks) / len(picks)) <= 0.05 + 1e-9
        if model.kind == "over":
            rows = [r for r in graded if hand[r["prediction_id"]][0] is not None]
            p = np.array([r["over_probability"] for r in rows])
            y = np.array([1.0 if hand[r["prediction_id"]][0] else 0.0 for r in rows])
            assert report["brier_score"] == pytest.approx(np.mean((p - y) ** 2), abs=5e-5)
            logloss = -np.mean(np.log(np.where(y == 1.0, p, 1.0 - p)))
            assert report["log_loss"] == pytest.approx(logloss, abs=5e-5)
            assert report["probability_rows"] == len(graded)
            assert report["prediction_type"] == "over_probability"
        else:
            errors = [
                abs(r["predicted_points"] - r["actual_points"])
                for r in graded
                if r["actual_points"] is not None
            ]
            assert report["mae"] == pytest.approx(float(np.mean(errors)), abs=5e-3)
            assert report["prediction_type"] == "points"
