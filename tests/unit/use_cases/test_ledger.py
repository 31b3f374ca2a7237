"""The deployment ledger: which card served a system at any moment, told by promotions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from app_support import upload_model

from attribution.bootstrap import App
from attribution.errors import PermanentError
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


def test_roles_at_each_moment_champion_and_challengers_by_their_own_latest_entry(
    app: App, old_card: ModelCard, models: Any
) -> None:
    retrain = upload_model(app, models.retrain, "catboost_v9_retrain.cbm")
    third = upload_model(app, models.factless, "catboost_v9_third.cbm")
    ledger = app.ledger
    day = timedelta(days=1)
    ledger.promote(SYSTEM, old_card, at=FIRST)
    ledger.challenge(SYSTEM, retrain, at=FIRST + day)
    ledger.challenge(SYSTEM, third, at=FIRST + 2 * day, until=FIRST + 4 * day)
    ledger.promote(SYSTEM, retrain, at=FIRST + 5 * day)
    ledger.challenge(SYSTEM, old_card, at=FIRST + 6 * day)
    ledger.retire(SYSTEM, old_card, at=FIRST + 7 * day)

    def names(at: datetime) -> tuple[str | None, set[str]]:
        lineup = ledger.lineup_at(SYSTEM, at)
        champion = lineup.champion.model_file_name if lineup.champion else None
        return champion, {c.model_file_name for c in lineup.challengers}

    old, new, other = old_card.model_file_name, retrain.model_file_name, third.model_file_name
    expected = {
        FIRST - day: (None, set()),
        FIRST: (old, set()),
        FIRST + day: (old, {new}),
        FIRST + 3 * day: (old, {new, other}),
        FIRST + 4 * day: (old, {new}),  # the third's term ended
        FIRST + 5 * day: (new, set()),  # promoted: no longer a challenger
        FIRST + 6 * day: (new, {old}),  # the old champion challenges back
        FIRST + 7 * day: (new, set()),
    }
    for at, lineup in expected.items():
        assert names(at) == lineup, at
    assert [r["role"] for r in ledger.list(SYSTEM)] == [
        "champion", "challenger", "challenger", "champion", "challenger", "retired",
    ]  # fmt: skip
    assert ledger.active_at(SYSTEM, FIRST + 7 * day).model_file_name == new  # type: ignore[union-attr]


def test_a_champion_neither_challenges_nor_retires_and_a_term_ends_after_it_starts(
    app: App, old_card: ModelCard, models: Any
) -> None:
    retrain = upload_model(app, models.retrain, "catboost_v9_retrain.cbm")
    app.ledger.promote(SYSTEM, old_card, at=FIRST)
    with pytest.raises(PermanentError) as champion:
        app.ledger.challenge(SYSTEM, old_card, at=SECOND)
    assert champion.value.code == "already_champion"
    for card in (old_card, retrain):
        with pytest.raises(PermanentError) as retired:
            app.ledger.retire(SYSTEM, card, at=SECOND)
        assert retired.value.code == "not_a_challenger"
    with pytest.raises(PermanentError) as term:
        app.ledger.challenge(SYSTEM, retrain, at=SECOND, until=SECOND)
    assert term.value.code == "bad_argument"
    assert len(app.ledger.list(SYSTEM)) == 1
