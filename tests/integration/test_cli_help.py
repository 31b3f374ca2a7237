"""The ``attribution`` command explains itself: its version, help for every flag, argument
and command of the whole tree, and the choices of every flag that takes one of a set.

Walks the parser ``main`` runs, and runs the installed console script for ``--version``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
from collections.abc import Iterator
from enum import Enum

import pytest
from test_cli_conventions import commands, required_arguments
from test_cli_errors import SCRIPT, refused

from attribution.batches.request import RunMode
from attribution.cli.main import build_parser, main


def parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the tree, the top one and each command's and subcommand's, by name."""
    yield " ".join(("attribution", *path)), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*path, name))


def test_the_walk_reaches_every_command() -> None:
    names = {name for name, _ in parsers(build_parser())}
    assert {"attribution", "attribution cards show", "attribution report models"} <= names
    assert {"attribution ledger import", "attribution verify", "attribution train"} <= names


def test_every_flag_argument_and_command_has_help() -> None:
    missing = []
    for name, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                listed = {choice.dest for choice in action._choices_actions if choice.help}
                missing += [f"{name} {c}" for c in action.choices if c not in listed]
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


@pytest.mark.parametrize("path", [path for path, _ in commands(build_parser())], ids=" ".join)
def test_every_flag_that_takes_one_of_a_set_lists_the_set(path: tuple[str, ...]) -> None:
    """A flag whose value becomes an enum member has ``choices``, so --help lists them and
    argparse refuses any other value naming them."""
    command = dict(commands(build_parser()))[path]
    parsed = build_parser().parse_args([*path, *required_arguments(command)])
    for action in command._actions:
        if isinstance(getattr(parsed, action.dest, None), Enum):
            assert action.choices, f"{' '.join(path)} {action.option_strings}"
            assert {str(c) for c in action.choices} == {
                m.value for m in type(getattr(parsed, action.dest))
            }


def test_run_mode_lists_its_choices_and_refuses_any_other(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["predict", "--help"]) == 0
    assert "--run-mode {EARLY,OVERNIGHT,SAME_DAY,BACKFILL}" in capsys.readouterr().out

    predict = ["predict", "--system-id", "s", "--game-date", "2026-03-01", "--input", "x.jsonl"]
    for given, mode in [("same-day", RunMode.SAME_DAY), ("ALL_PLAYERS", RunMode.OVERNIGHT)]:
        assert build_parser().parse_args([*predict, "--run-mode", given]).run_mode is mode
    assert build_parser().parse_args(predict).run_mode is RunMode.OVERNIGHT

    code, line = refused(capsys, *predict, "--run-mode", "nightly")
    assert (code, line) == (
        2,
        "error: argument --run-mode: invalid choice: 'nightly' (choose from 'EARLY', "
        "'OVERNIGHT', 'SAME_DAY', 'BACKFILL') (see `attribution predict --help`)",
    )


def test_the_training_window_flags_say_they_are_no_game_dates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--training-start D first day of the training window the model declares, not a " in text
    assert "--training-end D last day of the training window the model declares" in text


def test_results_help_names_the_columns_a_results_file_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["results", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "with the columns game_date, player_lookup, actual_points;" in text
    assert "--input INPUT JSONL, CSV or Parquet with columns game_date, player_lookup, " in text


def test_version_prints_the_installed_distributions_version() -> None:
    done = subprocess.run(
        [str(SCRIPT), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"attribution {importlib.metadata.version('model-attribution')}\n"
