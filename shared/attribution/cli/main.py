"""Entry point of the ``attribution`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from attribution.bootstrap import App, app, current_app, use_app
from attribution.cli import (
    batch_commands,
    history_commands,
    model_commands,
    serve_commands,
    verify_commands,
    warehouse_commands,
)
from attribution.errors import PermanentError, TransientError

# serve builds its own App, once it has started the emulators it points at.
_NEEDS_NO_APP = {"train", "serve"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attribution",
        description="Model cards for CatBoost models, stamped on every prediction, verified.",
    )
    parser.add_argument("--home", type=Path, help="state folder (env ATTRIBUTION_HOME)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", required=True)
    model_commands.add_parsers(sub)
    warehouse_commands.add_parsers(sub)
    batch_commands.add_parsers(sub)
    verify_commands.add_parsers(sub)
    history_commands.add_parsers(sub)
    serve_commands.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.home:
        import os

        os.environ["ATTRIBUTION_HOME"] = str(args.home)
    installed = current_app()
    instance: App | None = None if args.command in _NEEDS_NO_APP else app()
    try:
        return int(args.handler(instance, args))
    except PermanentError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    except TransientError as exc:
        print(f"error (try again): {exc}", file=sys.stderr)
        return 75
    finally:
        if installed is None:
            use_app(None)


if __name__ == "__main__":
    raise SystemExit(main())
