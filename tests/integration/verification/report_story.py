"""Two game days of one system told for the HTML report: A champion with B challenging on
DAY, B promoted for NEXT_DAY (its rows with American odds, two refused, five more no model
is named on), results for both, both days verified, on the story's clock so the ledger and
the batches fall on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest

from attribution.devtools.slates import slate_for
from attribution.devtools.story_clock import StoryClock

from .support import DAY, PLAYERS, SYSTEM, World

NEXT_DAY = DAY + timedelta(days=1)
PROMOTED_AT = datetime.combine(NEXT_DAY, time(12), tzinfo=UTC)
ODDS = (-110, 120, -150)  # NEXT_DAY's rows carry their line's American odds, in turn


def tell(world: World, clock: StoryClock) -> None:
    ledger = world.app.ledger
    ledger.promote(SYSTEM, world.a, at=datetime.combine(DAY, time(8), tzinfo=UTC), by="t")
    ledger.challenge(SYSTEM, world.b, at=datetime.combine(DAY, time(8, 30), tzinfo=UTC))
    world.app.active_models().forget()
    clock.advance_to(datetime.combine(DAY, time(15), tzinfo=UTC))
    world.predict(DAY)
    ledger.promote(SYSTEM, world.b, at=PROMOTED_AT, by="t")
    world.app.active_models().forget()
    clock.advance_to(datetime.combine(NEXT_DAY, time(15), tzinfo=UTC))
    rows = [
        {**row, "odds": ODDS[index % len(ODDS)]}
        for index, row in enumerate(slate_for(NEXT_DAY, players=PLAYERS).rows)
    ]
    world.predict(NEXT_DAY, rows=[*rows[:-2], *({**r, "line_value": "n/a"} for r in rows[-2:])])
    world.insert_unattributed(5, day=NEXT_DAY)
    world.load_results(DAY)
    world.load_results(NEXT_DAY)


@pytest.fixture
def story(bare_world: World) -> Iterator[World]:
    """The story told, both days verified (by a verifier that publishes no report)."""
    clock = StoryClock(datetime.combine(DAY, time(9), tzinfo=UTC))
    with clock.installed():
        tell(bare_world, clock)
        for day in (DAY, NEXT_DAY):
            bare_world.verify(day)
        yield bare_world
