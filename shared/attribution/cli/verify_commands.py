"""``verify`` (exit 0 PASS, 1 FAIL, 3 PARTIAL, 4 UNKNOWN, 5 unknown system), ``report
models``, ``report compare``, ``report drift`` and ``report html``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from attribution.bootstrap import App
from attribution.cli import report_html_command
from attribution.cli.arguments import game_date, number
from attribution.cli.exit_codes import ExitCode
from attribution.cli.game_dates import add_game_dates
from attribution.cli.output import print_json, print_table
from attribution.comparison.compare import compare_models
from attribution.verification.input_drift import day_drift
from attribution.verification.outcome import (
    Status,
    SystemVerdict,
    overall,
    verification_document,
)
from attribution.verification.report import model_report
from attribution.verification.verifier import UnknownSystemError

EXIT_CODES = {
    Status.PASS: ExitCode.OK,
    Status.FAIL: ExitCode.FAILED,
    Status.PARTIAL: ExitCode.PARTIAL,
    Status.UNKNOWN: ExitCode.UNKNOWN,
}
VERIFY_EXIT_CODES = f"""exit codes:
  {ExitCode.OK:<3} PASS
  {ExitCode.FAILED:<3} FAIL
  {ExitCode.USAGE:<3} error in the request (a bad argument or input)
  {ExitCode.PARTIAL:<3} PARTIAL
  {ExitCode.UNKNOWN:<3} UNKNOWN (no predictions where a run was expected, or a check could not run)
  {ExitCode.UNKNOWN_SYSTEM:<3} unknown system: --system-id names no system (no model card,
      deployment, prediction or logged batch); nothing is recorded, no alert is sent
  {ExitCode.TRY_AGAIN:<3} a backend failed for now: try again
(`attribution --help` lists every exit code.)"""
MAX_VERIFY_DAYS = 366  # a season and more; a mistyped year would record and alert on thousands
_MARK = {"PASS": "ok  ", "PARTIAL": "part", "FAIL": "FAIL", "UNKNOWN": "????", "INFO": "info"}


def add_parsers(sub: Any) -> None:
    verify = sub.add_parser(
        "verify",
        help="check the attribution of a game date or a range of them; alert on change",
        description="Check a game date's attribution, or every day's of a range, for one\n"
        "system or every system that predicted that day; record each verdict and alert\n"
        "when it changes. The exit code is the worst verdict's.",
        epilog=VERIFY_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_game_dates(verify, what="verify the attribution", required=True, max_days=MAX_VERIFY_DAYS)
    verify.add_argument("--system-id", help="only this system (default: every system that day)")
    verify.set_defaults(handler=cmd_verify)

    report = sub.add_parser("report", help="reports")
    kinds = report.add_subparsers(dest="report", required=True)
    models = kinds.add_parser("models", help="per model file: hit rate, MAE, versus its card")
    models.add_argument("--system-id", help="only this system's models")
    add_game_dates(models, what="grade the games", required=False, open_ended=True)
    models.add_argument("--min-edge", type=number(0), default=5.0, help="high-edge threshold")
    models.set_defaults(handler=cmd_report_models)

    compare = kinds.add_parser(
        "compare",
        help="each challenger against the champion, on the games both predicted",
        description="For each challenger of the system against the champion it ran beside: "
        "the picks both made on the same batch, player, line and sportsbook that have a "
        "result; each model's hit rate and MAE there, the hit-rate difference with a 95% "
        "interval and an exact McNemar test, the MAE difference with a paired 95% interval, "
        "and a verdict: challenger better, worse, or not yet distinguishable (with about how "
        "many more graded picks would decide at the effect seen).",
    )
    compare.add_argument("--system-id", required=True, help="the system whose models to compare")
    add_game_dates(compare, what="compare the games", required=False, open_ended=True)
    compare.add_argument(
        "--min-edge",
        type=number(0),
        default=0.0,
        help="a points prediction is a pick only from this |edge| (default: every OVER/UNDER)",
    )
    compare.set_defaults(handler=cmd_report_compare)

    drift = kinds.add_parser(
        "drift",
        help="a day's inputs and predictions against each model's training profile",
        description="For every model that counted the day's rows into the training profile "
        "its card carries: per feature (and for its predictions) the rows, PSI and "
        "Jensen-Shannon distance against training, the missing share beside training's, "
        "for a category the share not in the profile, and the most moved bins.",
    )
    drift.add_argument("--system-id", required=True, help="the system whose day to profile")
    drift.add_argument(
        "--game-date", required=True, type=game_date, metavar="D", help="the day the games are on"
    )
    drift.set_defaults(handler=cmd_report_drift)
    report_html_command.add_parser(kinds)


def cmd_verify(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    verifier = app.verifier()
    verdicts: list[SystemVerdict] = []
    try:
        for day in args.dates.days():
            verdicts += verifier.verify(day, args.system_id)
    except UnknownSystemError as exc:  # on the first day, before anything is recorded
        if args.json:
            print_json(exc.to_document())
        else:
            print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return ExitCode.UNKNOWN_SYSTEM
    if args.json:
        print_json(verification_document(verdicts))
    else:
        for v in verdicts:
            previous = v.previous_verdict.value if v.previous_verdict else "none"
            print(
                f"{v.system_id} {v.game_date}: {v.verdict.value} (previous: {previous})"
                + ("; alert sent" if v.alerted else "")
            )
            for check in v.checks:
                print(f"  [{_MARK[check.status.value]}] {check.name}: {check.summary}")
                for line in check.details[:12]:
                    print(f"         {line}")
                if check.next_step and check.status not in (Status.PASS, Status.INFO):
                    print(f"         next: {check.next_step}")
    return EXIT_CODES[overall(v.verdict for v in verdicts)]


def cmd_report_compare(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    comparisons = compare_models(
        app.warehouse,
        system_id=args.system_id,
        from_date=args.dates.first,
        to_date=args.dates.last,
        min_edge=args.min_edge,
    )
    if args.json:
        print_json({"comparisons": [c.to_document() for c in comparisons]})
        return ExitCode.OK
    if not comparisons:
        print(
            f"{args.system_id}: no challenger has graded predictions beside the champion "
            "(`attribution challenge` starts one; results make them graded)"
        )
    for c in comparisons:
        print(
            f"{c.system_id}: {c.challenger_file_name} (challenger) vs {c.champion_file_name} "
            f"(champion), {c.first_game} to {c.last_game}"
        )
        for line in c.text().splitlines():
            print(f"  {line}")
    return ExitCode.OK


def cmd_report_drift(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    models = day_drift(app.verifier().context(args.game_date, args.system_id))
    if args.json:
        print_json({"models": [m.to_document() for m in models]})
        return ExitCode.OK
    if not models:
        print(
            f"{args.system_id} {args.game_date}: no rows counted into a training profile (a "
            "model carries one when `attribution profile embed` or `attribution train` made it)"
        )
    for model in models:
        print(
            f"{args.system_id} {args.game_date}: {model.model_file_name} ({model.model_role}), "
            f"{model.rows} rows in {model.batches} batch(es): {model.status.value}"
        )
        print_table(
            [
                {
                    "feature": f.feature,
                    "kind": f.kind,
                    "status": _MARK[f.status.value].strip(),
                    "psi": f.psi,
                    "beyond_chance": f"{'yes' if f.g_statistic >= f.chance_limit else 'no'} "
                    f"(G {f.g_statistic:.1f}, limit {f.chance_limit:.1f})",
                    "js_distance": f.js_distance,
                    "missing": f"{100 * f.missing_share:.1f}%",
                    "training_missing": f"{100 * f.training_missing_share:.1f}%",
                    "not_in_profile": ""
                    if f.unlisted_share is None
                    else f"{100 * f.unlisted_share:.1f}%",
                    "most_moved": f"{f.moved_bins[0].label} {100 * f.moved_bins[0].day_share:.1f}%"
                    f" (training {100 * f.moved_bins[0].training_share:.1f}%)",
                }
                for f in sorted(model.features, key=lambda f: -f.psi)
            ],
            ["feature", "kind", "status", "psi", "beyond_chance", "js_distance", "missing",
             "training_missing", "not_in_profile", "most_moved"],
        )  # fmt: skip
    return ExitCode.OK


def cmd_report_models(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    rows = model_report(
        app.warehouse,
        system_id=args.system_id,
        from_date=args.dates.first,
        to_date=args.dates.last,
        min_edge=args.min_edge,
    )
    if args.json:
        print_json(rows)
        return ExitCode.OK
    print_table(
        rows,
        [
            "system_id",
            "model_role",
            "model_file_name",
            "prediction_type",
            "predictions",
            "picks",
            "hit_rate",
            "high_edge_picks",
            "high_edge_hit_rate",
            "mae",
            "expected_mae",
            "expected_hit_rate",
            "brier_score",
            "log_loss",
            "first_game",
            "last_game",
            "stamped",
            "replay_verified",
            "ledger_inferred",
        ],
    )
    return ExitCode.OK
