"""Keep ``bench/RESULTS.md`` as one section per benchmark between its own markers.

Rewriting one benchmark's section leaves every other section, and any text outside the
markers, exactly as it was; a benchmark seen for the first time is appended.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from bench import Outcome

HEADER = (
    "# Benchmark results\n"
    "\n"
    "Written by `make bench` (`.venv/bin/python -m bench`); each section is rewritten only\n"
    "by its own benchmark. Speed is a ratio against a floor timed in the same process, on\n"
    "the machine named in the section, never an absolute time.\n"
)


def start_marker(name: str) -> str:
    return f"<!-- bench:{name} -->"


def end_marker(name: str) -> str:
    return f"<!-- /bench:{name} -->"


def replace_section(text: str, name: str, body: str) -> str:
    """Return ``text`` with the section ``name`` set to ``body`` (appended if absent)."""
    start, end = start_marker(name), end_marker(name)
    block = f"{start}\n{body.strip()}\n{end}"
    begin = text.find(start)
    if begin == -1:
        if text.find(end) != -1:
            raise ValueError(f"{end} appears without {start}")
        prefix = text.rstrip("\n")
        return f"{prefix}\n\n{block}\n" if prefix else f"{block}\n"
    finish = text.find(end, begin)
    if finish == -1:
        raise ValueError(f"{start} has no closing {end}")
    if text.find(start, begin + len(start)) != -1:
        raise ValueError(f"{start} appears more than once")
    return text[:begin] + block + text[finish + len(end) :]


def write_sections(path: Path, outcomes: Iterable[Outcome]) -> None:
    """Rewrite each outcome's section of ``path`` in place, atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    for outcome in outcomes:
        text = replace_section(text, outcome.name, outcome.markdown)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
