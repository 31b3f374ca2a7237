"""The exit codes of ``attribution``, named once: scripts rely on them, the docs list them.

0-5 are the command's own verdicts (``verify``'s PASS, FAIL, PARTIAL, UNKNOWN among them);
the rest follow sysexits.h, so a scheduler can tell "fix the input" from "fix the set-up"
from "try again later".
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    PARTIAL = 3
    UNKNOWN = 4
    UNKNOWN_SYSTEM = 5
    UNAVAILABLE = 69  # EX_UNAVAILABLE
    IO_ERROR = 74  # EX_IOERR
    TRY_AGAIN = 75  # EX_TEMPFAIL
    CONFIG = 78  # EX_CONFIG
    INTERRUPTED = 130  # 128 + SIGINT, as shells report it
    BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done (verify: PASS)",
    ExitCode.FAILED: "done, and found wanting: verify FAIL, a batch that wrote no row, "
    "results with rejected rows",
    ExitCode.USAGE: "bad usage or bad input: a flag, a file, a model or rows refused (the "
    "message says which)",
    ExitCode.PARTIAL: "verify: PARTIAL",
    ExitCode.UNKNOWN: "verify: UNKNOWN (no predictions where a run was expected, or a check "
    "could not run)",
    ExitCode.UNKNOWN_SYSTEM: "verify: --system-id names no system (nothing recorded, no alert)",
    ExitCode.UNAVAILABLE: "a backend cannot be used: the warehouse file is locked by another "
    "process or is not a DuckDB database; serve: an emulator or port",
    ExitCode.IO_ERROR: "a file could not be written or read (the state folder, --out)",
    ExitCode.TRY_AGAIN: "try again later: a backend failed for now, or the function has not "
    "answered within --wait",
    ExitCode.CONFIG: "a setting is wrong: an environment variable (named), or no Google "
    "credentials",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.BROKEN_PIPE: "the output's reader stopped reading (`| head`); the rest was not "
    "written",
}


def epilog() -> str:
    """The exit codes for ``attribution --help``."""
    width = max(len(str(int(code))) for code in MEANINGS)
    lines = [f"  {int(code):>{width}}  {meaning}" for code, meaning in MEANINGS.items()]
    return "exit codes:\n" + "\n".join(lines)
