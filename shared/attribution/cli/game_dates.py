"""One date vocabulary for every command that takes game dates: ``--game-date D`` for one
day, ``--from D --to D`` for a range (both days included).

argparse cannot check flags against each other, so ``resolve_game_dates`` does once they are
parsed, before any command runs: a bad combination is a usage error of the command's own
parser, like a bad value.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, timedelta

from attribution.cli.arguments import game_date


@dataclass(frozen=True)
class GameDates:
    """The days a command is about, both included; an end left open is None."""

    first: date | None
    last: date | None

    def days(self) -> list[date]:
        assert self.first is not None and self.last is not None, "an open range has no days"
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class DateFlags:
    """How one command takes its dates: ``required``, one day or a range must be given;
    ``open_ended``, a range may leave either end open; ``max_days``, the longest range."""

    parser: argparse.ArgumentParser
    required: bool
    open_ended: bool
    max_days: int | None = None

    def resolve(self, args: argparse.Namespace) -> GameDates:
        day, first, last = args.game_date, args.from_date, args.to_date
        if day is not None and (first is not None or last is not None):
            hint = f" (the days from {day} to {last}: --from {day} --to {last})"
            self.parser.error(
                "--game-date is one day and --from/--to a range: give one or the other"
                + (hint if first is None else "")
            )
        if day is not None:
            return GameDates(day, day)
        if first is None and last is None and self.required:
            self.parser.error("give --game-date D for one day, or --from D --to D for a range")
        if not self.open_ended and (first is None) != (last is None):
            given, missing = ("--from", "--to") if last is None else ("--to", "--from")
            self.parser.error(f"{given} needs {missing}: a range has a first and a last day")
        if first is not None and last is not None:
            if first > last:
                self.parser.error(
                    f"--from {first} is after --to {last}: a range runs from its first day "
                    "to its last"
                )
            days = (last - first).days + 1
            if self.max_days is not None and days > self.max_days:
                self.parser.error(
                    f"--from {first} --to {last} is {days} days: at most {self.max_days} at a time"
                )
        return GameDates(first, last)


def add_game_dates(
    parser: argparse.ArgumentParser,
    *,
    what: str,
    required: bool,
    open_ended: bool = False,
    max_days: int | None = None,
) -> None:
    """``--game-date``, ``--from`` and ``--to`` on ``parser``; ``what`` the command does with
    the days (for the help)."""
    ends = " (either end may be left open)" if open_ended else ""
    parser.add_argument(
        "--game-date", type=game_date, metavar="D", help=f"one day (YYYY-MM-DD): {what} on D"
    )
    parser.add_argument(
        "--from",
        dest="from_date",
        type=game_date,
        metavar="D",
        help=f"first day of a range, included: {what} from D to --to{ends}",
    )
    parser.add_argument(
        "--to",
        dest="to_date",
        type=game_date,
        metavar="D",
        help="last day of a range, included"
        + (f"; at most {max_days} days from --from" if max_days else ""),
    )
    parser.set_defaults(
        date_flags=DateFlags(parser, required=required, open_ended=open_ended, max_days=max_days)
    )


def resolve_game_dates(args: argparse.Namespace) -> None:
    """``args.dates`` from the command's date flags, when it has them; a usage error (the
    parser exits) when they say two things or nothing."""
    flags = getattr(args, "date_flags", None)
    if isinstance(flags, DateFlags):
        args.dates = flags.resolve(args)
