"""Every ``--json`` output is JSON (RFC 8259): no NaN, Infinity or -Infinity, even when the
warehouse holds an infinite number; a non-finite number is null with a ``non_finite`` note.

Runs every command of the CLI in-process on a fresh embedded home (local bucket folder,
DuckDB, in-process bus) and parses each output with a parser that refuses those constants.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa
import pytest

from attribution.bootstrap import app
from attribution.cli.main import build_parser, main
from attribution.cli.output import print_json
from attribution.devtools.slates import slate_for
from attribution.json_safe import NOTE_KEY, dumps_finite, finite_json

SMALL = ["--rows", "2000", "--iterations", "30", "--depth", "4"]
DAY = date(2026, 3, 2)
SYSTEM = "catboost_v9"
NO_JSON_OUTPUT = {"serve"}  # runs the local stack until stopped; prints endpoints for people


def strict(text: str) -> Any:
    def refuse(constant: str) -> NoReturn:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.commands: set[str] = set()

    def json(self, *argv: str, code: int = 0) -> Any:
        self.capsys.readouterr()
        self.commands.add(argv[0])
        assert main(["--json", *argv]) == code, self.capsys.readouterr().err
        return strict(self.capsys.readouterr().out)


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_every_json_command_writes_json_even_over_infinite_numbers(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(capsys)
    model = tmp_path / "catboost_v9_json.cbm"
    assert cli.json("train", "--out", str(model), "--seed", "3", *SMALL)["model"] == str(model)
    assert cli.json("card", str(model))["model_file_name"] == model.name
    assert cli.json("profile", "show", str(model))["profile"]["rows"] == 2000
    card = cli.json("upload", str(model))["card"]
    assert [c["card_id"] for c in cli.json("cards")["cards"]] == [card["card_id"]]
    assert "created_tables" in cli.json("migrate")
    assert cli.json("promote", SYSTEM, model.name, "--at", "2026-02-01T00:00:00Z")["new"] is True
    assert len(cli.json("deployments")) == 1

    slate = slate_for(DAY, players=40)
    rows = _jsonl(tmp_path / "slate.jsonl", slate.rows)
    profiled = tmp_path / "profiled.cbm"
    embedded = cli.json("profile", "embed", str(model), "--data", str(rows), "--out", str(profiled))
    assert (embedded["model"], embedded["profile"]["rows"]) == (str(profiled), 40)
    logged = cli.json(
        "predict", "--system-id", SYSTEM, "--game-date", DAY.isoformat(), "--input", str(rows)
    )
    assert logged["status"] == "success"
    # Every player's result but one: that one gets an infinity written by "another tool".
    graded, left_out = slate.results[1:], slate.results[0]
    results = _jsonl(tmp_path / "results.jsonl", graded)
    assert cli.json("results", "--input", str(results))["loaded"] == len(graded)
    _write_infinite_result(left_out)
    bad = _jsonl(
        tmp_path / "bad.jsonl",
        [{"game_date": DAY.isoformat(), "player_lookup": "p_x", "actual_points": float("inf")}],
    )
    refused = cli.json("results", "--input", str(bad), code=1)
    assert refused["rejected"] == [[0, "actual_points must be a finite number, not Infinity"]]

    assert len(cli.json("predictions", "--game-date", DAY.isoformat())) == 40
    assert (
        cli.json("predictions", "--game-date", DAY.isoformat(), "--per-day")[0]["predictions"] == 40
    )

    report = cli.json("report", "models")
    (row,) = report
    assert row["mae"] is None and row[NOTE_KEY] == {"mae": "Infinity"}
    assert row["predictions"] == 40

    (verdict,) = cli.json("verify", "--game-date", DAY.isoformat(), code=3)["verdicts"]
    performance = next(c for c in verdict["checks"] if c["name"] == "performance")
    assert performance["status"] == "PARTIAL"  # MAE off its card
    assert NOTE_KEY in json.dumps(performance)
    stored = app().warehouse.query("SELECT checks_json FROM verification_runs")
    assert [strict(r["checks_json"]) for r in stored]  # what the warehouse keeps parses too

    unknown = cli.json("verify", "--game-date", DAY.isoformat(), "--system-id", "nope", code=5)
    assert unknown["code"] == "unknown_system"

    ledger = tmp_path / "deploy_log.csv"
    ledger.write_text(
        f"system_id,model_file_name,active_from\n{SYSTEM},{model.name},2026-02-01T00:00:00Z\n"
    )
    assert cli.json("ledger", "import", str(ledger))["entries"] == 1
    assert "considered" in cli.json("backfill", "--dry-run")

    rival = tmp_path / "catboost_v9_json_rival.cbm"
    cli.json("train", "--out", str(rival), "--seed", "4", *SMALL)
    cli.json("upload", str(rival))
    started = cli.json("challenge", SYSTEM, rival.name, "--until", "2100-01-01T00:00:00Z")
    assert (started["role"], started["new"]) == ("challenger", True)
    assert cli.json("report", "compare", "--system-id", SYSTEM) == {"comparisons": []}
    assert cli.json("retire", SYSTEM, rival.name)["role"] == "retired"

    every = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert cli.commands == every - NO_JSON_OUTPUT


def _write_infinite_result(result: dict[str, Any]) -> None:
    table = pa.table(
        {
            "game_date": pa.array([DAY], pa.date32()),
            "player_lookup": [result["player_lookup"]],
            "actual_points": pa.array([float("inf")], pa.float64()),
            "loaded_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
        }
    )
    written = app().warehouse.insert_new_rows(
        "player_game_results", table, key=["game_date", "player_lookup"]
    )
    assert written == 1


def test_print_json_notes_each_non_finite_number_in_the_object_that_held_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import numpy as np

    value = {
        "mae": float("inf"),
        "fine": 1.5,
        "nested": {"low": float("-inf"), "gap": float("nan"), "ok": np.float32(2.5)},
        "series": [1.0, np.float64("nan"), 3],
        "rows": [{"x": np.float32("inf")}],
        "when": date(2026, 3, 2),
    }
    print_json(value)
    captured = capsys.readouterr()
    assert strict(captured.out) == {
        "mae": None,
        "fine": 1.5,
        "nested": {
            "low": None,
            "gap": None,
            "ok": 2.5,
            NOTE_KEY: {"low": "-Infinity", "gap": "NaN"},
        },
        "series": [1.0, None, 3],
        "rows": [{"x": None, NOTE_KEY: {"x": "Infinity"}}],
        "when": "2026-03-02",
        NOTE_KEY: {"mae": "Infinity", "series/1": "NaN"},
    }
    assert captured.err == ""

    print_json([1.0, float("inf")])  # no object to hold the note: null, and a note on stderr
    captured = capsys.readouterr()
    assert strict(captured.out) == [1.0, None]
    assert "1: Infinity" in captured.err


def test_finite_json_leaves_finite_documents_alone() -> None:
    document = {"a": [1, 2.5, {"b": None, "c": True}], "d": "Infinity"}
    assert finite_json(document) == (document, {})
    assert strict(dumps_finite({"x": float("nan")})) == {"x": None, NOTE_KEY: {"x": "NaN"}}
