"""The walkthrough ``attribution serve`` prints, run as printed in a fresh shell from the repo
root: the environment activated and the stack's variables read as it says, every command as
written, each exiting as a user expects.
"""

from __future__ import annotations

import re
import subprocess

from documented_commands import REPO, check_command, fresh_shell_environment, shell_commands

from e2e.support import ServedStack


def walkthrough(usage: str) -> str:
    """The shell script the usage tells a user to type: activation, variables, commands."""
    activate = re.search(r"activate this Python's environment \(\. (\S+)\)", usage)
    variables = re.search(r"\(or: \. (\S+)\):", usage)
    assert activate and variables, usage
    steps = usage.split("Walkthrough:\n", 1)[1].split("\n\n", 1)[0]
    commands = [line.strip() for line in steps.splitlines() if not line.strip().startswith("#")]
    return "\n".join([f". {activate[1]}", f". {variables[1]}", *commands]) + "\n"


def test_the_printed_walkthrough_runs_as_written_in_a_fresh_shell(stack: ServedStack) -> None:
    script = walkthrough(stack.stdout.read_text())
    for argv in shell_commands(script):
        check_command(argv)
    done = subprocess.run(
        ["bash", "-c", script],
        check=False,
        cwd=REPO,
        env=fresh_shell_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout
    assert "command not found" not in done.stderr, done.stderr[-2000:]
    assert re.search(r"batch \S+: success, \d+ written, 0 rejected", output), output
    assert re.search(r"\b\d+ loaded\b", output), output
    verdict = re.search(r"\b(PASS|PARTIAL|FAIL|UNKNOWN)\b", output.split("results", 1)[-1])
    assert verdict and verdict[1] in ("PASS", "PARTIAL"), output
    assert '"verdicts"' in output, output  # the curl to /verify answered the document
