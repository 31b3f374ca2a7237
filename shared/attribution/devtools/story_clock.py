"""The demo's calendar: its story happens on the days of its games, January and February
2026, whatever day the machine's clock says it is.

What the system records about time (a card registered, an object stored, a promotion, a
batch run, a verification) comes from one clock, ``attribution.clock``. While the story
runs, it reads the story's time instead, so a batch for January 30 runs on January 30,
after the promotion it predicts with and before the next one. The deployment-drift check
holds every batch to the model the ledger had active when the batch ran, so a story told on
the machine's clock with promotions on the games' calendar would have the old model drift.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from attribution.clock import reading


class StoryClock:
    """Moved on to an instant of the story, it runs from there at the machine's pace, so what
    happens in between keeps its order; it never goes back."""

    def __init__(self, start: datetime) -> None:
        self._at, self._since = start, time.monotonic()

    def now(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._since)

    def advance_to(self, at: datetime) -> None:
        """On to ``at``; a clock that has run past it already goes on from where it is."""
        if at < self._at:
            raise ValueError(f"the story goes forward: {at} is before {self._at}")
        if at > self.now():
            self._at, self._since = at, time.monotonic()

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Everything the library records reads this clock while the block runs."""
        with reading(self.now):
            yield
