"""A batch's rows: read from any supported form, then checked column by column.

Rows are flat: ``player_lookup``, ``line_value``, one key per model feature (named as the
model names it), optionally ``game_date``; other keys are ignored. Checks are vectorised
so a million-row batch costs little more than predicting it. A row that fails a check is
rejected with every reason and its raw values; it never takes the good rows down.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.errors import PermanentError

KNOWN_FORMATS = ("jsonl", "ndjson", "json", "csv", "parquet")


def format_of(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in KNOWN_FORMATS:
        raise PermanentError(
            "bad_input_format",
            f"{name}: rows must be JSONL, CSV or Parquet (by extension), not {suffix or 'none'}",
        )
    return "jsonl" if suffix in ("ndjson", "json") else suffix


def read_rows(data: bytes, fmt: str, *, source: str) -> pa.Table:
    """Parse rows from bytes in ``fmt`` (jsonl, csv, parquet) into an Arrow table."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            # One file from memory: ParquetFile skips the dataset layer of read_table, and
            # BufferReader reads without copying, unlike io.BytesIO.
            return pq.ParquetFile(pa.BufferReader(data)).read()
        if fmt == "csv":
            import pyarrow.csv as pacsv

            return pacsv.read_csv(
                io.BytesIO(data),
                convert_options=pacsv.ConvertOptions(
                    column_types={"player_lookup": pa.string(), "game_date": pa.string()},
                    strings_can_be_null=True,
                    # not "1"/"0": a number stays a number whatever else its column holds
                    true_values=["true", "True", "TRUE"],
                    false_values=["false", "False", "FALSE"],
                ),
            )
        if fmt == "jsonl":
            return _read_jsonl(data, source=source)
    except PermanentError:
        raise
    except (pa.ArrowInvalid, ValueError, OSError) as exc:
        raise PermanentError(
            "unreadable_input", f"{source}: cannot read {fmt} rows: {exc}"
        ) from None
    raise PermanentError("bad_input_format", f"{source}: unknown format {fmt}")


def _read_jsonl(data: bytes, *, source: str) -> pa.Table:
    import pyarrow.json as pajson

    try:
        return pajson.read_json(io.BytesIO(data))
    except pa.ArrowInvalid:
        pass  # mixed types in a column: fall back to Python, which keeps each value as sent
    return rows_to_table(parse_jsonl(data, source=source))


def parse_jsonl(data: bytes, *, source: str) -> list[dict[str, Any]]:
    """Each non-blank line as a JSON object, values exactly as written."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PermanentError(
                "unreadable_input", f"{source}: line {number} is not JSON: {exc.msg}"
            ) from None
        rows.append(value if isinstance(value, dict) else {"_not_an_object": value})
    return rows


def rows_to_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Inline rows to a table of Python values, one column per key seen in any row."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {name: [_plain(row.get(name)) for row in rows] for name in names}
    arrays = {name: _column(values) for name, values in columns.items()}
    return pa.table(arrays) if arrays else pa.table({"_empty": pa.nulls(len(rows))})


def _column(values: list[Any]) -> pa.Array:
    """One typed column, or text when the values do not share a type.

    Booleans mixed with other values become text, as pyarrow would otherwise read ``true``
    as 1.0 after a float yet refuse it after an int; integers beyond int64 become text too.
    """
    kinds = {type(v) for v in values if v is not None}
    if bool not in kinds or len(kinds) == 1:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    return pa.array([_as_text(v) for v in values], pa.string())


def _as_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None  # NaN is a missing value, as it is in a numeric column
    return value if isinstance(value, str) else json.dumps(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


@dataclass(frozen=True)
class RowReject:
    row_number: int
    player_lookup: str | None
    reason: str
    raw_row: dict[str, Any]


@dataclass(frozen=True)
class CheckedRows:
    requested: int
    row_numbers: np.ndarray
    player_lookup: pa.Array
    line_value: np.ndarray
    features: np.ndarray
    rejects: list[RowReject]

    @property
    def good(self) -> int:
        return len(self.row_numbers)


def numeric_column(column: pa.ChunkedArray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Values as float64 (NaN where absent) and a mask of values present but not numbers."""
    if column is None:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False), np.zeros(
            n, dtype=bool
        )
    if pa.types.is_boolean(column.type):
        values = column.to_numpy(zero_copy_only=False)
        return np.full(n, np.nan), np.array([v is not None for v in values])
    series = column.to_pandas()
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    present = series.notna().to_numpy() & (series.astype(str).str.strip() != "").to_numpy()
    return numbers, present & np.isnan(numbers)


def _as_date_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO date text of a column that JSON or CSV readers may have typed as a timestamp."""
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return column.cast(pa.date32()).cast(pa.string())
    return column.cast(pa.string())


def check_rows(table: pa.Table, *, feature_names: Sequence[str], game_date: date) -> CheckedRows:
    """Split rows into the good (as a feature matrix) and the rejected (with reasons)."""
    n = table.num_rows
    bad_rows = np.zeros(n, dtype=bool)
    reasons: dict[int, list[str]] = {}
    present = set(table.column_names)

    def fail(mask: np.ndarray, reason: str | Sequence[str]) -> None:
        indexes = np.flatnonzero(mask)
        bad_rows[indexes] = True
        for index in indexes:
            text = reason if isinstance(reason, str) else reason[int(index)]
            reasons.setdefault(int(index), []).append(text)

    if "player_lookup" in present:
        players = table.column("player_lookup").cast(pa.string())
        # Empty or whitespace only; null where the value is null. No trimmed copy is made.
        blank = pc.or_(pc.equal(pc.utf8_length(players), 0), pc.utf8_is_space(players))
        fail(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), "player_lookup is missing")
    else:
        players = pa.chunked_array([pa.nulls(n, pa.string())])
        fail(np.ones(n, dtype=bool), "player_lookup is missing")

    line_column = table.column("line_value") if "line_value" in present else None
    line, line_bad = numeric_column(line_column, n)
    if line_bad.any() or not np.isfinite(line).all():
        fail(line_bad, "line_value is not a number")
        fail(np.isnan(line) & ~line_bad, "line_value is missing")
        fail(np.isinf(line), "line_value is not finite")

    if "game_date" in present:
        dates = _as_date_text(table.column("game_date"))
        wrong = pc.fill_null(pc.not_equal(dates, game_date.isoformat()), False)
        mask = wrong.to_numpy(zero_copy_only=False)
        if mask.any():
            values = dates.to_pylist()
            fail(mask, [f"game_date {v} does not match the batch's {game_date}" for v in values])

    features = np.empty((n, len(feature_names)), dtype=np.float64)
    for position, name in enumerate(feature_names):
        if name not in present:
            fail(np.ones(n, dtype=bool), f"feature {name} is missing")
            features[:, position] = np.nan
            continue
        values, bad = numeric_column(table.column(name), n)
        if bad.any() or not np.isfinite(values).all():
            fail(bad, f"feature {name} is not a number")
            fail(np.isnan(values) & ~bad, f"feature {name} is missing")
            fail(np.isinf(values), f"feature {name} is not finite")
        features[:, position] = values

    non_null = n - players.null_count
    distinct = len(pc.unique(players)) - (1 if players.null_count else 0)
    if distinct < non_null:
        series = players.to_pandas()
        duplicated = series.duplicated(keep="first").to_numpy() & series.notna().to_numpy()
        fail(duplicated, "player_lookup appears more than once in the batch")

    good_rows = np.flatnonzero(~bad_rows)
    all_good = len(good_rows) == n
    rejects = [
        RowReject(
            row_number=int(index),
            player_lookup=players[int(index)].as_py(),
            reason="; ".join(reasons[int(index)]),
            raw_row=table.slice(int(index), 1).to_pylist()[0],
        )
        for index in np.flatnonzero(bad_rows)
    ]
    return CheckedRows(
        requested=n,
        row_numbers=good_rows,
        player_lookup=players.combine_chunks()
        if all_good
        else players.take(pa.array(good_rows)).combine_chunks(),
        line_value=line[good_rows],
        features=features if all_good else np.ascontiguousarray(features[good_rows]),
        rejects=rejects,
    )
