"""Handing work to an event-driven function and getting its answer: at once when it ran here
on the embedded in-process bus, else by polling, bounded by ``--wait``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from attribution.cli.arguments import number
from attribution.cli.exit_codes import ExitCode
from attribution.cli.output import print_json
from attribution.cli.progress import Advance, progress_bar
from attribution.config import PublisherKind, Settings

T = TypeVar("T")

DEFAULT_WAIT_SECONDS = 60.0


def poll_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.5,
    waited: Advance | None = None,
) -> T | None:
    """Call ``check`` until it returns something other than None, for at most ``timeout`` s;
    ``waited`` is told each pause's seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        pause = min(interval, remaining)
        time.sleep(pause)
        if waited is not None:
            waited(pause)


def runs_in_process(settings: Settings) -> bool:
    """Whether the functions run here, on the embedded bus, while the work is handed over
    (the publish, the upload's finalize event), so their answer is there when it returns."""
    return settings.publisher_kind is PublisherKind.INPROCESS


@dataclass(frozen=True)
class Pending:
    """The function runs elsewhere and has not answered: not waited for (``--wait 0``), or
    not within ``waited`` seconds."""

    waited: float


def await_function(
    settings: Settings, check: Callable[[], T | None], *, wait: float, what: str
) -> T | Pending | None:
    """The function's answer, ``check``'s value, for work just handed to it. In-process it
    ran already: the answer, or None when it left none. Elsewhere (Pub/Sub, the local stack):
    polled for up to ``wait`` seconds, a bar on the terminal meanwhile; Pending without one."""
    if runs_in_process(settings):
        return check()
    if wait <= 0:
        return Pending(0.0)
    with progress_bar(f"waiting for {what}", total=wait) as waited:
        found = poll_until(check, timeout=wait, waited=waited)
    return Pending(wait) if found is None else found


def report_pending(
    pending: Pending, *, as_json: bool, handed: Mapping[str, Any], said: str, missing: str
) -> int:
    """Print what was handed over (``handed`` for --json, ``said`` for people): done when
    nobody waited; TRY_AGAIN, saying what is ``missing``, when the wait ran out."""
    if not pending.waited:
        print_json(dict(handed)) if as_json else print(said)
        return ExitCode.OK
    message = f"{missing} after {pending.waited:.0f} s"
    if as_json:
        print_json({**handed, "pending": message})
    else:
        print(f"{said}, but {message}")
    return ExitCode.TRY_AGAIN


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
