"""The batch commands of the ``attribution`` CLI, run in-process on a temporary home."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from attribution.cli.main import main
from attribution.devtools.slates import Slate

from .support import (
    GAME_DATE,
    OLD_NAME,
    RETRAIN_NAME,
    SYSTEM,
    csv_bytes,
    jsonl_bytes,
    parquet_bytes,
)

DAY = GAME_DATE.isoformat()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def cli_home(home: Path, models: Any, capsys: pytest.CaptureFixture[str]) -> Path:
    """Both models uploaded with ``attribution upload``; nothing promoted yet."""
    for path, name in ((models.old, OLD_NAME), (models.retrain, RETRAIN_NAME)):
        code, _, err = run(capsys, "upload", str(path), "--name", name)
        assert code == 0, err
    return home


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _predict(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> dict[str, Any]:
    result: dict[str, Any] = run_json(
        capsys, "predict", "--system-id", SYSTEM, "--game-date", DAY, "--input", str(path), *extra
    )
    return result


def test_promote_and_deployments(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "promote", SYSTEM, OLD_NAME, "--by", "ops", "--note", "first")
    assert code == 0
    assert out.startswith(f"promoted {OLD_NAME} (") and f"for {SYSTEM}" in out

    retrain = run_json(capsys, "cards")["cards"][1]
    promoted = run_json(capsys, "promote", SYSTEM, retrain["model_sha256"][:12])
    assert promoted["model_file_name"] == RETRAIN_NAME and promoted["new"] is True

    ledger = run_json(capsys, "deployments", "--system-id", SYSTEM)
    assert [(d["model_file_name"], d["deployed_by"], d["note"]) for d in ledger] == [
        (OLD_NAME, "ops", "first"),
        (RETRAIN_NAME, None, None),
    ]
    assert ledger[1]["model_sha256"] == retrain["model_sha256"]
    assert run_json(capsys, "deployments", "--system-id", "nobody") == []

    code, out, _ = run(capsys, "deployments")
    assert code == 0 and OLD_NAME in out and RETRAIN_NAME in out

    code, _, err = run(capsys, "promote", SYSTEM, "no-such-model.cbm")
    assert code == 2 and "unknown_model" in err


def test_promote_takes_the_first_8_characters_of_a_listed_card_id(
    cli_home: Path, models: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = run_json(capsys, "cards")["cards"]
    (retrain,) = [c for c in listed if c["model_file_name"] == RETRAIN_NAME]

    promoted = run_json(capsys, "promote", SYSTEM, retrain["card_id"][:8])

    assert promoted["model_file_name"] == RETRAIN_NAME
    assert promoted["model_sha256"] == hashlib.sha256(models.retrain.read_bytes()).hexdigest()
    (deployment,) = run_json(capsys, "deployments", "--system-id", SYSTEM)
    assert deployment["model_file_name"] == RETRAIN_NAME


def test_predict_inline_jsonl_reports_written_and_rejected(
    cli_home: Path, slate: Slate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "promote", SYSTEM, OLD_NAME)
    rows = [dict(r) for r in slate.rows]
    rows[0]["pace"] = "fast"
    rows[1]["game_date"] = "2026-03-05"
    path = _write(tmp_path, "slate.jsonl", jsonl_bytes(rows))

    code, out, err = run(
        capsys, "predict", "--system-id", SYSTEM, "--game-date", DAY, "--input", str(path)
    )
    assert code == 0, err
    assert "partial, 38 written, 2 rejected of 40 by catboost_v9_old.cbm" in out
    assert "feature pace is not a number" in out

    log = _predict(capsys, path)  # the same file again: the same batch, already done
    assert (log["rows_written"], log["rows_rejected"]) == (38, 2)
    assert log["batch_id"].startswith(f"{SYSTEM}-20260301-overnight-")
    assert log["input_uri"] == f"gs://models/batches/{log['batch_id']}/input.jsonl"
    listed = run_json(capsys, "predictions", "--game-date", DAY)
    assert len(listed) == 38


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_predict_csv_and_parquet_go_through_a_claim_check(
    cli_home: Path, slate: Slate, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    run(capsys, "promote", SYSTEM, OLD_NAME)
    inline = _predict(capsys, _write(tmp_path, "rows.jsonl", jsonl_bytes(slate.rows)))
    encode = csv_bytes if fmt == "csv" else parquet_bytes
    claimed = _predict(
        capsys, _write(tmp_path, f"rows.{fmt}", encode(slate.rows)), "--run-mode", "EARLY"
    )

    assert claimed["status"] == "success" and claimed["rows_written"] == 40
    assert claimed["input_uri"].startswith(f"gs://models/batches/{claimed['batch_id']}/input.")
    assert claimed["run_mode"] == "EARLY"
    listed = run_json(capsys, "predictions", "--game-date", DAY)
    by_batch: dict[str, dict[str, float]] = {}
    for row in listed:
        by_batch.setdefault(row["batch_id"], {})[row["player_lookup"]] = row["predicted_points"]
    assert by_batch[claimed["batch_id"]] == by_batch[inline["batch_id"]]


def test_predict_with_a_pinned_model(
    cli_home: Path, slate: Slate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "promote", SYSTEM, OLD_NAME)
    path = _write(tmp_path, "rows.jsonl", jsonl_bytes(slate.rows[:10]))
    retrain = next(
        c for c in run_json(capsys, "cards")["cards"] if c["model_file_name"] == RETRAIN_NAME
    )
    by_hash = _predict(capsys, path, "--model", retrain["model_sha256"], "--batch-id", "pin-hash")
    by_name = _predict(capsys, path, "--model", RETRAIN_NAME, "--batch-id", "pin-name")
    active = _predict(capsys, path, "--batch-id", "active")
    assert by_hash["model_sha256"] == by_name["model_sha256"] == retrain["model_sha256"]
    assert active["model_file_name"] == OLD_NAME


def test_predict_without_an_active_model_fails_and_says_why(
    cli_home: Path, slate: Slate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "rows.jsonl", jsonl_bytes(slate.rows[:5]))
    code, out, _ = run(
        capsys, "predict", "--system-id", SYSTEM, "--game-date", DAY, "--input", str(path)
    )
    assert code == 1
    assert ": failed, 0 written" in out and "no_model" in out

    bad = _write(tmp_path, "rows.txt", b"player_lookup\n")
    code, _, err = run(
        capsys, "predict", "--system-id", SYSTEM, "--game-date", DAY, "--input", str(bad)
    )
    assert code == 2 and "bad_input_format" in err


def test_results_and_predictions_per_day(
    cli_home: Path, slate: Slate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "promote", SYSTEM, OLD_NAME)
    _predict(capsys, _write(tmp_path, "rows.jsonl", jsonl_bytes(slate.rows)))
    results = _write(tmp_path, "results.csv", csv_bytes(slate.results))

    code, out, _ = run(capsys, "results", "--input", str(results))
    assert (code, out.strip()) == (0, "results: 40 loaded, 0 already present, 0 rejected")
    code, out, _ = run(capsys, "results", "--input", str(results))
    assert (code, out.strip()) == (0, "results: 0 loaded, 40 already present, 0 rejected")
    broken = _write(
        tmp_path,
        "broken.jsonl",
        jsonl_bytes([{"game_date": DAY, "player_lookup": "p_x", "actual_points": "lots"}]),
    )
    code, out, _ = run(capsys, "results", "--input", str(broken))
    assert code == 1 and "actual_points must be a number" in out

    code, out, _ = run(capsys, "predictions", "--game-date", DAY)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["game_date", "system_id", "player_lookup"]
    assert len(lines) == 2 + 40 and all(OLD_NAME in line for line in lines[2:])

    per_day = run_json(capsys, "predictions", "--from", DAY, "--to", "2026-03-02", "--per-day")
    assert per_day == [
        {
            "batches": 1,
            "game_date": DAY,
            "model_file_name": OLD_NAME,
            "predictions": 40,
            "system_id": SYSTEM,
        }
    ]
    assert run_json(capsys, "predictions", "--game-date", "2026-03-02") == []
    code, out, _ = run(capsys, "predictions", "--game-date", DAY, "--per-day")
    assert code == 0 and "40" in out.splitlines()[2]
