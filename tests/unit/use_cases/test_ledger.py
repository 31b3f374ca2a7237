"""The deployment ledger: which card served a system at any moment, told by promotions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app_support import upload_model

from attribution.bootstrap import App
from attribution.model_card.card import ModelCard

from .conftest import SYSTEM

FIRST = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
SECOND = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_each_moment_has_the_card_promoted_last_before_it(
    app: App, old_card: ModelCard, models: Any
) -> None:
    retrain = upload_model(app, models.retrain, "catboost_v9_retrain.cbm")
    ledger = app.ledger
    ledger.promote(SYSTEM, old_card, at=FIRST, by="tests")
    ledger.promote(SYSTEM, retrain, at=SECOND, by="tests", note="March retrain")
    second = timedelta(seconds=1)
    assert ledger.active_at(SYSTEM, FIRST - second) is None
    moments = {FIRST: old_card, SECOND - second: old_card, SECOND: retrain}
    for moment, card in moments.items():
        active = ledger.active_at(SYSTEM, moment)
        assert active is not None and active.model_card_id == card.card_id, moment
    assert ledger.active_at("catboost_v8", SECOND) is None


def test_promoting_the_same_card_at_the_same_moment_twice_records_it_once(
    app: App, old_card: ModelCard
) -> None:
    first, new = app.ledger.promote(SYSTEM, old_card, at=FIRST)
    again, new_again = app.ledger.promote(SYSTEM, old_card, at=FIRST)
    assert (new, new_again) == (True, False)
    assert again == first
    assert [r["deployment_id"] for r in app.ledger.list(SYSTEM)] == [first.deployment_id]
