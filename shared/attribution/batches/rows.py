"""A batch's rows: read from any supported form, then checked column by column.

Rows are flat: ``player_lookup``, ``line_value``, one key per model feature (named as the
model names it), optionally ``game_date``, ``sportsbook`` and ``odds`` (the line's American
odds, kept on the prediction); other keys are ignored. A
prediction is a player and a line (and a sportsbook when given): a player may have several
lines, but the same player, line and sportsbook twice is rejected. Checks are vectorised
so a million-row batch costs little more than predicting it. A row that fails a check is
rejected with every reason and its raw values; it never takes the good rows down.

Features are fed as the model was trained: numbers as float64 (missing ones as NaN unless
the model forbids them), categories as text the way CatBoost's Python package turns
integers and booleans into text, text features as text.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.errors import PermanentError
from attribution.limits import MAX_PLAYER_LOOKUP_CHARS
from attribution.model_card.interface import FeatureType, ModelFeature, ModelInterface

KNOWN_FORMATS = ("jsonl", "ndjson", "json", "csv", "parquet")


def format_of(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in KNOWN_FORMATS:
        raise PermanentError(
            "bad_input_format",
            f"{name}: rows must be JSONL, CSV or Parquet (by extension), not {suffix or 'none'}",
        )
    return "jsonl" if suffix in ("ndjson", "json") else suffix


@dataclass(frozen=True)
class UnreadableRow:
    """An input line that is no row at all: a line that is not a JSON object, a CSV line
    with the wrong number of fields. Its ``row_number`` follows the readable rows'."""

    row_number: int
    line_number: int | None
    text: str
    reason: str


@dataclass(frozen=True)
class RowsRead:
    """A batch input's readable rows, and the lines that could not be read as rows."""

    table: pa.Table
    unreadable: tuple[UnreadableRow, ...] = ()


_BOM = b"\xef\xbb\xbf"


def read_rows(data: bytes, fmt: str, *, source: str, text_columns: Sequence[str] = ()) -> pa.Table:
    """Every row of a file that must be read whole (a ledger, results), or an error naming
    the first line that is not a row."""
    read = read_input_rows(data, fmt, source=source, text_columns=text_columns)
    if read.unreadable:
        first = read.unreadable[0]
        raise PermanentError("unreadable_input", f"{source}: {first.reason}")
    return read.table


def read_input_rows(
    data: bytes, fmt: str, *, source: str, text_columns: Sequence[str] = ()
) -> RowsRead:
    """Parse rows from bytes in ``fmt`` (jsonl, csv, parquet); a malformed line is kept as an
    unreadable row, never a reason to lose the others. A UTF-8 byte order mark is skipped
    in every text format.

    ``text_columns`` (a model's categorical and text features) are read as the text in the
    cells, so a code like ``07`` is not turned into the number 7.
    """
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            # One file from memory: ParquetFile skips the dataset layer of read_table, and
            # BufferReader reads without copying, unlike io.BytesIO.
            return RowsRead(pq.ParquetFile(pa.BufferReader(data)).read())
        data = data.removeprefix(_BOM)
        if fmt == "csv":
            return _read_csv(data, text_columns)
        if fmt == "jsonl":
            return _read_jsonl(data, text_columns=text_columns)
    except PermanentError:
        raise
    except (pa.ArrowInvalid, ValueError, OSError) as exc:
        raise PermanentError(
            "unreadable_input", f"{source}: cannot read {fmt} rows: {exc}"
        ) from None
    raise PermanentError("bad_input_format", f"{source}: unknown format {fmt}")


def _read_csv(data: bytes, text_columns: Sequence[str]) -> RowsRead:
    import pyarrow.csv as pacsv

    ragged: list[tuple[int | None, str, int, int]] = []

    def keep_aside(row: Any) -> str:
        ragged.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        # one thread: the reader then knows each ragged line's number
        read_options=pacsv.ReadOptions(use_threads=False, **_trimmed_header(data)),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
        convert_options=pacsv.ConvertOptions(
            column_types={
                name: pa.string()
                for name in ("player_lookup", "game_date", "sportsbook", *text_columns)
            },
            # A text cell is what the spreadsheet shows: "NA" is a category (North
            # America), an empty cell is blank, and blank counts as missing.
            strings_can_be_null=False,
            # not "1"/"0": a number stays a number whatever else its column holds
            true_values=_TRUE_SPELLINGS,
            false_values=_FALSE_SPELLINGS,
        ),
    )
    unreadable = tuple(
        UnreadableRow(
            row_number=table.num_rows + k,
            line_number=number,
            text=text,
            reason=f"line {number} has {actual} fields where the header has {expected}",
        )
        for k, (number, text, expected, actual) in enumerate(ragged)
    )
    return RowsRead(_booleans_as_digits(table, text_columns), unreadable)


def _trimmed_header(data: bytes) -> dict[str, Any]:
    """Reader options naming the columns without the spaces a spreadsheet's header cells
    may carry (``"team "``), when they do; else none (the reader takes the header itself)."""
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    names = next(csv.reader([first]), [])
    if all(name == name.strip() for name in names):
        return {}
    return {"column_names": [name.strip() for name in names], "skip_rows": 1}


_TRUE_SPELLINGS = ["true", "True", "TRUE"]
_FALSE_SPELLINGS = ["false", "False", "FALSE"]


def _booleans_as_digits(table: pa.Table, text_columns: Sequence[str]) -> pa.Table:
    """A spreadsheet's TRUE/FALSE in a categorical column as CatBoost saw the booleans it was
    trained on (pandas reads TRUE as True, and CatBoost's Python package takes True as 1)."""
    for name in text_columns:
        if name not in table.column_names:
            continue
        column = table.column(name)
        digits = pc.if_else(
            pc.is_in(column, pa.array(_TRUE_SPELLINGS)),
            "1",
            pc.if_else(pc.is_in(column, pa.array(_FALSE_SPELLINGS)), "0", column),
        )
        table = table.set_column(table.column_names.index(name), name, digits)
    return table


def _read_jsonl(data: bytes, *, text_columns: Sequence[str] = ()) -> RowsRead:
    import pyarrow.json as pajson

    # Text stays text: left to itself, the reader turns "2026-03-01" into a timestamp.
    text = pa.schema([(name, pa.string()) for name in ("player_lookup", *text_columns)])
    options = pajson.ParseOptions(explicit_schema=text, unexpected_field_behavior="infer")
    try:
        return RowsRead(pajson.read_json(io.BytesIO(data), parse_options=options))
    except pa.ArrowInvalid:
        pass  # a bad line, or mixed types in a column: Python keeps each value as sent
    rows, unreadable = parse_jsonl(data)
    return RowsRead(rows_to_table(rows), unreadable)


def parse_jsonl(data: bytes) -> tuple[list[dict[str, Any]], tuple[UnreadableRow, ...]]:
    """Each non-blank line as a JSON object, values exactly as written; the lines that are
    not JSON objects, aside."""
    rows: list[dict[str, Any]] = []
    bad: list[tuple[int, str, str]] = []
    text = data.removeprefix(_BOM).decode("utf-8", "replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append((number, line, f"line {number} is not JSON: {exc.msg}"))
            continue
        if not isinstance(value, dict):
            bad.append((number, line, f"line {number} is not a JSON object"))
            continue
        rows.append(value)
    unreadable = tuple(
        UnreadableRow(len(rows) + k, number, line[:_KEPT_LINE_CHARS], reason)
        for k, (number, line, reason) in enumerate(bad)
    )
    return rows, unreadable


# How much of an unreadable line is kept with its reject (the rest is named, not stored).
_KEPT_LINE_CHARS = 10_000


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


# What a model is fed: a float64 matrix when every feature is a number, else a frame whose
# categorical and text columns hold text.
ModelInput = np.ndarray | pd.DataFrame


@dataclass(frozen=True)
class CheckedRows:
    requested: int
    row_numbers: np.ndarray
    player_lookup: pa.Array
    line_value: np.ndarray
    sportsbook: pa.Array
    odds: np.ndarray  # American odds, NaN where the row gave none
    features: ModelInput
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
    text = series.astype(str).str.strip()
    present = series.notna().to_numpy() & ~text.isin(["", *MISSING_SPELLINGS]).to_numpy()
    return numbers, present & np.isnan(numbers)


# How spreadsheets and CSV writers spell a missing number (pyarrow's CSV defaults): in a
# column that also holds text they arrive as text, and still mean "missing".
MISSING_SPELLINGS = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
)  # fmt: skip


def _as_date_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO date text of a column that JSON or CSV readers may have typed as a timestamp
    (null where blank)."""
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return column.cast(pa.date32()).cast(pa.string())
    return _nonblank_text(column)


def _blank(text: pa.ChunkedArray) -> np.ndarray:
    """Null, empty or whitespace only. No trimmed copy is made."""
    blank = pc.or_(pc.equal(pc.utf8_length(text), 0), pc.utf8_is_space(text))
    return pc.fill_null(blank, True).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _nonblank_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    text = column.cast(pa.string())
    return pc.if_else(pa.chunked_array([_blank(text)]), pa.scalar(None, pa.string()), text)


@dataclass(frozen=True)
class _Labels:
    """A categorical or text column as text: missing where ``missing``, and which present
    values CatBoost cannot take as a category (a number with a fractional part), as sent."""

    text: pa.ChunkedArray
    missing: np.ndarray
    not_category: np.ndarray
    sent: pa.ChunkedArray | None = None


def _labels(column: pa.ChunkedArray | None, n: int) -> _Labels:
    if column is None:
        return _Labels(
            pa.chunked_array([pa.nulls(n, pa.string())]), np.ones(n, bool), np.zeros(n, bool)
        )
    kind = column.type
    if pa.types.is_floating(kind):
        # Integers become floats on the way (a JSON column holding one 2.5, a Parquet column
        # from pandas with a NaN): a whole number is taken as the integer it was, while
        # CatBoost refuses a number with a fraction as a category.
        missing = pc.fill_null(pc.is_nan(column), True).to_numpy(zero_copy_only=False)
        numbers = column.to_numpy(zero_copy_only=False)
        whole = ~missing & (np.floor(numbers) == numbers) & (np.abs(numbers) < 2**53)
        keep = pa.chunked_array([whole])
        integers = pc.cast(pc.if_else(keep, column, 0.0), pa.int64())
        text = pc.if_else(keep, pc.cast(integers, pa.string()), pa.scalar(None, pa.string()))
        return _Labels(text, missing, ~missing & ~whole, column.cast(pa.string()))
    if pa.types.is_boolean(kind):
        column = column.cast(pa.int8())  # CatBoost's Python package reads True as 1
    text = _nonblank_text(column)
    return _Labels(text, text.is_null().to_numpy(zero_copy_only=False), np.zeros(n, bool))


@dataclass(frozen=True)
class SlateChecks:
    """What every model of a batch shares: the checks of a row as a prediction (player,
    line, sportsbook, game date, a line once), made once however many models score it."""

    table: pa.Table
    bad: np.ndarray
    reasons: Mapping[int, Sequence[str]]
    players: pa.ChunkedArray
    line: np.ndarray
    books: pa.ChunkedArray
    odds: np.ndarray


class _Rejections:
    """Rows refused so far, each with every reason."""

    def __init__(self, n: int, bad: np.ndarray | None = None, reasons: Any = None) -> None:
        self.bad = np.zeros(n, dtype=bool) if bad is None else bad.copy()
        self.reasons: dict[int, list[str]] = {i: list(r) for i, r in (reasons or {}).items()}

    def fail(self, mask: np.ndarray, reason: str | Sequence[str]) -> None:
        indexes = np.flatnonzero(mask)
        self.bad[indexes] = True
        for index in indexes:
            text = reason if isinstance(reason, str) else reason[int(index)]
            self.reasons.setdefault(int(index), []).append(text)


def _check_odds(
    column: pa.ChunkedArray | None, n: int, fail: Callable[[np.ndarray, str], None]
) -> np.ndarray:
    """American odds: -100 or below (the stake that wins 100) or +100 or above (what a stake
    of 100 wins); absent is NaN."""
    odds, not_a_number = numeric_column(column, n)
    fail(not_a_number, "odds is not a number")
    with np.errstate(invalid="ignore"):
        fail(np.isinf(odds), "odds is not finite")
        fail(
            np.isfinite(odds) & (np.abs(odds) < 100),
            "odds are not American odds: -100 or below, or +100 or above",
        )
    return odds


def check_slate(table: pa.Table, *, game_date: date) -> SlateChecks:
    """Check each row as a prediction, whatever model scores it."""
    n = table.num_rows
    refused = _Rejections(n)
    fail = refused.fail
    present = set(table.column_names)

    if "player_lookup" in present:
        players = table.column("player_lookup").cast(pa.string())
        fail(_blank(players), "player_lookup is missing")
        too_long = pc.greater(pc.utf8_length(players), MAX_PLAYER_LOOKUP_CHARS)
        fail(
            pc.fill_null(too_long, False).to_numpy(zero_copy_only=False),
            f"player_lookup is longer than {MAX_PLAYER_LOOKUP_CHARS} characters",
        )
    else:
        players = pa.chunked_array([pa.nulls(n, pa.string())])
        fail(np.ones(n, dtype=bool), "player_lookup is missing")

    line_column = table.column("line_value") if "line_value" in present else None
    line, line_bad = numeric_column(line_column, n)
    if line_bad.any() or not np.isfinite(line).all() or (line < 0).any():
        fail(line_bad, "line_value is not a number")
        fail(np.isnan(line) & ~line_bad, "line_value is missing")
        fail(np.isinf(line), "line_value is not finite")
        with np.errstate(invalid="ignore"):
            fail(np.isfinite(line) & (line < 0), "line_value is negative: a line is 0 or more")

    if "sportsbook" in present:
        books = _nonblank_text(table.column("sportsbook"))
    else:
        books = pa.chunked_array([pa.nulls(n, pa.string())])

    odds = _check_odds(table.column("odds") if "odds" in present else None, n, fail)

    if "game_date" in present:
        dates = _as_date_text(table.column("game_date"))
        wrong = pc.fill_null(pc.not_equal(dates, game_date.isoformat()), False)
        mask = wrong.to_numpy(zero_copy_only=False)
        if mask.any():
            values = dates.to_pylist()
            fail(mask, [f"game_date {v} does not match the batch's {game_date}" for v in values])

    _reject_repeated_lines(players, line, books, fail)
    return SlateChecks(table, refused.bad, refused.reasons, players, line, books, odds)


def unchecked_slate(table: pa.Table) -> SlateChecks:
    """Rows taken as they are, with no check as a prediction: training rows, which have no
    player or line, fed to ``check_features`` to read their features as a batch would."""
    n = table.num_rows
    nothing = pa.chunked_array([pa.nulls(n, pa.string())])
    return SlateChecks(
        table, np.zeros(n, dtype=bool), {}, nothing, np.zeros(n), nothing, np.full(n, np.nan)
    )


def check_features(slate: SlateChecks, interface: ModelInterface) -> CheckedRows:
    """Split the slate's rows into one model's input (the good) and its rejects (with every
    reason, the slate's included). A feature the model needs that no row carries rejects
    every row, naming the columns that look like it: a misnamed column must not be
    predicted as missing values."""
    table = slate.table
    n = table.num_rows
    refused = _Rejections(n, slate.bad, slate.reasons)
    present = set(table.column_names)
    numeric: dict[str, np.ndarray] = {}
    labelled: dict[str, pa.ChunkedArray] = {}
    for feature in interface.features:
        column = table.column(feature.name) if feature.name in present else None
        fail = refused.fail
        if column is None:
            fail(np.ones(n, dtype=bool), _absent(feature, table.column_names))
            fail = _already_refused
        if feature.type is FeatureType.NUMERIC:
            numeric[feature.name] = _check_number(column, n, feature, interface, fail)
        else:
            labelled[feature.name] = _check_label(column, n, feature, interface, fail)

    bad_rows = refused.bad
    good_rows = np.flatnonzero(~bad_rows)
    all_good = len(good_rows) == n
    chosen = None if all_good else pa.array(good_rows)
    rejects = [
        RowReject(
            row_number=int(index),
            player_lookup=_shortened(slate.players[int(index)].as_py()),
            reason="; ".join(refused.reasons[int(index)]),
            raw_row=table.slice(int(index), 1).to_pylist()[0],
        )
        for index in np.flatnonzero(bad_rows)
    ]

    def kept(column: pa.ChunkedArray) -> pa.Array:
        return column.combine_chunks() if chosen is None else column.take(chosen).combine_chunks()

    return CheckedRows(
        requested=n,
        row_numbers=good_rows,
        player_lookup=kept(slate.players),
        line_value=slate.line[good_rows],
        sportsbook=kept(slate.books),
        odds=slate.odds[good_rows],
        features=_model_input(interface, numeric, labelled, good_rows, all_good),
        rejects=rejects,
    )


def check_rows(table: pa.Table, *, interface: ModelInterface, game_date: date) -> CheckedRows:
    """Split rows into the good (as the model's input) and the rejected (with reasons)."""
    return check_features(check_slate(table, game_date=game_date), interface)


def _absent(feature: ModelFeature, columns: Sequence[str]) -> str:
    """Why a row lacks a feature no row carries, with the columns that look like it."""
    wanted = _comparable(feature.name)
    alike = [c for c in columns if _comparable(c) == wanted]
    alike = alike or difflib.get_close_matches(feature.name, columns, n=2, cutoff=0.75)
    hint = f": the input has {', '.join(repr(c) for c in alike)}" if alike else ""
    return (
        f"feature {feature.name} is not in the input (column names must match the model's "
        f"exactly{hint})"
    )


def _already_refused(mask: np.ndarray, reason: str | Sequence[str]) -> None:
    """Every row already refused for a feature it lacks: no second reason for it."""


def _comparable(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _shortened(player: str | None) -> str | None:
    """A rejected row's player as kept with the reject: never longer than the limit."""
    return player if player is None else player[:MAX_PLAYER_LOOKUP_CHARS]


# check_rows' ``fail``: reject the rows of a mask, with one reason or a reason per row.
_Fail = Callable[[np.ndarray, str | Sequence[str]], None]


def _check_number(
    column: pa.ChunkedArray | None,
    n: int,
    feature: ModelFeature,
    interface: ModelInterface,
    fail: _Fail,
) -> np.ndarray:
    name = feature.name
    values, bad = numeric_column(column, n)
    if bad.any() or not np.isfinite(values).all():
        fail(bad, f"feature {name} is not a number")
        if interface.forbids_missing and column is not None:
            fail(
                np.isnan(values) & ~bad,
                f"feature {name} is missing (the model was trained with nan_mode Forbidden)",
            )
        fail(np.isinf(values), f"feature {name} is not finite")
    return values


def _check_label(
    column: pa.ChunkedArray | None,
    n: int,
    feature: ModelFeature,
    interface: ModelInterface,
    fail: _Fail,
) -> pa.ChunkedArray:
    name = feature.name
    labels = _labels(column, n)
    if labels.not_category.any():
        values = (labels.sent or labels.text).to_pylist()
        fail(
            labels.not_category,
            [
                f"feature {name} is categorical but got the number {v}: send categories as "
                "text or integers"
                for v in values
            ],
        )
    token = interface.categorical_missing_value
    if feature.type is FeatureType.CATEGORICAL and token is not None:
        return pc.fill_null(labels.text, token)
    if labels.missing.any():
        advice = (
            " (declare the token the model was trained with for a missing category in its "
            "metadata as cat_missing_value)"
            if feature.type is FeatureType.CATEGORICAL
            else ""
        )
        fail(labels.missing, f"{feature.type.value} feature {name} is missing{advice}")
    return labels.text


def _reject_repeated_lines(
    players: pa.ChunkedArray, line: np.ndarray, books: pa.ChunkedArray, fail: _Fail
) -> None:
    """The same player, line and sportsbook a second time (several lines a player is fine)."""
    non_null = len(players) - players.null_count
    distinct = len(pc.unique(players)) - (1 if players.null_count else 0)
    if distinct == non_null:
        return
    frame = pd.DataFrame({"player": players.to_pandas(), "line": line, "book": books.to_pandas()})
    repeated = frame.duplicated(keep="first").to_numpy() & frame["player"].notna().to_numpy()
    fail(repeated, "the same player, line and sportsbook appear more than once in the batch")


def _model_input(
    interface: ModelInterface,
    numeric: dict[str, np.ndarray],
    labelled: dict[str, pa.ChunkedArray],
    good_rows: np.ndarray,
    all_good: bool,
) -> ModelInput:
    names = [f.name for f in interface.features]
    if not labelled:
        matrix = np.empty((len(good_rows), len(names)), dtype=np.float64)
        for position, name in enumerate(names):
            matrix[:, position] = numeric[name] if all_good else numeric[name][good_rows]
        return matrix
    chosen = None if all_good else pa.array(good_rows)
    columns: dict[str, Any] = {}
    for name in names:
        if name in numeric:
            columns[name] = numeric[name] if all_good else numeric[name][good_rows]
        else:
            text = labelled[name] if chosen is None else labelled[name].take(chosen)
            columns[name] = text.to_numpy(zero_copy_only=False)
    return pd.DataFrame(columns, copy=False)
