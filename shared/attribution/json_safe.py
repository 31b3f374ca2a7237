"""JSON that every parser reads: no ``NaN``, ``Infinity`` or ``-Infinity``.

Python's ``json`` writes non-finite floats as those bare words, which RFC 8259 does not
allow (``jq``, JavaScript's ``JSON.parse`` and BigQuery refuse them). The convention used by
every ``--json`` output, the HTTP verifier and the verdicts kept in the warehouse: a
non-finite number is written as ``null``, and the object that held it gains a
``"non_finite"`` member mapping the field's path within that object to what the number was,
e.g. ``{"mae": null, "non_finite": {"mae": "Infinity"}}`` (a list element's path is
``field/index``).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

NOTE_KEY = "non_finite"


def non_finite_spelling(value: float) -> str:
    """How JavaScript spells a non-finite number: ``NaN``, ``Infinity``, ``-Infinity``."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def finite_json(value: Any) -> tuple[Any, dict[str, str]]:
    """``value`` as plain JSON data with every non-finite number ``None`` and noted in the
    object that held it (see the module doc). Also returns the notes no object could hold
    (a non-finite number outside any object), by path from the top."""
    loose: dict[str, str] = {}
    return _walk(value, "", loose, depth=0), loose


def dumps_finite(value: Any, **options: Any) -> str:
    """``json.dumps`` of ``finite_json(value)``: valid JSON, always."""
    safe, _ = finite_json(value)
    return json.dumps(safe, allow_nan=False, **options)


def dumps_spelled(value: Any, **options: Any) -> str:
    """``json.dumps`` keeping a raw value as received: a non-finite number becomes the text
    ``"Infinity"`` (``"NaN"``, ``"-Infinity"``), so the JSON stays valid and still shows it."""
    return json.dumps(_spell(value), allow_nan=False, default=json_default, **options)


_MAX_DEPTH = 200


def _join(path: str, key: object) -> str:
    return f"{path}/{key}" if path else str(key)


def _walk(value: Any, path: str, notes: dict[str, str], *, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError(f"value nested deeper than {_MAX_DEPTH} levels cannot be written")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return number
        notes[path] = non_finite_spelling(number)
        return None
    if isinstance(value, Mapping):
        own: dict[str, str] = {}
        out = {
            key: _walk(item, _join("", key), own, depth=depth + 1) for key, item in value.items()
        }
        if own:
            earlier = out.get(NOTE_KEY)
            out[NOTE_KEY] = {**earlier, **own} if isinstance(earlier, dict) else own
        return out
    if isinstance(value, list | tuple):
        return [
            _walk(item, _join(path, index), notes, depth=depth + 1)
            for index, item in enumerate(value)
        ]
    converted = json_default(value)  # dates, timestamps, bytes; anything else as its text
    return _walk(converted, path, notes, depth=depth + 1)


def _spell(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, Mapping):
            return {key: _spell(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [_spell(item) for item in value]
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else non_finite_spelling(number)


def json_default(value: Any) -> Any:
    """For ``json.dumps`` of raw rows and payloads kept beside errors. ``json.dumps`` never
    asks it about a float, so it cannot keep ``Infinity`` out: for valid JSON use
    ``dumps_finite`` or ``dumps_spelled``, which use it for everything else."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
