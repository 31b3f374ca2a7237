"""Model upload: a .cbm becomes one card whose facts are the file's own; a bad one a reject."""

from __future__ import annotations

import hashlib
from typing import Any

from app_support import publish_model
from catboost import CatBoostRegressor

from attribution.bootstrap import App
from attribution.model_card.card import ModelCard

from .conftest import sent


def test_the_card_carries_what_catboost_reads_from_the_file(
    app: App, old_card: ModelCard, models: Any
) -> None:
    model = CatBoostRegressor()
    model.load_model(str(models.old))
    declared = model.get_metadata()  # the facts `attribution train` declared in the file
    assert old_card.model_sha256 == hashlib.sha256(models.old.read_bytes()).hexdigest()
    assert list(old_card.feature_names) == list(model.feature_names_)
    assert old_card.tree_count == model.tree_count_
    assert old_card.expected_mae == float(declared["expected_mae"])
    assert str(old_card.training_end_date) == declared["training_end_date"]
    (row,) = app.warehouse.query("SELECT card_id, status FROM model_cards")
    assert row == {"card_id": old_card.card_id, "status": "complete"}


def test_the_same_upload_again_changes_nothing(app: App, old_card: ModelCard, models: Any) -> None:
    again = publish_model(app, models.old, "catboost_v9_old.cbm")
    assert again == old_card
    assert app.warehouse.query("SELECT COUNT(*) AS n FROM model_cards") == [{"n": 1}]


def test_a_corrupt_upload_is_kept_as_a_reject_and_alerted(app: App, models: Any) -> None:
    cut = models.old.read_bytes()[:500]
    assert publish_model(app, cut, "catboost_v9_cut.cbm") is None
    (reject,) = app.warehouse.query("SELECT object_uri, error_code FROM model_upload_rejects")
    assert reject["object_uri"].endswith("/catboost_v9_cut.cbm")
    assert reject["error_code"]
    (alert,) = sent(app).sent
    assert "catboost_v9_cut.cbm" in alert.title + alert.text
    assert app.warehouse.query("SELECT COUNT(*) AS n FROM model_cards") == [{"n": 0}]
