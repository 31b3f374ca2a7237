"""``python -m bench``: run the benchmarks and rewrite their sections of ``bench/RESULTS.md``.

Exits 1 when a benchmark misses its target (after writing its figures), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bench import (
    RESULTS_PATH,
    Options,
    Outcome,
    backfill_replay,
    card_extraction,
    challenger_throughput,
    cold_start,
    prediction_throughput,
    profile_counting,
)
from bench.results import write_sections

BENCHMARKS: dict[str, Callable[[Options], Outcome]] = {
    card_extraction.NAME: card_extraction.run,
    prediction_throughput.NAME: prediction_throughput.run,
    challenger_throughput.NAME: challenger_throughput.run,
    backfill_replay.NAME: backfill_replay.run,
    cold_start.NAME: cold_start.run,
    profile_counting.NAME: profile_counting.run,
}


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw} is not a positive integer")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmarks (ratios against a floor timed in the same process).",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(sorted(BENCHMARKS))}",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller inputs for a fast check; prints figures, leaves RESULTS.md alone",
    )
    parser.add_argument(
        "--rounds", type=_positive, help="timed rounds per benchmark (default: its own)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not rewrite RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    options = Options(quick=args.quick, rounds=args.rounds)
    names: list[str] = args.only or list(BENCHMARKS)
    outcomes: list[Outcome] = []
    for name in dict.fromkeys(names):
        outcome = BENCHMARKS[name](options)
        print(outcome.markdown)
        outcomes.append(outcome)
    if not (args.quick or args.no_write):
        write_sections(RESULTS_PATH, outcomes)
        print(f"wrote {RESULTS_PATH}")
    for outcome in outcomes:
        print(outcome.summary)
    return 0 if all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
