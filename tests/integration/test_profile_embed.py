"""A training profile made the two ways users make one: the library's ``embed_profile``
before ``save_model``, and ``attribution profile embed`` on a saved model with a CSV out of
a spreadsheet. Models as users train them (Poisson ``CatBoostRegressor``, an OVER/UNDER
``CatBoostClassifier``, categories as text, missing numbers, a missing-category token); the
profile held to CatBoost's own predictions and pandas' own shares; the card carrying it."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from app_support import upload_model
from user_trained_models import CATEGORIES, FEATURES, MISSING, Kind, facts_for, games, train

from attribution.bootstrap import App
from attribution.cli.main import main
from attribution.model_card.card import ModelCard
from attribution.model_card.profile import PROFILE_METADATA_KEY
from attribution.profiles.building import embed_profile

SYSTEM = "points_props"
ROWS = 1200
MISSING_TOKEN = "unknown"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def facts(kind: Kind) -> dict[str, str]:
    return facts_for(
        SYSTEM,
        start=date(2025, 11, 1),
        end=date(2026, 1, 20),
        trained_at="2026-01-21T00:00:00Z",
        over_under=kind is Kind.OVER_UNDER,
    )


def training_frame(kind: Kind, seed: int) -> pd.DataFrame:
    return pd.DataFrame(games(ROWS, seed=seed))[list(FEATURES[kind])]


def sha256_without_card_id(document: dict[str, Any]) -> str:
    """A card's id as the README defines it, computed by hand."""
    rest = {key: value for key, value in document.items() if key != "card_id"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def deciles(values: np.ndarray) -> tuple[float, ...]:
    return tuple(np.unique(np.quantile(values[~np.isnan(values)], np.arange(1, 10) / 10)))


@pytest.mark.parametrize("kind", [Kind.POISSON, Kind.RMSE_INT_CATEGORY, Kind.OVER_UNDER])
def test_the_helper_profiles_what_catboost_itself_predicts(
    kind: Kind, tmp_path: Path, embedded_app: App
) -> None:
    user = train(kind, tmp_path / f"{kind.value}.cbm", facts=facts(kind), seed=4, rows=ROWS)
    bare = upload_model(embedded_app, user.path.read_bytes(), f"{kind.value}_bare.cbm")
    frame = training_frame(kind, seed=4)
    profile = embed_profile(user.model, frame)
    user.model.save_model(str(user.path))
    card = upload_model(embedded_app, user.path, user.file_name)

    own = user.predict(frame.to_dict("records"))  # predict / predict_proba[:, OVER]
    assert profile.prediction is not None
    assert profile.prediction.edges == pytest.approx(deciles(own), rel=1e-12)
    numbers = frame[MISSING].to_numpy(dtype=float)
    minutes = profile.feature(MISSING)
    assert minutes is not None and minutes.kind == "numeric"
    assert minutes.edges == pytest.approx(deciles(numbers), rel=1e-12)
    assert minutes.missing_share == pytest.approx(np.isnan(numbers).mean(), abs=1e-6)
    for name in CATEGORIES[kind]:
        shares = frame[name].astype(str).value_counts(normalize=True)  # 7 is CatBoost's "7"
        feature = profile.feature(name)
        assert feature is not None and feature.kind == "categorical"
        assert dict(zip(feature.categories, feature.shares, strict=True)) == pytest.approx(
            shares.to_dict(), abs=1e-6
        )
    assert profile.rows == ROWS

    # The card carries it; the same trees without it are another card, unchanged by it.
    assert card.training_profile == profile
    assert bare.training_profile is None
    assert "training_profile" not in json.loads(bare.canonical_json())
    assert bare.card_id == sha256_without_card_id(bare.to_document())
    assert card.card_id != bare.card_id
    assert card.model_sha256 != bare.model_sha256


def test_a_missing_category_token_counts_as_missing(tmp_path: Path) -> None:
    from catboost import CatBoostRegressor

    frame = training_frame(Kind.POISSON, seed=5)
    frame.loc[frame.index % 5 == 0, "opponent"] = MISSING_TOKEN
    model = CatBoostRegressor(
        iterations=10,
        cat_features=CATEGORIES[Kind.POISSON],
        verbose=False,
        allow_writing_files=False,
    )
    model.fit(frame, np.arange(len(frame)) % 30)
    model.get_metadata()["cat_missing_value"] = MISSING_TOKEN
    profile = embed_profile(model, frame)
    opponent = profile.feature("opponent")
    assert opponent is not None and opponent.kind == "categorical"
    assert MISSING_TOKEN not in opponent.categories
    assert opponent.missing_share == pytest.approx((frame["opponent"] == MISSING_TOKEN).mean())


def spreadsheet_csv(path: Path, frame: pd.DataFrame) -> None:
    """As a spreadsheet saves it: spaces around the headers, blanks and N/A for missing."""
    text = frame.copy()
    text[MISSING] = [("N/A" if i % 2 else "") if np.isnan(v) else f"{v:.2f}"
                     for i, v in enumerate(frame[MISSING])]  # fmt: skip
    text.columns = [f" {c} " for c in text.columns]
    text.to_csv(path, index=False)


def test_the_command_profiles_a_spreadsheet_csv_into_the_file(
    tmp_path: Path, embedded_app: App
) -> None:
    user = train(Kind.POISSON, tmp_path / "poisson.cbm", facts=facts(Kind.POISSON), seed=6)
    frame = pd.DataFrame(games(1500, seed=6))[list(FEATURES[Kind.POISSON])]
    data = tmp_path / "training rows.csv"
    spreadsheet_csv(data, frame)
    out = tmp_path / "profiled.cbm"
    code, printed, err = cli("profile", "embed", str(user.path), "--data", str(data),
                             "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert printed.startswith(f"profiled 1500 rows into {out}: 5 features and the predictions")
    from catboost import CatBoost

    model = CatBoost()
    model.load_model(str(out))
    document = json.loads(model.get_metadata()[PROFILE_METADATA_KEY])
    minutes = next(f for f in document["features"] if f["name"] == MISSING)
    expected = np.isnan(np.round(frame[MISSING].to_numpy(dtype=float), 2)).mean()
    assert minutes["missing_share"] == pytest.approx(expected, abs=1e-6)
    assert PROFILE_METADATA_KEY not in CatBoost().load_model(str(user.path)).get_metadata()

    code, shown, _ = cli("profile", "show", str(out))
    assert code == 0 and MISSING in shown and "opponent" in shown
    card: ModelCard = upload_model(embedded_app, out, "points_props_profiled.cbm")
    assert card.training_profile is not None and card.training_profile.rows == 1500


def test_the_command_refuses_data_without_a_feature(tmp_path: Path) -> None:
    user = train(Kind.POISSON, tmp_path / "poisson.cbm", facts=facts(Kind.POISSON), seed=7)
    before = user.path.read_bytes()
    data = tmp_path / "rows.csv"
    pd.DataFrame(games(50, seed=7))[["opponent", "position"]].to_csv(data, index=False)
    code, _, err = cli("profile", "embed", str(user.path), "--data", str(data))
    assert code == 2
    assert "lack the model's feature(s) points_avg_last_5, minutes_avg_last_5" in err
    assert err.count("\n") == 1 and err.rstrip().endswith("(bad_profile)")
    assert user.path.read_bytes() == before


def test_a_profile_naming_a_feature_the_model_lacks_is_refused_at_upload(
    tmp_path: Path, embedded_app: App
) -> None:
    user = train(Kind.POISSON, tmp_path / "poisson.cbm", facts=facts(Kind.POISSON), seed=8)
    other = training_frame(Kind.POISSON, seed=8).rename(columns={"rest_days": "days_of_rest"})
    from catboost import CatBoostRegressor

    stranger: Any = CatBoostRegressor(
        iterations=5,
        cat_features=CATEGORIES[Kind.POISSON],
        verbose=False,
        allow_writing_files=False,
    )
    stranger.fit(other, np.arange(len(other)) % 20)
    user.model.get_metadata()[PROFILE_METADATA_KEY] = embed_profile(stranger, other).compact_json()
    user.model.save_model(str(user.path))
    code, _, err = cli("upload", str(user.path))
    assert code == 2
    assert "training profile names feature(s) the model does not have: days_of_rest" in err


def test_show_reads_a_registered_cards_profile_and_says_when_there_is_none(
    tmp_path: Path, embedded_app: App
) -> None:
    user = train(Kind.OVER_UNDER, tmp_path / "ou.cbm", facts=facts(Kind.OVER_UNDER), seed=9)
    code, said, _ = cli("profile", "show", str(user.path))
    assert (
        code == 0
        and said == f"{user.path} carries no training profile (`attribution profile embed`)\n"
    )
    profile = embed_profile(user.model, training_frame(Kind.OVER_UNDER, seed=9))
    user.model.save_model(str(user.path))
    card = upload_model(embedded_app, user.path, "points_props_ou.cbm")

    code, printed, err = cli("--json", "profile", "show", card.card_id[:12])
    assert code == 0, err
    shown = json.loads(printed)
    assert shown["card_id"] == card.card_id and shown["model"] == card.model_uri
    assert shown["profile"] == json.loads(profile.compact_json())
    code, table, _ = cli("profile", "show", "points_props_ou.cbm")
    assert code == 0 and "line_value" in table and "prediction" in table

    code, _, err = cli("profile", "show", str(tmp_path / "gone.cbm"))
    assert code == 2 and "is neither a model file nor a registered card" in err


def test_a_profile_over_64_kb_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    from catboost import CatBoostRegressor

    rng = np.random.default_rng(10)
    codes = [f"{'x' * 40}-{i:03d}" for i in range(40)]
    frame = pd.DataFrame({f"code_{k}": rng.choice(codes, 300) for k in range(60)})
    model = CatBoostRegressor(
        iterations=2, cat_features=list(frame.columns), verbose=False, allow_writing_files=False
    )
    model.fit(frame, rng.normal(size=len(frame)))
    path = tmp_path / "wide.cbm"
    model.save_model(str(path))
    before = path.read_bytes()
    data = tmp_path / "wide.parquet"
    frame.to_parquet(data)
    code, printed, err = cli("profile", "embed", str(path), "--data", str(data))
    assert code == 2 and printed == ""
    assert "over the 65536-byte limit (60 features profiled" in err
    assert err.count("\n") == 1 and err.rstrip().endswith("(bad_profile)")
    assert path.read_bytes() == before


def test_a_malformed_profile_in_the_metadata_makes_no_card(tmp_path: Path) -> None:
    user = train(Kind.POISSON, tmp_path / "poisson.cbm", facts=facts(Kind.POISSON), seed=11)
    user.model.get_metadata()[PROFILE_METADATA_KEY] = '{"version": 1, "rows": -3, "features": []}'
    user.model.save_model(str(user.path))
    code, _, err = cli("card", str(user.path))
    assert code == 2
    assert "the training profile is not valid: rows:" in err and "(bad_profile)" in err


def test_attribution_train_embeds_the_profile_of_its_rows(tmp_path: Path) -> None:
    out = tmp_path / "trained.cbm"
    code, _, err = cli("train", "--out", str(out), "--rows", "400", "--iterations", "5")
    assert code == 0, err
    code, printed, err = cli("--json", "card", str(out))
    assert code == 0, err
    profile = json.loads(printed)["training_profile"]
    assert profile["rows"] == 400 and profile["prediction"] is not None
    card_features = [f["name"] for f in json.loads(printed)["features"]]
    assert [f["name"] for f in profile["features"]] == card_features
