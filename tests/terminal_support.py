"""A command run as a person runs it at a terminal: its stderr on a pseudo-terminal, its
stdout a pipe, for the tests of what the terminal is shown."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Mapping, Sequence


def run_on_a_terminal(
    argv: Sequence[str], env: Mapping[str, str], timeout: float
) -> tuple[int, str, str]:
    """Run ``argv`` (no stdin) to its end: the exit code, stdout, and everything the terminal
    was sent."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end has closed
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out, screen.decode("utf-8", "replace")
