"""``migrate``: bring the warehouse's tables and views up to the schema files."""

from __future__ import annotations

import argparse
from typing import Any

from attribution.bootstrap import App
from attribution.cli.exit_codes import ExitCode
from attribution.cli.output import print_json
from attribution.warehouse.migrations import migrate


def add_parsers(sub: Any) -> None:
    parser = sub.add_parser("migrate", help="create tables, apply migrations, refresh views")
    parser.set_defaults(handler=cmd_migrate)


def cmd_migrate(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    report = migrate(app.warehouse)
    if args.json:
        print_json(vars(report))
    else:
        print(f"tables created: {', '.join(report.created_tables) or 'none'}")
        print(f"migrations applied: {', '.join(report.applied) or 'none (up to date)'}")
        if report.relaxed:
            print(f"columns now NULLABLE: {', '.join(report.relaxed)}")
        print(f"views refreshed: {', '.join(report.views)}")
    return ExitCode.OK
