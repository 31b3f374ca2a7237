"""Printing results for people (aligned tables) or machines (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from attribution.json_safe import finite_json, json_default


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    if not rows:
        print("(none)")
        return
    columns = list(columns or rows[0].keys())
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def print_json(value: Any) -> None:
    """``value`` as JSON every parser reads: a non-finite number is ``null``, and the object
    that held it gains ``"non_finite": {"field": "Infinity"}`` (``attribution.json_safe``)."""
    safe, loose = finite_json(value)
    json.dump(safe, sys.stdout, indent=2, sort_keys=True, allow_nan=False, default=json_default)
    sys.stdout.write("\n")
    if loose:  # outside any object, so nowhere to note it in the output itself
        noted = ", ".join(f"{path or 'value'}: {spelling}" for path, spelling in loose.items())
        print(f"note: non-finite numbers written as null ({noted})", file=sys.stderr)
