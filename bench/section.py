"""What every benchmark's section of ``bench/RESULTS.md`` words alike: the verdict, the
quick-run note, how its model came to be, and the Machine, Versions and Run rows."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import import_module

from bench import Options
from bench.environment import cpu_model

# How the Versions row names a library whose module's name is not how it is written.
LIBRARY_NAMES = {"catboost": "CatBoost", "duckdb": "DuckDB", "numpy": "NumPy"}


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def quick_note(options: Options, reason: str) -> str:
    """The line under a section's heading that says a quick run's figures are not the
    issue's, and why (``reason``); nothing for a full run."""
    return f"\n**Quick run: {reason}.**\n" if options.quick else ""


def trained_phrase(seconds: float | None) -> str:
    """How the run got its model: trained in ``seconds``, or (None) found in the cache."""
    return f"trained in {seconds:.1f} s this run" if seconds is not None else "reused from cache"


def load_note(loads: Sequence[float], sampled: str | None = None) -> str:
    """The 1-minute load average sampled over a run: at its start and its end, and, given
    when the samples were taken (``sampled``), their range."""
    ends = f"1-minute load average {loads[0]:.1f} at the start, {loads[-1]:.1f} at the end"
    if sampled is None:
        return f"{ends} (other work shares this machine)"
    return (
        f"{ends}, {min(loads):.1f} to {max(loads):.1f} over the run (sampled {sampled}); "
        f"other work shares this machine"
    )


def machine_row(loads: Sequence[float], sampled: str | None = None) -> str:
    return (
        f"| Machine | {os.cpu_count()} cores (`os.cpu_count()`), {cpu_model()}, "
        f"{platform.system()} {platform.machine()}; {load_note(loads, sampled)} |"
    )


def versions_row(*modules: str, also: str = "") -> str:
    """Python's version, then each module's (by its import name, imported here), then
    ``also`` as it is (``ssl.OPENSSL_VERSION``, say)."""
    versions = [f"Python {platform.python_version()}"]
    for name in modules:
        versions.append(f"{LIBRARY_NAMES.get(name, name)} {import_module(name).__version__}")
    if also:
        versions.append(also)
    return f"| Versions | {', '.join(versions)} |"


def run_row(name: str, options: Options) -> str:
    """When the section was written, and the command that runs its benchmark again."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    quick = " --quick" if options.quick else ""
    rounds = f" --rounds {options.rounds}" if options.rounds else ""
    return f"| Run | {when}, `.venv/bin/python -m bench --only {name}{quick}{rounds}` |"
