"""The conventions every ``attribution`` command keeps: the global flags before or after the
command, ``cards show``, the attribution columns of ``predictions``, progress bars on a
terminal only, exit codes by name.

Driven as users drive it: in-process ``main([...])`` on a temporary ATTRIBUTION_HOME with a
model made by ``attribution train`` and uploaded, and the console script in a subprocess,
under a pseudo-terminal where a terminal matters.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from terminal_support import run_on_a_terminal
from test_cli import SMALL, card_objects, run, run_json
from test_cli_errors import SCRIPT, refused

import attribution.cli
from attribution.cli.main import build_parser
from attribution.cli.waiting import Pending, await_function
from attribution.config import PublisherKind
from attribution.devtools.slates import slate_for
from attribution.devtools.training import TrainingSpec, train_model
from attribution.package_folders import schemas_dir

CLI_FOLDER = Path(attribution.cli.__file__).parent
DAY = date(2026, 3, 2)
SYSTEM = "catboost_v9"
ATTRIBUTION = [
    "model_file_name",
    "model_sha256",
    "model_trained_at",
    "model_card_id",
    "attribution_method",
]
# A value for each required argument of any command, by its dest: a new command whose
# required argument is missing here fails the walk below, naming it.
SAMPLES = {
    "out": "m.cbm",
    "file": "m.cbm",
    "system_id": SYSTEM,
    "model_ref": "m.cbm",
    "game_date": DAY.isoformat(),
    "input": "rows.jsonl",
    "ref": "m.cbm",
    "data": "rows.csv",
    "export_format": "mct",
}


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command (and subcommand) of the parser, with the words that name it."""
    if path and parser.get_default("handler") is not None:
        yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def required_arguments(parser: argparse.ArgumentParser) -> list[str]:
    words: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or not (
            action.required or not action.option_strings
        ):
            continue
        assert action.dest in SAMPLES, f"add a sample value for {action.dest} to SAMPLES"
        words += [action.option_strings[0]] if action.option_strings else []
        words.append(SAMPLES[action.dest])
    return words


@pytest.mark.parametrize("path", [path for path, _ in commands(build_parser())], ids=" ".join)
def test_every_command_takes_the_global_flags_before_or_after_it(
    path: tuple[str, ...], tmp_path: Path
) -> None:
    parser = build_parser()
    command = dict(commands(parser))[path]
    words = [*path, *required_arguments(command)]
    flags = ["--json", "--home", str(tmp_path)]

    neither = parser.parse_args(words)
    before = parser.parse_args([*flags, *words])
    after = parser.parse_args([*words, *flags])
    split = parser.parse_args(["--json", *words, "--home", str(tmp_path)])

    assert (neither.json, neither.home) == (False, None)
    for args in (before, after, split):
        assert (args.json, args.home) == (True, tmp_path)
        assert args.handler is neither.handler


# --- a real home: a model trained, uploaded, promoted, and a day predicted ---------------------


@dataclass(frozen=True)
class World:
    home: Path
    model: Path
    card: dict[str, Any]


@pytest.fixture
def world(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> World:
    model = tmp_path / "catboost_v9_conventions.cbm"
    run_json(capsys, "train", "--out", str(model), "--seed", "11", *SMALL)
    card = run_json(capsys, "upload", str(model))["card"]
    run_json(capsys, "promote", SYSTEM, model.name, "--at", "2026-02-01T00:00:00Z")
    slate = tmp_path / "slate.jsonl"
    slate.write_text("".join(json.dumps(r) + "\n" for r in slate_for(DAY, players=12).rows))
    logged = run_json(
        capsys,
        "predict",
        "--system-id",
        SYSTEM,
        "--game-date",
        DAY.isoformat(),
        "--input",
        str(slate),
    )
    assert logged["status"] == "success"
    return World(home, model, card)


@pytest.mark.parametrize(
    "words",
    [
        ["cards"],
        ["cards", "--system-id", SYSTEM],
        ["cards", "show", "catboost_v9_conventions.cbm"],
        ["deployments"],
        ["predictions", "--game-date", DAY.isoformat()],
        ["predictions", "--game-date", DAY.isoformat(), "--per-day"],
        ["report", "models"],
        ["backfill", "--dry-run"],
    ],
    ids=" ".join,
)
def test_json_before_or_after_the_command_says_the_same(
    world: World, capsys: pytest.CaptureFixture[str], words: list[str]
) -> None:
    code, before, err = run(capsys, "--json", *words)
    assert code == 0, err
    code, after, err = run(capsys, *words, "--json")
    assert code == 0, err
    assert json.loads(after) == json.loads(before)
    code, text, _ = run(capsys, *words)
    assert code == 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_home_after_the_command_is_the_home_too(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    assert run_json(capsys, "cards", "--home", str(other)) == {"cards": [], "rejected_uploads": []}
    assert (other / "warehouse.duckdb").is_file()


# --- cards show -------------------------------------------------------------------------------


def stored_card(home: Path) -> dict[str, Any]:
    (path,) = card_objects(home)
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_cards_show_prints_the_stored_card_by_any_of_its_names(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = stored_card(world.home)
    sha256 = hashlib.sha256(world.model.read_bytes()).hexdigest()
    assert stored["model_sha256"] == sha256
    references = [
        stored["card_id"],
        stored["card_id"][:8],
        sha256,
        sha256[:8],
        world.model.name,
        f"models/{world.model.name}",
        stored["model_uri"],
    ]
    for reference in references:
        assert run_json(capsys, "cards", "show", reference) == stored, reference

    code, out, err = run(capsys, "cards", "show", sha256[:12])
    assert (code, err) == (0, "")
    shown = dict(line.strip().split(None, 1) for line in out.splitlines())
    assert set(shown) == set(stored)
    for key in ("card_id", "model_sha256", "model_uri", "system_id", "trained_at", "status"):
        assert shown[key] == str(stored[key]), key
    assert shown["expected_mae"] == str(stored["expected_mae"])
    assert shown["schema_version"] == str(stored["schema_version"])
    assert [n.split(" ")[0] for n in shown["features"].split(", ")] == [
        f["name"] for f in stored["features"]
    ]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("nothing.cbm", "no card matches model reference 'nothing.cbm' (unknown_model)"),
        ("0000000000", "no card matches model reference '0000000000' (unknown_model)"),
        (
            "elsewhere/catboost_v9_conventions.cbm",
            "no card matches model reference 'elsewhere/catboost_v9_conventions.cbm': the "
            "newest card of that file name is for "
            "gs://models/models/catboost_v9_conventions.cbm (unknown_model)",
        ),
    ],
)
def test_cards_show_of_no_card_is_one_line(
    world: World, capsys: pytest.CaptureFixture[str], reference: str, message: str
) -> None:
    for flags in ([], ["--json"]):
        code, line = refused(capsys, "cards", "show", reference, *flags)
        assert (code, line) == (2, f"error: {message}")


def test_cards_without_show_is_still_the_list(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = run_json(capsys, "cards")
    assert [c["card_id"] for c in listed["cards"]] == [world.card["card_id"]]
    code, out, _ = run(capsys, "cards")
    assert code == 0
    assert out.startswith("Model cards\n")
    assert "Rejected uploads" in out
    code, line = refused(capsys, "cards", "shwo")
    assert code == 2
    assert "invalid choice: 'shwo'" in line


# --- predictions ------------------------------------------------------------------------------


def table_cells(out: str) -> tuple[list[str], list[list[str]]]:
    header, rule, *lines = out.splitlines()
    widths = [len(dashes) for dashes in rule.split("  ")]
    starts = [sum(widths[:i]) + 2 * i for i in range(len(widths))]

    def cells(line: str) -> list[str]:
        return [line[s : s + w].strip() for s, w in zip(starts, widths, strict=True)]

    return cells(header), [cells(line) for line in lines]


def queried(home: Path, columns: list[str]) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb")) as db:
        return db.execute(
            f"SELECT {', '.join(columns)} FROM player_prop_predictions WHERE game_date = ? "
            "ORDER BY system_id, player_lookup, created_at",
            [DAY],
        ).fetchall()


def test_predictions_show_the_attribution_beside_each_prediction(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "predictions", "--game-date", DAY.isoformat())
    assert code == 0
    header, rows = table_cells(out)
    identity = ["game_date", "system_id", "player_lookup", "line_value", "predicted_points"]
    assert header == [*identity, "over_probability", "recommendation", *ATTRIBUTION]
    expected = queried(world.home, ["player_lookup", *ATTRIBUTION])
    assert len(rows) == len(expected) == 12
    for cells, (player, file_name, sha256, trained_at, card_id, method) in zip(
        rows, expected, strict=True
    ):
        assert cells[2] == player
        assert cells[5] == "-"  # a points model gives no probability
        assert cells[7:] == [
            file_name,
            sha256,
            f"{trained_at.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}",
            card_id,
            method,
        ]
    assert {row[-2] for row in rows} == {world.card["card_id"]}
    assert {row[-1] for row in rows} == {"stamped"}


def test_predictions_show_a_classifiers_probability_by_default(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    system = "catboost_ou"
    spec = TrainingSpec(system_id=system, over_under=True, rows=2000, iterations=30, depth=4)
    model = train_model(spec, tmp_path / "catboost_ou_conventions.cbm")
    run_json(capsys, "upload", str(model))
    run_json(capsys, "promote", system, model.name, "--at", "2026-02-01T00:00:00Z")
    slate = tmp_path / "ou_slate.jsonl"
    slate.write_text("".join(json.dumps(r) + "\n" for r in slate_for(DAY, players=12).rows))
    predict = ["predict", "--system-id", system, "--game-date", DAY.isoformat()]
    assert run_json(capsys, *predict, "--input", str(slate))["status"] == "success"

    code, out, _ = run(capsys, "predictions", "--game-date", DAY.isoformat(), "--system-id", system)
    assert code == 0
    header, rows = table_cells(out)
    with duckdb.connect(str(world.home / "warehouse.duckdb")) as db:
        expected = db.execute(
            "SELECT player_lookup, over_probability, recommendation FROM player_prop_predictions "
            "WHERE game_date = ? AND system_id = ? ORDER BY player_lookup, created_at",
            [DAY, system],
        ).fetchall()
    assert len(rows) == len(expected) == 12
    column = {name: header.index(name) for name in header}
    for cells, (player, probability, recommendation) in zip(rows, expected, strict=True):
        assert 0.0 < probability < 1.0
        assert cells[column["player_lookup"]] == player
        assert cells[column["predicted_points"]] == "-"
        assert cells[column["over_probability"]] == f"{probability:.2f}"
        assert cells[column["recommendation"]] == recommendation


def test_predictions_columns_picks_them(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    columns = ["player_lookup", "edge", "model_card_id", "over_probability"]
    picked = ",".join(columns)
    code, out, _ = run(capsys, "predictions", "--game-date", DAY.isoformat(), "--columns", picked)
    assert code == 0
    header, rows = table_cells(out)
    assert header == columns
    expected = queried(world.home, columns)
    assert [(r[0], r[2]) for r in rows] == [(e[0], e[2]) for e in expected]

    documents = run_json(capsys, "predictions", "--game-date", DAY.isoformat(), "--columns", picked)
    assert [list(d) for d in documents] == [sorted(columns)] * len(expected)
    assert [tuple(d[c] for c in columns) for d in documents] == expected

    every = run_json(capsys, "predictions", "--game-date", DAY.isoformat())
    schema = json.loads((schemas_dir() / "bigquery" / "player_prop_predictions.json").read_text())
    assert {tuple(sorted(d)) for d in every} == {tuple(sorted(c["name"] for c in schema))}


def test_an_unknown_column_is_one_line_naming_the_valid_ones(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, line = refused(
        capsys, "predictions", "--game-date", DAY.isoformat(), "--columns", "player_lookup,nope"
    )
    assert code == 2
    schema = json.loads((schemas_dir() / "bigquery" / "player_prop_predictions.json").read_text())
    names = ", ".join(c["name"] for c in schema)
    assert line == f"error: --columns has no column nope: choose from {names} (unknown_column)"
    code, line = refused(
        capsys, "predictions", "--game-date", DAY.isoformat(), "--per-day", "--columns", "edge"
    )
    assert code == 2
    assert line.startswith("error: --columns has no column edge: choose from game_date, ")


# --- progress bars: on a terminal only --------------------------------------------------------


def test_no_bar_when_stderr_is_no_terminal(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The runner's stderr is no terminal: the world's train, upload and predict drew nothing.
    code, _, err = run(capsys, "train", "--out", str(tmp_path / "quiet.cbm"), *SMALL)
    assert (code, err) == (0, "")
    code, _, err = run(capsys, "backfill")
    assert code == 0
    assert "\x1b[" not in err


def under_a_terminal(home: Path, *argv: str) -> tuple[int, str, str]:
    """The console script with its stderr on a pseudo-terminal (stdout a pipe): the exit
    code, stdout, and everything the terminal was sent."""
    return run_on_a_terminal(
        [str(SCRIPT), *argv],
        {**os.environ, "ATTRIBUTION_HOME": str(home), "TERM": "xterm", "COLUMNS": "250"},
        timeout=120,
    )


def test_a_terminal_shows_the_bars_and_short_log_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    model = tmp_path / "catboost_v9_tty.cbm"
    code, out, screen = under_a_terminal(
        home, "--json", "train", "--out", str(model), "--rows", "2000", "--iterations", "200"
    )
    assert code == 0, screen
    assert json.loads(out)["model"] == str(model)  # stdout, not a terminal, stays clean
    assert "training catboost_v9_tty.cbm" in screen
    assert re.search(r"\b\d+/200\b", screen), screen

    code, out, screen = under_a_terminal(home, "upload", str(model))
    assert code == 0, screen
    assert f"making the card of gs://models/models/{model.name}" in screen
    # Log lines for people: time, level, message, fields; no JSON.
    assert re.search(r"\d\d:\d\d:\d\d INFO model card published card_id=[0-9a-f]{64}", screen)
    assert '"severity"' not in screen

    code, _, screen = under_a_terminal(home, "backfill", "--dry-run")
    assert code == 0, screen
    assert "backfill" in screen
    assert "0 rows" in screen


# --- exit codes and the wait for a function ---------------------------------------------------


def test_no_command_returns_a_bare_exit_code() -> None:
    """Every exit code the CLI returns is an ExitCode name, not a number."""
    bare = []
    for path in sorted(CLI_FOLDER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            returned = node.value if isinstance(node, ast.Return) else None
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "exit":
                returned = node.args[0] if node.args else None
            if isinstance(returned, ast.Constant) and type(returned.value) is int:
                bare.append(f"{path.name}:{node.lineno}")
    assert bare == []


@dataclass(frozen=True)
class Elsewhere:
    """Settings whose functions run in another process (Pub/Sub)."""

    publisher_kind: PublisherKind = PublisherKind.PUBSUB


def test_waiting_for_a_function_elsewhere() -> None:
    answers = iter([None, None, "done"])
    settings: Any = Elsewhere()
    assert await_function(settings, lambda: next(answers), wait=5, what="x") == "done"
    assert await_function(settings, lambda: None, wait=0, what="x") == Pending(0.0)
    assert await_function(settings, lambda: None, wait=0.1, what="x") == Pending(0.1)
