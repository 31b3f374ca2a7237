"""``ledger import`` and ``backfill``: attribution for history written before stamping."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from attribution.batches.rows import format_of, read_rows
from attribution.bootstrap import App
from attribution.cli.arguments import read_input
from attribution.cli.exit_codes import ExitCode
from attribution.cli.game_dates import add_game_dates
from attribution.cli.output import print_json, print_table
from attribution.cli.progress import progress_bar
from attribution.history.ledger_import import import_ledger


def add_parsers(sub: Any) -> None:
    ledger = sub.add_parser("ledger", help="the deployment ledger's history")
    actions = ledger.add_subparsers(dest="ledger_action", required=True)
    imports = actions.add_parser(
        "import", help="import past promotions (CSV or JSONL: system_id, model, active_from)"
    )
    imports.add_argument(
        "file",
        type=Path,
        help="CSV or JSONL: system_id, model_file_name or model_sha256, active_from, by, note",
    )
    imports.set_defaults(handler=cmd_ledger_import)

    backfill = sub.add_parser("backfill", help="attribute predictions written before stamping")
    backfill.add_argument("--system-id", help="only this system's predictions")
    add_game_dates(backfill, what="attribute the predictions", required=False, open_ended=True)
    backfill.add_argument("--replay", action="store_true", help="prove by re-running models")
    backfill.add_argument("--dry-run", action="store_true", help="change nothing")
    backfill.set_defaults(handler=cmd_backfill)


def cmd_ledger_import(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    fmt = format_of(args.file.name)
    table = read_rows(read_input(args.file, what="ledger file"), fmt, source=str(args.file))
    result = import_ledger(table, app.ledger)
    if args.json:
        print_json(result.__dict__)
    else:
        print(
            f"ledger import: {result.entries} entries, {result.imported} imported, "
            f"{result.already_recorded} already recorded"
        )
    return ExitCode.OK


def cmd_backfill(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    with progress_bar("backfill", unit="rows") as rows_done:
        summary = app.backfill().run(
            system_id=args.system_id,
            from_date=args.dates.first,
            to_date=args.dates.last,
            replay=args.replay,
            dry_run=args.dry_run,
            progress=rows_done,
        )
    document = summary.to_document()
    if args.json:
        print_json(document)
        return ExitCode.OK
    verb = "would update" if summary.dry_run else "updated"
    attributed = summary.by_method["replay_verified"] + summary.by_method["ledger_inferred"]
    written = "" if summary.dry_run else f" ({summary.updated} written)"
    print(f"backfill: {summary.considered} rows considered, {verb} {attributed}{written}")
    print_table([{"method": k, "rows": v} for k, v in sorted(summary.by_method.items())])
    print_table([{"model_file_name": k, "rows": v} for k, v in sorted(summary.by_model.items())])
    for label, rows in (
        ("ambiguous (left unstamped)", summary.ambiguous),
        ("no candidate reproduces (flagged, left unstamped)", summary.unreproduced),
        ("ledger inference refuted by replay (attribution cleared)", summary.refuted),
        ("no ledger entry (left unstamped)", summary.no_ledger_entry),
    ):
        if rows:
            shown = ", ".join(rows[:5]) + (f" +{len(rows) - 5} more" if len(rows) > 5 else "")
            print(f"{label}: {shown}")
    return ExitCode.OK
