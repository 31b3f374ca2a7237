"""Flag values checked as they are parsed, and input files read with a one-line refusal.

A bad value is a usage error (exit 2) that names the flag and the accepted form; a missing
or unreadable input file is a PermanentError naming the file and what to do about it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from attribution.errors import PermanentError
from attribution.limits import check_game_date

T = TypeVar("T")


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def game_date(text: str) -> date:
    """A date a game can be on (``attribution.limits``)."""
    value = iso_date(text)
    try:
        return check_game_date(value, field="")
    except PermanentError as exc:
        raise argparse.ArgumentTypeError(exc.message.strip()) from None


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            limit = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {limit}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    """A finite number within [low, high] (either end open when None)."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            value = math.nan
        if (
            not math.isfinite(value)
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            if low is not None and high is not None:
                limit = f" from {low:g} to {high:g}"
            elif low is not None:
                limit = f" of at least {low:g}"
            else:
                limit = ""
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number{limit}")
        return value

    parse.__name__ = "number"
    return parse


def choice_of(parse: Callable[[str], T]) -> Callable[[str], T | str]:
    """For a flag with ``choices``: what ``parse`` makes of the text (any case, its aliases),
    or the text as given when it refuses it, for argparse to refuse naming the choices."""

    def convert(text: str) -> T | str:
        try:
            return parse(text)
        except PermanentError:
            return text

    return convert


def read_input(path: Path, *, what: str = "input file") -> bytes:
    """The file's bytes, or PermanentError saying what is wrong with the path."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PermanentError(
            "file_not_found", f"{what} {path} does not exist: check the path"
        ) from None
    except IsADirectoryError:
        raise PermanentError(
            "not_a_file", f"{what} {path} is a folder: give the path of a file in it"
        ) from None
    except PermissionError:
        raise PermanentError(
            "unreadable_file",
            f"{what} {path} cannot be read (permission denied): make it readable "
            "(chmod u+r) or run as its owner",
        ) from None
    except OSError as exc:
        raise PermanentError(
            "unreadable_file", f"{what} {path} cannot be read: {exc.strerror or exc}"
        ) from None
