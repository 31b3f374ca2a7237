"""A batch id names one input; a line that is no row is a rejected row, never a lost batch.

Through the real entry point (the in-process bus posts CloudEvents to functions-framework)
and through ``attribution predict``, on the embedded warehouse and local bucket.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from attribution.cli.main import main
from attribution.devtools.slates import Slate

from .support import (
    GAME_DATE,
    SYSTEM,
    BatchWorld,
    claim_check,
    dead_letters,
    kept_input,
    predictions,
    publish,
    rejects,
    request,
    the_log,
)


def test_the_same_id_with_other_rows_is_refused_and_changes_nothing(
    world: BatchWorld, slate: Slate
) -> None:
    app = world.app
    first = request("b-id", slate.rows[:20])
    assert publish(app, first).ok
    before = the_log(app, "b-id")
    kept_uri, kept = kept_input(app, "b-id", "jsonl")

    assert publish(app, first).ok  # a redelivery: nothing changes
    assert the_log(app, "b-id") == before

    other = request("b-id", slate.rows[20:])
    assert publish(app, other).ok  # refused, acknowledged: Pub/Sub must not retry it
    assert the_log(app, "b-id") == before
    assert {r["player_lookup"] for r in predictions(app, "b-id")} == {
        r["player_lookup"] for r in slate.rows[:20]
    }
    assert kept_input(app, "b-id", "jsonl") == (kept_uri, kept)  # the evidence is intact
    (letter,) = dead_letters(app)
    assert letter["error_code"] == "batch_id_reused"
    assert "b-id" in letter["error"] and "new batch_id" in letter["error"]
    assert before["input_sha256"] == hashlib.sha256(kept).hexdigest()


def test_a_claim_check_under_a_used_id_never_overwrites_the_kept_input(
    world: BatchWorld, slate: Slate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = world.app
    uri = claim_check(app, "redo1", slate.rows[:10], "csv")
    assert publish(app, request("redo1", rows_uri=uri)).ok
    _, kept = kept_input(app, "redo1", "csv")

    other = tmp_path / "other.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(slate.rows[10]))
    writer.writeheader()
    writer.writerows(slate.rows[10:30])
    other.write_text(buffer.getvalue())
    argv = ["predict", "--system-id", SYSTEM, "--game-date", str(GAME_DATE), "--batch-id"]
    code = main([*argv, "redo1", "--input", str(other)])

    assert code == 2
    error = capsys.readouterr().err
    assert "batch_id redo1 already names another input" in error and "batch_id_reused" in error
    assert kept_input(app, "redo1", "csv")[1] == kept
    assert the_log(app, "redo1")["rows_written"] == 10
    assert len(predictions(app, "redo1")) == 10


def test_the_same_command_twice_is_one_batch(
    world: BatchWorld, slate: Slate, tmp_path: Path
) -> None:
    path = tmp_path / "slate.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in slate.rows))
    argv = ["predict", "--system-id", SYSTEM, "--game-date", str(GAME_DATE), "--input", str(path)]
    assert main(argv) == 0
    assert main(argv) == 0
    (row,) = world.app.warehouse.query("SELECT COUNT(*) AS n FROM prediction_execution_log")
    assert row["n"] == 1
    (row,) = world.app.warehouse.query("SELECT COUNT(*) AS n FROM player_prop_predictions")
    assert row["n"] == len(slate.rows)


def jsonl_with_bad_lines(rows: list[dict[str, Any]]) -> tuple[bytes, dict[int, str]]:
    """The rows as JSONL, with a truncated line, a line that is an array, and a BOM."""
    lines = [json.dumps(r) for r in rows]
    bad = {7: lines[7][:25], 13: json.dumps([1, 2, 3])}
    for index, text in bad.items():
        lines[index] = text
    return ("\ufeff" + "\n".join(lines) + "\n").encode(), bad


@pytest.mark.parametrize("inline_bom", [False, True])
def test_lines_that_are_no_rows_are_rejected_rows_and_the_rest_are_written(
    world: BatchWorld, slate: Slate, inline_bom: bool
) -> None:
    app = world.app
    data, bad = jsonl_with_bad_lines(list(slate.rows))
    if not inline_bom:
        data = data.removeprefix("\ufeff".encode())
    app.models.write("batches/incoming/bad-lines.jsonl", data)
    uri = f"gs://{app.models.bucket}/batches/incoming/bad-lines.jsonl"
    assert publish(app, request("b-lines", rows_uri=uri)).ok

    log = the_log(app, "b-lines")
    assert (log["status"], log["rows_requested"]) == ("partial", len(slate.rows))
    assert (log["rows_written"], log["rows_rejected"]) == (len(slate.rows) - 2, 2)
    written = {r["player_lookup"] for r in predictions(app, "b-lines")}
    assert written == {r["player_lookup"] for i, r in enumerate(slate.rows) if i not in bad}
    recorded = sorted(rejects(app, "b-lines"), key=lambda r: r["reason"])
    assert [r["reason"] for r in recorded] == [
        "line 14 is not a JSON object",
        f"line 8 is not JSON: {json_error(bad[7])}",
    ]
    raw = [json.loads(r["raw_row"]) for r in recorded]
    assert raw == [{"line": 14, "text": bad[13]}, {"line": 8, "text": bad[7]}]


def json_error(text: str) -> str:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.msg
    raise AssertionError("the line is JSON")


def test_a_ragged_csv_line_is_a_rejected_row(world: BatchWorld, slate: Slate) -> None:
    app = world.app
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(slate.rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(slate.rows)
    lines = buffer.getvalue().splitlines()
    lines[5] = lines[5] + ",an extra field"  # data row 4 (line 6 of the file)
    data = ("\ufeff" + "\n".join(lines) + "\n").encode()  # as Excel writes it
    app.models.write("batches/incoming/ragged.csv", data)
    assert publish(
        app, request("b-ragged", rows_uri=f"gs://{app.models.bucket}/batches/incoming/ragged.csv")
    ).ok

    log = the_log(app, "b-ragged")
    assert (log["rows_written"], log["rows_rejected"]) == (len(slate.rows) - 1, 1)
    (reject,) = rejects(app, "b-ragged")
    fields = len(slate.rows[0])
    assert reject["reason"] == f"line 6 has {fields + 1} fields where the header has {fields}"
    assert json.loads(reject["raw_row"]) == {"line": 6, "text": lines[5]}
    assert slate.rows[4]["player_lookup"] not in {
        r["player_lookup"] for r in predictions(app, "b-ragged")
    }
