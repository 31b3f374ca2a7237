"""The READMEs as a newcomer follows them: every command in a code block runs as written from
the repo root (checked against what it names), every ``attribution`` command quoted in the
prose parses, and the single-function walkthrough is run as printed, in a fresh shell.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
from datetime import date
from pathlib import Path

import pytest
from documented_commands import (
    REPO,
    check_command,
    fresh_shell_environment,
    parse_attribution,
    shell_blocks,
    shell_commands,
)

from attribution.devtools.slates import slate_for

READMES = [REPO / "README.md", REPO / "infra" / "terraform" / "README.md"]
INLINE = re.compile(r"`(attribution [^`]+)`")
# What the prose writes for "a value of your own", and a value of that kind.
PLACEHOLDERS = {
    "S": "catboost_v9",
    "SYSTEM": "catboost_v9",
    "D": "2026-02-03",
    "N": "3",
    "FILE": "rows.jsonl",
    "REF": "points_model.cbm",
    "PREVIOUS_MODEL": "points_model.cbm",
}
SYNOPSIS_MARKS = ("[", "(", "|", "...")


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_command_in_a_code_block_runs_as_written_from_the_repo_root(readme: Path) -> None:
    commands = [c for block in shell_blocks(readme.read_text()) for c in shell_commands(block)]
    assert commands, f"{readme} has no shell block"
    for argv in commands:
        check_command(argv)


def test_every_attribution_command_the_prose_quotes_parses() -> None:
    quoted = INLINE.findall((REPO / "README.md").read_text())
    concrete = [q for q in quoted if not any(mark in q for mark in SYNOPSIS_MARKS)]
    assert len(concrete) > 15, concrete
    commands = set(_commands())
    for text in concrete:
        argv = [PLACEHOLDERS.get(word, word) for word in shlex.split(text)]
        if len(argv) == 2 and not argv[1].startswith("-"):  # a command named, not run
            assert argv[1] in commands, f"`{text}`: the CLI has no command {argv[1]}"
        else:
            parse_attribution(argv)


def _commands() -> list[str]:
    from attribution.cli.main import build_parser

    action = next(a for a in build_parser()._actions if a.dest == "command")
    return list(action.choices or {})


def test_the_command_table_names_every_command_the_cli_has() -> None:
    readme = (REPO / "README.md").read_text()
    for name in _commands():
        assert f"| `attribution {name}" in readme, f"README's command table lacks {name}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_single_function_walkthrough_runs_as_printed(tmp_path: Path) -> None:
    """The README's block, with its state folder and port moved out of the way: a model made
    and promoted in the home, the function served, an event posted twice, rows written once."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Run one function with functions-framework", 1)[1]
    block = shell_blocks(section.split("\n## ", 1)[0])[0]
    port = _free_port()
    script = block.replace(".attribution/", f"{tmp_path}/").replace("8080", str(port))
    again = (
        "python -m attribution.devtools.post_event batch "
        f"--url http://localhost:{port} --system-id catboost_v9 --game-date 2026-02-03\n"
    )
    assert "kill %1\n" in script
    script = script.replace("kill %1\n", again + "kill %1\n")
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        check=False,
        cwd=REPO,
        env=fresh_shell_environment(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.count("200 OK") == 2, done.stdout
    expected = len(slate_for(date(2026, 2, 3)).rows)
    per_day = [line.split() for line in done.stdout.splitlines() if "points_model.cbm" in line]
    assert ["2026-02-03", "catboost_v9", "points_model.cbm", str(expected), "1"] in per_day
    assert '"status": "already_done"' in done.stderr
