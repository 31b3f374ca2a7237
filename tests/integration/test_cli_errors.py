"""Every failure of the ``attribution`` command is one line naming what is wrong and what to
do, with a documented exit code, never a traceback; and what is implausible is refused.

The command runs for real: in-process (``main([...])``) on a temporary ATTRIBUTION_HOME, and
as the installed console script in a subprocess with an ATTRIBUTION_HOME of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from attribution.batches.request import RunMode
from attribution.cli.batch_commands import _batch_summary, default_batch_id
from attribution.cli.exit_codes import MEANINGS, ExitCode
from attribution.cli.main import main
from attribution.limits import BATCH_ID_PATTERN, MAX_BATCH_ID_CHARS

SCRIPT = Path(sys.executable).parent / "attribution"
README = Path(__file__).resolve().parents[2] / "README.md"
SMALL = ["--rows", "300", "--iterations", "3", "--depth", "2"]
NOW = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run a command that must fail before doing anything: nothing on stdout, one line on
    stderr. Returns the exit code and that line."""
    code, out, err = run(capsys, *argv)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    return code, lines[0]


def script(home: Path, *argv: str, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """The console script, in a process of its own, on ``home``."""
    assert SCRIPT.is_file(), f"{SCRIPT} is not installed"
    environment = {**os.environ, "ATTRIBUTION_HOME": str(home), **(env or {})}
    done = subprocess.run(
        [str(SCRIPT), *argv],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def objects_under(home: Path, folder: str) -> list[Path]:
    root = home / "buckets" / "models" / folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def held(home: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``home``'s warehouse file open (DuckDB's lock), until the
    test ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_FILE, str(home / "warehouse.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    yield holder
    holder.communicate("", timeout=30)


HOLD_THE_FILE = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


# --- input files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["upload", "{missing}"], "model file"),
        (["card", "{missing}"], "model file"),
        (
            ["predict", "--system-id", "s", "--game-date", "2026-03-01", "--input", "{missing}"],
            "--input",
        ),
        (["results", "--input", "{missing}"], "--input"),
        (["ledger", "import", "{missing}"], "ledger file"),
    ],
)
def test_a_missing_input_file_is_named(
    home: Path, tmp_path: Path, capsys: Any, argv: list[str], what: str
) -> None:
    missing = tmp_path / "nowhere" / "rows.jsonl"
    if argv[0] in ("upload", "card"):
        missing = tmp_path / "nowhere" / "model.cbm"
    elif argv[0] == "ledger":
        missing = tmp_path / "nowhere" / "ledger.csv"
    code, line = refused(capsys, *[a.format(missing=missing) for a in argv])
    assert code == ExitCode.USAGE == 2
    assert line == f"error: {what} {missing} does not exist: check the path (file_not_found)"


def test_a_folder_or_an_unreadable_file_is_named(
    home: Path, tmp_path: Path, models: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line = refused(capsys, "card", str(tmp_path))
    assert (code, line) == (
        2,
        f"error: model file {tmp_path} is a folder: give the path of a file in it (not_a_file)",
    )
    # Permission bits do not stop root, who runs these tests: the OS's refusal, as it comes.
    locked = tmp_path / "locked.cbm"
    locked.write_bytes(models.old.read_bytes())
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, line = refused(capsys, "upload", str(locked))
    assert (code, line) == (
        2,
        f"error: model file {locked} cannot be read (permission denied): make it readable "
        "(chmod u+r) or run as its owner (unreadable_file)",
    )
    assert objects_under(home, "models") == []


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ("MAX_MODEL_BYTES", "abc", "MAX_MODEL_BYTES='abc' must be a whole number of at least 1"),
        ("MAX_MODEL_BYTES", "-5", "MAX_MODEL_BYTES='-5' must be a whole number of at least 1"),
        ("MAX_MODEL_BYTES", "0", "MAX_MODEL_BYTES='0' must be a whole number of at least 1"),
        ("DUCKDB_ACCESS", "bogus", "DUCKDB_ACCESS='bogus' must be one of: exclusive, shared"),
        ("MODEL_CACHE_SIZE", "0", "MODEL_CACHE_SIZE='0' must be a whole number of at least 1"),
        ("MIN_EDGE", "nan", "MIN_EDGE='nan' must be a number of at least 0"),
        ("MIN_EDGE", "-1", "MIN_EDGE='-1' must be a number of at least 0"),
        (
            "OVER_PROBABILITY_THRESHOLD",
            "0.3",
            "OVER_PROBABILITY_THRESHOLD='0.3' must be a number from 0.5 to 1",
        ),
        ("BATCH_LEASE_SECONDS", "0", "BATCH_LEASE_SECONDS='0' must be a number greater than 0"),
        (
            "LEDGER_CACHE_SECONDS",
            "soon",
            "LEDGER_CACHE_SECONDS='soon' must be a number of at least 0",
        ),
        (
            "LOG_LEVEL",
            "loud",
            "LOG_LEVEL='loud' must be one of: DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        ("ALERT_NOTIFIER", "pager", "ALERT_NOTIFIER='pager' must be one of: auto, console"),
        ("SMTP_HOST", "mail.example.com", "SMTP_HOST is set but ALERT_EMAIL_TO is not"),
        (
            "PUBLISHER",
            "pubsub",
            "GCP_PROJECT must be set to publish on Pub/Sub (PUBLISHER=pubsub): set it to the "
            "project's id, or PUBLISHER=inprocess",
        ),
    ],
)
def test_a_bad_setting_names_the_variable_and_the_accepted_form(
    home: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, case: tuple[str, str, str]
) -> None:
    variable, value, message = case
    monkeypatch.setenv(variable, value)
    code, line = refused(capsys, "cards")
    assert code == ExitCode.CONFIG == 78
    assert line == f"error: {message} (bad_setting)"
    assert not (home / "warehouse.duckdb").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    "case",
    [
        ("VERIFY_HIGH_EDGE", "abc", "a number"),
        ("VERIFY_ATTRIBUTION_FAIL_COUNT", "1.5x", "a whole number"),
        ("ALERT_REPEAT_WINDOW_HOURS", "six", "a number"),
    ],
)
def test_a_bad_verifier_setting_is_named_too(
    home: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, case: tuple[str, str, str]
) -> None:
    variable, value, form = case
    monkeypatch.setenv(variable, value)
    code, line = refused(capsys, "verify", "--game-date", "2026-03-01")
    assert (code, line) == (78, f"error: {variable}={value!r} must be {form} (bad_setting)")


def test_the_console_script_says_the_same_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "own-home"
    code, out, err = script(home, "cards", env={"MAX_MODEL_BYTES": "abc"})
    assert (code, out) == (78, "")
    assert err == (
        "error: MAX_MODEL_BYTES='abc' must be a whole number of at least 1 (bad_setting)\n"
    )
    code, out, err = script(home, "cards", env={"DUCKDB_ACCESS": "bogus"})
    assert (code, out) == (78, "")
    assert err == "error: DUCKDB_ACCESS='bogus' must be one of: exclusive, shared (bad_setting)\n"


# --- the warehouse: locked, corrupt -----------------------------------------------------------


def test_a_warehouse_another_process_holds_is_named_with_its_holder(
    home: Path, capsys: Any, held: subprocess.Popen[str]
) -> None:
    path = home / "warehouse.duckdb"
    expected = (
        rf"error: the warehouse {re.escape(str(path))} is in use by process {held.pid} "
        r"\(.+\): stop that process, or run both with DUCKDB_ACCESS=shared \(warehouse_locked\)"
    )
    code, line = refused(capsys, "cards")
    assert code == ExitCode.UNAVAILABLE == 69
    assert re.fullmatch(expected, line), line
    code, out, err = script(home, "migrate")
    assert (code, out) == (69, "")
    assert re.fullmatch(expected + "\n", err), err


def garbage_warehouse(home: Path) -> Path:
    path = home / "warehouse.duckdb"
    path.write_bytes(b"these bytes are not a database\n" * 500)
    return path


def test_a_warehouse_file_of_garbage_is_refused_at_once(home: Path, capsys: Any) -> None:
    path = garbage_warehouse(home)
    expected = (
        f"error: the warehouse {path} cannot be opened as a DuckDB database (The file exists, "
        "but it is not a valid DuckDB database file): move it aside to start an empty one, or "
        "set DUCKDB_PATH to the right file (warehouse_unusable)"
    )
    assert refused(capsys, "cards") == (69, expected)
    # Shared access used to take a file it cannot read for a busy one, and wait 60 s.
    started = time.monotonic()
    code, out, err = script(home, "cards", env={"DUCKDB_ACCESS": "shared"})
    assert (code, out, err) == (69, "", expected + "\n")
    assert time.monotonic() - started < 30


def test_a_truncated_warehouse_is_refused_too(home: Path, capsys: Any) -> None:
    # Made by another process: this one must not have the database open already.
    assert script(home, "migrate")[0] == 0
    path = home / "warehouse.duckdb"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    code, line = refused(capsys, "cards")
    assert code == 69
    assert line.startswith(f"error: the warehouse {path} cannot be opened as a DuckDB database (")
    assert line.endswith("set DUCKDB_PATH to the right file (warehouse_unusable)")


def test_a_home_that_is_a_file_is_named(tmp_path: Path, capsys: Any) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    code, line = refused(capsys, "--home", str(taken), "cards")
    assert code == ExitCode.IO_ERROR == 74
    assert re.fullmatch(
        rf"error: cannot make the folder {re.escape(str(taken))}/\w+: {re.escape(str(taken))} "
        r"is a file: move it, or choose another --home \(ATTRIBUTION_HOME\) \(file_error\)",
        line,
    ), line


# --- flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["predict", "--system-id", "s", "--game-date", "2026-13-01", "--input", "x.jsonl"],
            "argument --game-date: '2026-13-01' is not a date (expected YYYY-MM-DD) "
            "(see `attribution predict --help`)",
        ),
        (
            ["predict", "--system-id", "s", "--game-date", "0001-01-01", "--input", "x.jsonl"],
            "argument --game-date: 0001-01-01 is outside 2000-01-01..2100-12-31 "
            "(see `attribution predict --help`)",
        ),
        (
            ["predictions", "--game-date", "9999-12-31"],
            "argument --game-date: 9999-12-31 is outside 2000-01-01..2100-12-31 "
            "(see `attribution predictions --help`)",
        ),
        (
            ["verify", "--game-date", "1999-12-31"],
            "argument --game-date: 1999-12-31 is outside 2000-01-01..2100-12-31 "
            "(see `attribution verify --help`)",
        ),
        (
            ["upload", "m.cbm", "--wait", "nan"],
            "argument --wait: 'nan' is not a finite number of at least 0 "
            "(see `attribution upload --help`)",
        ),
        (
            ["train", "--out", "m.cbm", "--depth", "100"],
            "argument --depth: '100' is not a whole number from 1 to 16 "
            "(see `attribution train --help`)",
        ),
        (
            ["train", "--out", "m.cbm", "--expected-hit-rate", "500"],
            "argument --expected-hit-rate: '500' is not a finite number from 0 to 100 "
            "(see `attribution train --help`)",
        ),
        (
            ["serve", "--port", "70000"],
            "argument --port: '70000' is not a whole number from 0 to 65535 "
            "(see `attribution serve --help`)",
        ),
        (["frobnicate"], "argument command: invalid choice: 'frobnicate'"),
    ],
)
def test_a_bad_flag_value_is_one_line_naming_the_flag(
    home: Path, capsys: Any, argv: list[str], message: str
) -> None:
    code, line = refused(capsys, *argv)
    assert code == ExitCode.USAGE
    if argv == ["frobnicate"]:
        assert line.startswith(f"error: {message} (choose from ")
        assert line.endswith(" (see `attribution --help`)")
    else:
        assert line == f"error: {message}"


def test_help_lists_every_exit_code_as_the_readme_does(capsys: Any) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    listed = out[out.index("exit codes:") :]
    readme = README.read_text()
    section = readme[readme.index("## Command line") : readme.index("## Configuration")]
    for exit_code, meaning in MEANINGS.items():
        assert re.search(rf"^ +{int(exit_code)}  {re.escape(meaning)}$", listed, re.M), meaning
        assert re.search(rf"^\| `{int(exit_code)}` \| ", section, re.M), int(exit_code)
    documented = {int(m) for m in re.findall(r"^\| `(\d+)` \| ", section, re.M)}
    assert documented == {int(c) for c in ExitCode}


# --- train: the facts it will declare ---------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--system-id", "catboost v9"],
            "--system-id='catboost v9' must be 1-128 letters, digits, _ . - and start with a "
            "letter or digit (bad_system_id)",
        ),
        (
            ["--training-start", "2026-02-01", "--training-end", "2026-01-01"],
            "--training-end 2026-01-01 is before --training-start 2026-02-01 (bad_argument)",
        ),
        (
            ["--trained-at", "whenever"],
            "--trained-at='whenever' is not a timestamp (expected RFC 3339) (bad_argument)",
        ),
        (
            ["--trained-at", "2026-01-15T00:00:00Z"],
            "--trained-at 2026-01-15T00:00:00Z is before the training window ends "
            "(training_end_date 2026-01-31): a model is trained after its data (bad_argument)",
        ),
        (
            ["--training-end", "2100-01-31"],
            "trained_at (now: CatBoost's clock) {now} is before the training window ends "
            "(training_end_date 2100-01-31): a model is trained after its data (bad_argument)",
        ),
        (
            ["--trained-at", "2099-01-01T00:00:00Z"],
            "--trained-at 2099-01-01T00:00:00Z is in the future (now {now}; 10 minutes of "
            "clock skew allowed) (bad_argument)",
        ),
        (
            ["--loss", "Bogus"],
            "CatBoost could not train or save the model: Bogus loss is not "
            "supported (training_failed)",
        ),
    ],
)
def test_train_refuses_what_its_card_could_not_be(
    tmp_path: Path, capsys: Any, flags: list[str], message: str
) -> None:
    out = tmp_path / "m.cbm"
    code, line = refused(capsys, "train", "--out", str(out), *SMALL, *flags)
    assert code == 2
    pattern = re.escape(f"error: {message}").replace(re.escape("{now}"), NOW)
    assert re.fullmatch(pattern, line), line
    assert not out.exists()


# --- cards: plausible facts only --------------------------------------------------------------


def test_a_trained_at_in_the_future_is_refused_on_card_and_upload(
    home: Path, models: Any, capsys: Any
) -> None:
    code, line = refused(
        capsys, "card", str(models.factless), "--meta", "trained_at=2099-01-01T00:00:00Z"
    )
    assert code == 2
    assert re.fullmatch(
        rf"error: gs://local-file/factless\.cbm: trained_at 2099-01-01T00:00:00Z is in the "
        rf"future \(now {NOW}; 10 minutes of clock skew allowed\) \(trained_at from object "
        r"metadata\) \(bad_metadata\)",
        line,
    ), line

    code, line = refused(
        capsys, "upload", str(models.factless), "--meta", "trained_at=2099-01-01T00:00:00Z"
    )
    assert code == 2
    assert re.fullmatch(
        rf"error: {re.escape(str(models.factless))} was not uploaded: the model-upload "
        rf"function would make no card of it: trained_at 2099-01-01T00:00:00Z is in the future "
        rf"\(now {NOW}; 10 minutes of clock skew allowed\) \(trained_at from object metadata\) "
        r"\(bad_metadata\)",
        line,
    ), line
    assert objects_under(home, "models") == objects_under(home, "cards") == []


def test_a_trained_at_before_the_training_window_ends_is_refused(
    home: Path, models: Any, capsys: Any
) -> None:
    window = ["--meta", "training_start_date=2025-11-02", "--meta", "training_end_date=2026-01-31"]
    code, line = refused(
        capsys, "card", str(models.factless), *window, "--meta", "trained_at=2026-01-15T12:00:00Z"
    )
    assert (code, line) == (
        2,
        "error: gs://local-file/factless.cbm: trained_at 2026-01-15T12:00:00Z is before the "
        "training window ends (training_end_date 2026-01-31): a model is trained after its "
        "data (trained_at from object metadata) (bad_metadata)",
    )
    # The last day begins at 10:00 UTC the day before where the day begins first (UTC+14).
    earliest = ["--meta", "trained_at=2026-01-30T10:00:00Z"]
    code, out, err = run(capsys, "--json", "card", str(models.factless), *window, *earliest)
    assert code == 0, err
    assert json.loads(out)["trained_at"] == "2026-01-30T10:00:00Z"
    code, line = refused(
        capsys, "card", str(models.factless), *window, "--meta", "trained_at=2026-01-30T09:59:59Z"
    )
    assert code == 2 and "is before the training window ends" in line


def test_bytes_after_the_model_are_refused(tmp_path: Path, models: Any, capsys: Any) -> None:
    data = models.old.read_bytes()
    padded = tmp_path / "padded.cbm"
    padded.write_bytes(data + b"trailing")
    code, line = refused(capsys, "card", str(padded))
    assert (code, line) == (
        2,
        f"error: gs://local-file/padded.cbm: the file has 8 bytes after the end of the model "
        f"(byte {len(data)}): it is not the file CatBoost wrote (corrupt_model)",
    )


# --- upload: names ----------------------------------------------------------------------------


def test_upload_refuses_a_name_that_would_make_no_card(
    home: Path, models: Any, tmp_path: Path, capsys: Any
) -> None:
    notes = tmp_path / "m.txt"
    notes.write_text("not a model")
    assert refused(capsys, "upload", str(notes)) == (
        2,
        "error: 'm.txt' does not end in .cbm, so the model-upload function would ignore it and "
        "make no card: upload a CatBoost .cbm, or pass --name NAME.cbm (not_a_model_name)",
    )
    assert refused(capsys, "upload", str(models.old), "--name", "x" * 2000 + ".cbm") == (
        2,
        "error: --name is 2004 bytes long: a model file name may be at most 200 bytes "
        "(bad_argument)",
    )
    assert refused(capsys, "upload", str(models.old), "--name", "a/../b.cbm") == (
        2,
        "error: object name 'models/a/../b.cbm' would escape the bucket folder "
        "(unsafe_object_name)",
    )
    assert objects_under(home, "models") == []


# The bucket's trigger runs the function in another process: an upload waits for its card.
ELSEWHERE = {"PUBLISHER": "pubsub", "GCP_PROJECT": "local"}


def test_an_upload_that_cannot_become_a_card_is_refused_at_once(tmp_path: Path) -> None:
    home = tmp_path / "own-home"
    text = tmp_path / "x.cbm"
    text.write_text("these are my notes, not a model\n")
    notes = tmp_path / "model.txt"
    notes.write_text("not a model either\n")
    cases = [
        (
            text,
            f"error: {text} was not uploaded: the model-upload function would make no card of "
            "it: the file is not a CatBoost binary model (.cbm) (not_catboost)\n",
        ),
        (
            notes,
            "error: 'model.txt' does not end in .cbm, so the model-upload function would ignore "
            "it and make no card: upload a CatBoost .cbm, or pass --name NAME.cbm "
            "(not_a_model_name)\n",
        ),
    ]
    for path, message in cases:
        started = time.monotonic()
        code, out, err = script(home, "upload", str(path), env=ELSEWHERE)  # --wait: 60 s
        assert (code, out, err) == (ExitCode.USAGE, "", message)
        assert time.monotonic() - started < 30  # not the wait for a card that never comes
    assert objects_under(home, "models") == []


# --- predict: limits checked before anything is written ---------------------------------------


@pytest.fixture
def rows_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("player_lookup,line_value\nlebron_james,25.5\n")
    return path


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--system-id", "catboost v9"],
            "--system-id='catboost v9' must be 1-128 letters, digits, _ . - and start with a "
            "letter or digit (bad_system_id)",
        ),
        (
            ["--system-id", ".."],
            "--system-id='..' must be 1-128 letters, digits, _ . - and start with a letter or "
            "digit (bad_system_id)",
        ),
        (
            ["--system-id", "s", "--batch-id", "bad id!"],
            "--batch-id='bad id!' must be 1-128 letters, digits, _ . : - and start with a "
            "letter or digit (bad_batch_id)",
        ),
        (
            ["--system-id", "s", "--batch-id", "b" * 129],
            f"--batch-id={'b' * 60!r}... (129 characters) must be 1-128 letters, digits, _ . : - "
            "and start with a letter or digit (bad_batch_id)",
        ),
        (
            ["--system-id", "s", "--model", "m" * 1025],
            f"--model: model_file_name {'m' * 60!r}... (1025 characters) must be 1-1024 "
            "characters on one line (bad_model_pin)",
        ),
    ],
)
def test_predict_checks_ids_before_writing_any_object(
    home: Path, rows_file: Path, capsys: Any, flags: list[str], message: str
) -> None:
    code, line = refused(
        capsys, "predict", "--game-date", "2026-03-01", "--input", str(rows_file), *flags
    )
    assert (code, line) == (2, f"error: {message}")
    assert objects_under(home, "batches") == []  # no claim check under an invalid id


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.jsonl", b""), ("blank.jsonl", b"\n  \n"), ("header.csv", b"player_lookup,line\n")],
)
def test_an_empty_batch_says_no_rows(
    home: Path, tmp_path: Path, capsys: Any, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, line = refused(
        capsys, "predict", "--system-id", "s", "--game-date", "2026-03-01", "--input", str(path)
    )
    assert (code, line) == (
        2,
        f"error: {path} has no rows: there is nothing to predict (no_rows)",
    )
    assert objects_under(home, "batches") == []
    assert not (home / "bus" / "topics" / "prediction-batches.jsonl").exists()


def test_a_long_system_id_gets_a_batch_id_that_fits_and_is_logged(
    home: Path, tmp_path: Path, capsys: Any
) -> None:
    system = "s" * 120
    rows = tmp_path / "rows.jsonl"
    rows.write_bytes(b'{"player_lookup": "lebron_james", "line_value": 25.5}\n')
    batch_id = default_batch_id(system, date(2026, 3, 1), RunMode.OVERNIGHT, rows.read_bytes())
    digest = hashlib.sha256(system.encode()).hexdigest()[:12]
    input_digest = hashlib.sha256(rows.read_bytes()).hexdigest()[:12]
    assert batch_id == f"{'s' * 83}.{digest}-20260301-overnight-{input_digest}"
    assert len(batch_id) == MAX_BATCH_ID_CHARS

    code, out, err = run(
        capsys, "predict", "--system-id", system, "--game-date", "2026-03-01", "--input", str(rows)
    )
    assert code == ExitCode.FAILED, err  # logged (no model is active), not batch_not_logged
    assert out == (
        f"batch {batch_id}: failed, 0 written, 0 rejected of 0 (no_model: no model is pinned "
        f"and none is active for system {system}: promote one with `attribution promote "
        f"{system} MODEL`)\n"
    )


@pytest.mark.parametrize("length", [1, 64, 100, 116, 117, 128])
def test_derived_batch_ids_always_fit_and_stay_apart(length: int) -> None:
    data = b'{"player_lookup": "a", "line_value": 1}\n'
    for mode in RunMode:
        first = default_batch_id("a" * length, date(2026, 3, 1), mode, data)
        other = default_batch_id("a" * (length - 1) + "b", date(2026, 3, 1), mode, data)
        assert len(first) <= MAX_BATCH_ID_CHARS and re.fullmatch(BATCH_ID_PATTERN, first)
        assert first != other
        if length + len("-20260301--") + len(mode.value) + 12 <= MAX_BATCH_ID_CHARS:
            assert first.startswith("a" * length + "-20260301-")  # short ids are kept whole


def test_the_batch_summary_never_prints_none() -> None:
    refused_row = {
        "batch_id": "b1",
        "status": "failed",
        "error": "invalid_message: batch b1: system_id: '..' does not match",
        "rows_requested": None,
        "rows_written": None,
        "rows_rejected": None,
        "model_file_name": None,
    }
    assert _batch_summary("b1", refused_row) == (
        "batch b1: failed (invalid_message: batch b1: system_id: '..' does not match)"
    )
    empty = refused_row | {"error": None, "rows_requested": 0, "rows_written": 0}
    empty["rows_rejected"] = 0
    assert _batch_summary("b1", empty) == "batch b1: failed, 0 written, 0 rejected of 0 (no rows)"
