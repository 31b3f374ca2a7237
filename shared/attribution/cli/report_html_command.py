"""``report html``: the system's report as one self-contained HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from attribution.bootstrap import App
from attribution.cli.arguments import number
from attribution.cli.exit_codes import ExitCode
from attribution.cli.game_dates import add_game_dates
from attribution.cli.output import print_json
from attribution.verification.html_report.data import read_report
from attribution.verification.html_report.page import report_page
from attribution.verification.verifier import UnknownSystemError


def add_parser(kinds: Any) -> None:
    page = kinds.add_parser(
        "html",
        help="one self-contained HTML page of a system's models, attribution and verdicts",
        description="Write one HTML page that opens offline (its charts' libraries and data "
        "inline): which model was live in which role, each model's daily hit rate with its "
        "95% Wilson band against its card, MAE against the card's, graded picks, attribution "
        "coverage by method and rejected rows per day, RED days, the verdict history, each "
        "model's input drift per day against its training profile, and the challengers "
        "against the champion. Its models table is `report models` for the "
        "same days.",
    )
    page.add_argument("--system-id", required=True, help="the system to draw")
    add_game_dates(page, what="draw", required=False, open_ended=True)
    page.add_argument("--min-edge", type=number(0), default=5.0, help="high-edge threshold")
    page.add_argument("--out", required=True, type=Path, metavar="FILE", help="the page to write")
    page.set_defaults(handler=cmd_report_html)


def cmd_report_html(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    verifier = app.verifier()
    try:
        verifier.require_known(args.system_id)
    except UnknownSystemError as exc:
        if args.json:
            print_json(exc.to_document())
        else:
            print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return ExitCode.UNKNOWN_SYSTEM
    data = read_report(
        app.warehouse,
        args.system_id,
        settings=verifier.settings,
        from_date=args.dates.first,
        to_date=args.dates.last,
        min_edge=args.min_edge,
    )
    args.out.write_text(report_page(data), encoding="utf-8")
    if args.json:
        print_json({"system_id": args.system_id, "from": data.first, "to": data.last,
                    "out": str(args.out.resolve())})  # fmt: skip
    else:
        print(f"{args.system_id}: {data.first} to {data.last} written to {args.out}")
    return ExitCode.OK
