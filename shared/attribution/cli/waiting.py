"""Waiting, bounded, for what an event-driven function does after the CLI hands it work."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from attribution.cli.arguments import number

T = TypeVar("T")

DEFAULT_WAIT_SECONDS = 60.0


def poll_until(check: Callable[[], T | None], *, timeout: float, interval: float = 0.5) -> T | None:
    """Call ``check`` until it returns something other than None, for at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(interval, remaining))


def add_wait_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--wait SECONDS``: how long to wait when the function runs in another process."""
    parser.add_argument(
        "--wait",
        type=number(0),
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"when the function runs elsewhere (Pub/Sub, the local stack), wait this long "
        f"for {what}; 0: do not wait (default {DEFAULT_WAIT_SECONDS:.0f})",
    )
