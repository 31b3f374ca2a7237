"""Output whose reader stops reading ends quietly: ``attribution ... | head`` prints no
traceback and no "cannot use: Broken pipe", and exits 141 as a shell reports a writer that
SIGPIPE stopped (Python's recipe: https://docs.python.org/3/library/signal.html#note-on-sigpipe).

The console script runs in a process of its own, its stdout a real pipe closed after a few
bytes of far more output than a pipe buffers.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest
from test_cli_errors import SCRIPT, script

from attribution.cli.exit_codes import ExitCode
from attribution.devtools.slates import slate_for

DAY = date(2026, 3, 2)
PLAYERS = 450
LINES = 4
PIPE_BUFFER = 64 * 1024  # Linux's default; the output must not fit in it


@pytest.fixture(scope="module")
def predicted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with one day of LINES predictions for each of PLAYERS, made by the console
    script."""
    folder = tmp_path_factory.mktemp("pipes")
    home = folder / "home"
    model = folder / "catboost_v9_pipes.cbm"
    slate = folder / "slate.jsonl"
    rows = [
        {**row, "line_value": row["line_value"] + offset}  # several lines a player
        for row in slate_for(DAY, players=PLAYERS).rows
        for offset in range(LINES)
    ]
    slate.write_text("".join(json.dumps(r) + "\n" for r in rows))
    predict = ["predict", "--system-id", "catboost_v9", "--game-date", DAY.isoformat()]
    for argv in (
        ["train", "--out", str(model), "--rows", "500", "--iterations", "5", "--depth", "2"],
        ["upload", str(model)],
        ["promote", "catboost_v9", model.name],
        [*predict, "--input", str(slate)],
    ):
        code, _, err = script(home, *argv)
        assert code == 0, err
    return home


def read_a_little(home: Path, argv: list[str], size: int) -> tuple[int, bytes, str]:
    """Run the script, read ``size`` bytes of its stdout, close the pipe: its exit code,
    what was read, and its stderr."""
    process = subprocess.Popen(
        [str(SCRIPT), *argv],
        env={**os.environ, "ATTRIBUTION_HOME": str(home)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    read = process.stdout.read(size)
    process.stdout.close()
    err = process.stderr.read().decode()
    return process.wait(timeout=120), read, err


@pytest.mark.parametrize(
    ("argv", "size"),
    [
        (["--json", "predictions", "--game-date", DAY.isoformat()], 10),  # | head -c 10
        (["predictions", "--game-date", DAY.isoformat()], 200),  # | head -1, near enough
        (["predictions", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--json"], 1),
    ],
    ids=["json", "text", "range"],
)
def test_a_reader_that_stops_ends_the_output_quietly(
    predicted: Path, argv: list[str], size: int
) -> None:
    code, read, err = script(predicted, *argv)
    assert code == 0 and len(read) > 4 * PIPE_BUFFER  # far more than the pipe holds

    code, head, err = read_a_little(predicted, argv, size)

    assert (code, err) == (ExitCode.BROKEN_PIPE, "")
    assert head == read[:size].encode()


def test_through_a_shell_pipe_too(predicted: Path) -> None:
    pipeline = (
        f"{SCRIPT} --json predictions --game-date {DAY} | head -c 10; exit ${{PIPESTATUS[0]}}"
    )
    done = subprocess.run(
        ["bash", "-c", pipeline],
        env={**os.environ, "ATTRIBUTION_HOME": str(predicted)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (141, "[\n  {\n    ", "")
