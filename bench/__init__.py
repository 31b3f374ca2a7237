"""Benchmarks: speed measured as a ratio against a floor timed in the same process.

A benchmark never asserts a wall-clock time. It times its subject and a floor (the least
work any implementation must do) interleaved, round by round, in one process on one
machine, and compares the two as a ratio against the target the issue sets. ``make bench``
(``python -m bench``) runs every benchmark and rewrites its section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
RESULTS_PATH = BENCH_DIR / "RESULTS.md"


@dataclass(frozen=True)
class Options:
    """How to run: ``quick`` uses smaller inputs; ``rounds`` overrides the benchmark's own."""

    quick: bool = False
    rounds: int | None = None
    work_dir: Path = WORK_DIR


@dataclass(frozen=True)
class Outcome:
    """One benchmark's verdict and its Markdown section (without the markers)."""

    name: str
    title: str
    passed: bool
    markdown: str
    summary: str
