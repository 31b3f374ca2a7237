"""One date vocabulary on every command that takes game dates: ``--game-date D`` for one day,
``--from D --to D`` for a range; a combination that says two things, or nothing, is a usage
error of that command, refused before anything is opened.

Runs ``main`` in-process on a temporary ATTRIBUTION_HOME and walks the parser it runs.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest
from test_cli_conventions import commands
from test_cli_errors import refused

from attribution.cli.game_dates import resolve_game_dates
from attribution.cli.main import build_parser

RANGE_COMMANDS = {
    ("predictions",),
    ("verify",),
    ("report", "models"),
    ("report", "compare"),
    ("report", "html"),
    ("backfill",),
}
GAME_DATE_FLAGS = {"--game-date", "--from", "--to"}


def flags(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def test_every_command_that_takes_a_range_takes_the_same_three_date_flags() -> None:
    dated = {
        path: command
        for path, command in commands(build_parser())
        if flags(command) & GAME_DATE_FLAGS
    }
    assert {path for path, command in dated.items() if "--from" in flags(command)} == (
        RANGE_COMMANDS
    )
    for path in RANGE_COMMANDS:
        assert flags(dated[path]) >= GAME_DATE_FLAGS, path
    assert flags(dated[("predict",)]) & GAME_DATE_FLAGS == {"--game-date"}  # a batch is a day


def see(command: str) -> str:
    return f" (see `attribution {command} --help`)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["verify", "--from", "2026-03-05", "--to", "2026-03-01"],
            "--from 2026-03-05 is after --to 2026-03-01: a range runs from its first day to "
            "its last" + see("verify"),
        ),
        (
            ["backfill", "--from", "2026-03-05", "--to", "2026-03-01"],
            "--from 2026-03-05 is after --to 2026-03-01: a range runs from its first day to "
            "its last" + see("backfill"),
        ),
        (
            ["predictions", "--game-date", "2026-03-01", "--to", "2026-03-03"],
            "--game-date is one day and --from/--to a range: give one or the other (the days "
            "from 2026-03-01 to 2026-03-03: --from 2026-03-01 --to 2026-03-03)"
            + see("predictions"),
        ),
        (
            ["report", "models", "--game-date", "2026-03-01", "--from", "2026-02-01"],
            "--game-date is one day and --from/--to a range: give one or the other"
            + see("report models"),
        ),
        (
            ["verify", "--to", "2026-03-01"],
            "--to needs --from: a range has a first and a last day" + see("verify"),
        ),
        (
            ["predictions", "--from", "2026-03-01", "--per-day"],
            "--from needs --to: a range has a first and a last day" + see("predictions"),
        ),
        (
            ["verify"],
            "give --game-date D for one day, or --from D --to D for a range" + see("verify"),
        ),
        (
            ["predictions", "--system-id", "s"],
            "give --game-date D for one day, or --from D --to D for a range" + see("predictions"),
        ),
        (
            ["verify", "--from", "2025-01-01", "--to", "2026-03-01"],
            "--from 2025-01-01 --to 2026-03-01 is 425 days: at most 366 at a time" + see("verify"),
        ),
        (
            ["backfill", "--to", "1999-12-31"],
            "argument --to: 1999-12-31 is outside 2000-01-01..2100-12-31" + see("backfill"),
        ),
    ],
)
def test_dates_that_say_two_things_or_nothing_are_refused_before_anything_opens(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert refused(capsys, *argv) == (2, f"error: {message}")
    assert not (home / "warehouse.duckdb").exists()


MARCH_1, MARCH_3 = date(2026, 3, 1), date(2026, 3, 3)


@pytest.mark.parametrize(
    ("argv", "first", "last"),
    [
        (["verify", "--game-date", "2026-03-01"], MARCH_1, MARCH_1),
        (["verify", "--from", "2026-03-01", "--to", "2026-03-01"], MARCH_1, MARCH_1),
        (["predictions", "--from", "2026-03-01", "--to", "2026-03-03"], MARCH_1, MARCH_3),
        (["backfill", "--from", "2026-03-01"], MARCH_1, None),
        (["report", "models", "--to", "2026-03-03"], None, MARCH_3),
        (["backfill"], None, None),
    ],
)
def test_the_days_a_command_is_about(
    argv: list[str], first: date | None, last: date | None
) -> None:
    args = build_parser().parse_args(argv)
    resolve_game_dates(args)
    assert (args.dates.first, args.dates.last) == (first, last)
    if first is not None and last is not None:
        assert args.dates.days() == [date(2026, 3, d) for d in range(first.day, last.day + 1)]
