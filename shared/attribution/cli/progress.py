"""Progress bars on stderr for long work, drawn only on a terminal: a pipe, a file or a
scheduler's log gets nothing from here."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

Advance = Callable[[float], None]


def on_terminal() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


@contextmanager
def progress_bar(
    description: str, *, total: float | None = None, unit: str = ""
) -> Iterator[Advance | None]:
    """A callback that advances a bar by its argument, drawn while the block runs (and
    erased after). Without a ``total`` the bar pulses, beside a count of ``unit`` if given.
    None when stderr is no terminal: nothing is drawn, and the work need not report."""
    if not on_terminal():
        yield None
        return
    columns: list[ProgressColumn] = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
    ]
    if total is not None:
        columns.append(MofNCompleteColumn())
    elif unit:
        columns.append(TextColumn(f"{{task.completed:.0f}} {unit}"))
    columns.append(TimeElapsedColumn())
    with (
        Progress(
            *columns,
            console=Console(stderr=True),
            transient=True,
            redirect_stdout=False,  # stdout may be a file while stderr is the terminal
        ) as bar,
        _logs_above(),
    ):
        task = bar.add_task(description, total=total)
        yield lambda amount: bar.advance(task, amount)


@contextmanager
def _logs_above() -> Iterator[None]:
    """While the bar is drawn, sys.stderr is rich's proxy, which prints above the bar: log
    handlers that write to the terminal write through it meanwhile instead of through the bar."""
    terminal = getattr(sys.stderr, "rich_proxied_file", sys.stderr)
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and h.stream in (terminal, sys.__stderr__)
    ]
    originals = [h.stream for h in handlers]
    for handler in handlers:
        handler.setStream(sys.stderr)
    try:
        yield
    finally:
        for handler, original in zip(handlers, originals, strict=True):
            handler.setStream(original)
