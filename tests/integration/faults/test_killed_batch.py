"""A batch killed mid-run (SIGKILL in a process of its own): the verifier never says PASS
over it, its claim expires in seconds, and running it again completes it exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from app_support import upload_model
from batches.support import GAME_DATE, OLD_NAME, SYSTEM

from attribution.bootstrap import build_app, use_app
from attribution.config import Settings
from attribution.devtools.slates import slate_for
from attribution.verification.outcome import Status
from attribution.verification.settings import load_verifier_settings
from attribution.verification.verifier import Verifier

SCRIPT = Path(__file__).with_name("killed_batch.py")
PLAYERS = 300
LEASE_SECONDS = 1.0


def settings(home: Path) -> Settings:
    return Settings(home=home, batch_lease_seconds=LEASE_SECONDS, log_level="WARNING")


@pytest.fixture
def prepared(tmp_path: Path, models: Any) -> dict[str, Any]:
    """A home with the old model published and promoted, and a slate file; nothing open."""
    home = tmp_path / "home"
    app = build_app(settings(home))
    use_app(app)  # the bus runs model_upload on this App
    card = upload_model(app, models.old, OLD_NAME)
    app.ledger.promote(SYSTEM, card, by="tests")
    app.warehouse.close()  # type: ignore[attr-defined]
    use_app(None)
    rows = slate_for(GAME_DATE, players=PLAYERS, extra_lines=20).rows
    path = tmp_path / "slate.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"home": home, "input": path, "rows": len(rows)}


def kill_batch(prepared: dict[str, Any], batch_id: str, kill_at: str) -> None:
    env = dict(os.environ, BATCH_LEASE_SECONDS=str(LEASE_SECONDS), LOG_LEVEL="WARNING")
    args = [str(prepared["home"]), str(prepared["input"]), batch_id, SYSTEM, str(GAME_DATE)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, kill_at],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == -9, done.stderr[-2000:]


def verify(app: Any) -> Any:
    verifier = Verifier(
        warehouse=app.warehouse,
        registry=app.registry,
        store_for=app.store,
        notifier=app.notifier,
        settings=load_verifier_settings({}),
    )
    (verdict,) = verifier.verify(GAME_DATE, SYSTEM)
    return verdict


def check(verdict: Any, name: str) -> Any:
    (found,) = [c for c in verdict.checks if c.name == name]
    return found


def count(app: Any, sql: str, **params: Any) -> int:
    return int(app.warehouse.query(sql, params)[0]["n"])


@pytest.mark.parametrize("kill_at", ["half_written", "before_log"])
def test_a_killed_batch_fails_verification_and_completes_once_when_run_again(
    prepared: dict[str, Any], kill_at: str
) -> None:
    batch_id = f"killed-{kill_at}"
    kill_batch(prepared, batch_id, kill_at)

    app = build_app(settings(prepared["home"]))
    use_app(app)
    try:
        (log,) = app.warehouse.query(
            "SELECT * FROM prediction_execution_log WHERE batch_id = @b", {"b": batch_id}
        )
        assert log["status"] == "running"  # visible, though it never finished
        assert log["rows_requested"] == prepared["rows"]
        written = count(
            app,
            "SELECT COUNT(*) AS n FROM player_prop_predictions WHERE batch_id = @b",
            b=batch_id,
        )
        assert written == (prepared["rows"] // 2 if kill_at == "half_written" else prepared["rows"])

        verdict = verify(app)
        assert verdict.verdict is Status.FAIL  # never PASS over a batch that did not finish
        failed = check(verdict, "failed_batches")
        assert failed.status is Status.FAIL
        assert failed.figures["unfinished_batches"] == 1
        assert any(batch_id in line and "not finished" in line for line in failed.details)
        completeness = check(verdict, "completeness")
        assert completeness.status is Status.FAIL
        assert completeness.figures["rows_missing"] == prepared["rows"] - written

        time.sleep(LEASE_SECONDS * 1.5)  # the dead holder's claim runs out in seconds
        from attribution.cli.main import main

        assert (
            main(
                [
                    "predict",
                    "--system-id",
                    SYSTEM,
                    "--game-date",
                    str(GAME_DATE),
                    "--input",
                    str(prepared["input"]),
                    "--batch-id",
                    batch_id,
                ]
            )
            == 0
        )
        (log,) = app.warehouse.query(
            "SELECT * FROM prediction_execution_log WHERE batch_id = @b", {"b": batch_id}
        )
        assert (log["status"], log["rows_written"]) == ("success", prepared["rows"])
        rows = app.warehouse.query(
            "SELECT prediction_id FROM player_prop_predictions WHERE batch_id = @b",
            {"b": batch_id},
        )
        assert len(rows) == len({r["prediction_id"] for r in rows}) == prepared["rows"]
        assert verify(app).verdict is Status.PASS
    finally:
        app.warehouse.close()  # type: ignore[attr-defined]
        use_app(None)
