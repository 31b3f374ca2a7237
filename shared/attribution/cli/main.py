"""Entry point of the ``attribution`` command.

Every failure ends in one line on stderr, ``error: <what is wrong and what to do> (<code>)``,
and an exit code from ``attribution.cli.exit_codes`` (listed by ``attribution --help``). A
traceback means a bug. The global flags (``--home``, ``--json``) go before or after the
command. Output whose reader stops reading (``| head``) ends quietly, exit 141 as a shell
reports a writer SIGPIPE stopped.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from attribution.bootstrap import App, app, current_app, use_app
from attribution.cli import (
    batch_commands,
    history_commands,
    model_commands,
    profile_commands,
    serve_commands,
    verify_commands,
    warehouse_commands,
)
from attribution.cli.exit_codes import ExitCode, epilog
from attribution.cli.game_dates import resolve_game_dates
from attribution.errors import (
    BackendUnavailableError,
    PermanentError,
    SettingsError,
    TransientError,
)

# serve builds its own App, once it has started the emulators it points at.
_NEEDS_NO_APP = {"train", "serve", "profile"}
DISTRIBUTION = "model-attribution"  # pyproject.toml's project name


def _add_global_flags(parser: argparse.ArgumentParser, *, on_command: bool) -> None:
    """The flags every command takes, before or after its name. A command's copies default
    to SUPPRESS, so they leave the value given before the command (or the top-level default)
    alone when they are not given after it."""
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if on_command else {}
    parser.add_argument(
        "--home", type=Path, metavar="DIR", help="state folder (env ATTRIBUTION_HOME)", **default
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output", **default)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, naming the flag, and where the help is."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"error: {message} (see `{self.prog} --help`)\n")


class _CommandParser(_Parser):
    """The parser of a command (and of a command's subcommand: add_subparsers makes those
    of the same class), which takes the global flags too."""

    def __init__(self, **kwargs: Any) -> None:
        flags = _Parser(add_help=False)
        _add_global_flags(flags, on_command=True)
        super().__init__(**{**kwargs, "parents": [*kwargs.get("parents", ()), flags]})


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="attribution",
        description="Model cards for CatBoost models, stamped on every prediction, verified.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_flags(parser, on_command=False)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_CommandParser)
    model_commands.add_parsers(sub)
    profile_commands.add_parsers(sub)
    warehouse_commands.add_parsers(sub)
    batch_commands.add_parsers(sub)
    verify_commands.add_parsers(sub)
    history_commands.add_parsers(sub)
    serve_commands.add_parsers(sub)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "(not installed)"


def fail(message: str, code: str, exit_code: ExitCode) -> int:
    print(f"error: {message} ({code})", file=sys.stderr)
    return int(exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # a reader that has gone is found here, not in the flush at exit
    except BrokenPipeError:
        return _reader_gone()
    return code


def _reader_gone() -> int:
    """stdout's reader stopped reading (``| head``): the rest of the output goes nowhere,
    and neither this nor the flush at exit says so, as Python's documentation recommends
    (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return int(ExitCode.BROKEN_PIPE)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        resolve_game_dates(args)
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
    except BrokenPipeError:  # stdout's reader left: no file problem, main() ends quietly
        raise
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
