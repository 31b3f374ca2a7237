"""Commands as documentation shows them (the README's code blocks, the walkthroughs the demo and
``attribution serve`` print), split as a shell splits them and checked against what they name:
the CLI's parser, the Makefile's targets, a module's parser, a function's source and target.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import shlex
from pathlib import Path

import pytest

from attribution.cli.main import build_parser

REPO = Path(__file__).resolve().parents[1]
SEPARATORS = {";", "&&", "||", "|", "&"}
# Commands of other tools that the documentation runs as their own manuals say.
OTHER_TOOLS = {"curl", "kill", "cd", "cp", "export", "gcloud", "git", "printf", "sh", "terraform"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def fresh_shell_environment() -> dict[str, str]:
    """This process's environment as a new terminal has it: no venv on PATH, none of the
    product's variables, no emulator; JSON log lines, so a test can read them."""
    product = ("ATTRIBUTION_", "DUCKDB", "PUBSUB_", "STORAGE_EMULATOR", "GCP_", "MODELS_")
    fresh = {k: v for k, v in os.environ.items() if not k.startswith(product)}
    fresh["PATH"] = os.pathsep.join(
        p for p in fresh["PATH"].split(os.pathsep) if not p.startswith(str(REPO))
    )
    return {**fresh, "LOG_FORMAT": "json"}


def shell_blocks(markdown: str) -> list[str]:
    """The text of every fenced ``bash`` block."""
    return [body for language, body in FENCE.findall(markdown) if language in ("bash", "sh")]


def shell_commands(script: str) -> list[list[str]]:
    """Each simple command of a shell snippet as its words: continuations joined, comments
    dropped, split at ``;``, ``&&``, ``||``, ``|`` and ``&``; leading assignments dropped."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in SEPARATORS:
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    words.pop(0)
                if words:
                    commands.append(words)
                words = []
            else:
                words.append(token)
    return commands


def parse_attribution(argv: list[str]) -> object:
    """The CLI's parse of ``attribution ARGS`` (date flags resolved), or the test fails."""
    assert argv[0] == "attribution", argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv[1:])
        flags = getattr(args, "date_flags", None)
        if flags is not None:
            flags.resolve(args)
    except SystemExit as exc:
        if exc.code == 0 and argv[-1] in ("--version", "--help"):
            return None
        pytest.fail(f"`{shlex.join(argv)}` does not parse (exit {exc.code})")
    return args


def _defines(source: Path, name: str) -> bool:
    tree = ast.parse(source.read_text())
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in ast.walk(tree))


def _option(argv: list[str], flag: str) -> str | None:
    for index, word in enumerate(argv):
        if word == flag and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


def check_command(argv: list[str]) -> None:
    """Fail the test unless ``argv`` is a command that runs as written from the repo root."""
    command = shlex.join(argv)
    match argv[0]:
        case "attribution":
            parse_attribution(argv)
        case "make":
            targets = re.findall(r"^([\w.-]+):", (REPO / "Makefile").read_text(), re.MULTILINE)
            for target in argv[1:]:
                assert target in targets, f"`{command}`: the Makefile has no target {target}"
        case "python" | "python3" if argv[1:2] == ["-m"]:
            module = argv[2]
            assert module.startswith("attribution."), command
            try:
                importlib.import_module(module).build_parser().parse_args(argv[3:])
            except SystemExit as exc:
                pytest.fail(f"`{command}` does not parse (exit {exc.code})")
        case "functions-framework":
            source, target = _option(argv, "--source"), _option(argv, "--target")
            assert source and target, command
            assert (REPO / source).is_file(), f"`{command}`: no {source}"
            assert _defines(REPO / source, target), f"`{command}`: {source} has no {target}"
        case "." | "source":
            assert argv[1] == ".venv/bin/activate" or argv[1].endswith("stack.env"), command
        case tool:
            assert tool in OTHER_TOOLS, f"`{command}`: {tool} is not a command we document"
