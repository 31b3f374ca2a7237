"""Entry point of the ``attribution`` command.

Every failure ends in one line on stderr, ``error: <what is wrong and what to do> (<code>)``,
and an exit code from ``attribution.cli.exit_codes`` (listed by ``attribution --help``): bad
usage or input 2, a setting 78, an unusable backend 69, a file the command could not write
74, a backend failing for now 75. A traceback means a bug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from attribution.bootstrap import App, app, current_app, use_app
from attribution.cli import (
    batch_commands,
    history_commands,
    model_commands,
    serve_commands,
    verify_commands,
    warehouse_commands,
)
from attribution.cli.exit_codes import ExitCode, epilog
from attribution.errors import (
    BackendUnavailableError,
    PermanentError,
    SettingsError,
    TransientError,
)

# serve builds its own App, once it has started the emulators it points at.
_NEEDS_NO_APP = {"train", "serve"}


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, naming the flag, and where the help is."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="attribution",
        description="Model cards for CatBoost models, stamped on every prediction, verified.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


def fail(message: str, code: str, exit_code: ExitCode) -> int:
    print(f"error: {message} ({code})", file=sys.stderr)
    return int(exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE)
    if args.home:
        os.environ["ATTRIBUTION_HOME"] = str(args.home)
    installed = current_app()
    try:
        instance: App | None = None if args.command in _NEEDS_NO_APP else app()
        return int(args.handler(instance, args))
    except SettingsError as exc:
        return fail(exc.message, "bad_setting", ExitCode.CONFIG)
    except BackendUnavailableError as exc:  # before TransientError: a locked warehouse is both
        return fail(exc.message, exc.code, ExitCode.UNAVAILABLE)
    except PermanentError as exc:
        return fail(exc.message, exc.code, ExitCode.USAGE)
    except TransientError as exc:
        return fail(f"{exc}: try again", "try_again", ExitCode.TRY_AGAIN)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except OSError as exc:  # the state folder or an output file: not writable, full, ...
        return fail(_file_problem(exc), "file_error", ExitCode.IO_ERROR)
    except Exception as exc:
        if _is_missing_credentials(exc):
            return fail(
                "no Google credentials: run `gcloud auth application-default login`, or set "
                "GOOGLE_APPLICATION_CREDENTIALS to a service account key file",
                "no_credentials",
                ExitCode.CONFIG,
            )
        raise
    finally:
        if installed is None:
            use_app(None)


def _file_problem(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    if isinstance(exc, FileExistsError | NotADirectoryError) and exc.filename:
        # The file standing where a folder of the state folder must be: the path or a parent.
        path = Path(os.fsdecode(exc.filename))
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        return (
            f"cannot make the folder{where}: {blocker} is a file: move it, or choose another "
            "--home (ATTRIBUTION_HOME)"
        )
    return f"cannot use{where}: {exc.strerror or exc}: check the path and its permissions"


def _is_missing_credentials(exc: Exception) -> bool:
    """google.auth's DefaultCredentialsError, recognised without importing google.auth."""
    return any(
        kind.__name__ == "DefaultCredentialsError" and kind.__module__.startswith("google.auth")
        for kind in type(exc).__mro__
    )


if __name__ == "__main__":
    raise SystemExit(main())
