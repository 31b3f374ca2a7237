"""The one clock: timezone-aware UTC, so every timestamp written compares with every other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_reading: Callable[[], datetime] | None = None


def now_utc() -> datetime:
    return _reading() if _reading is not None else datetime.now(UTC)


@contextmanager
def reading(source: Callable[[], datetime]) -> Iterator[None]:
    """Every time the library records reads ``source`` while the block runs: a story told on
    another calendar than the machine's (the demo's)."""
    global _reading
    saved, _reading = _reading, source
    try:
        yield
    finally:
        _reading = saved
