"""The commands: ``attribution ledger import FILE``, ``attribution backfill [...]`` and the
method counts of ``attribution report models``, run through the CLI's ``main``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from attribution.cli.main import main

from .support import DAY, PLAYERS, PROMOTION, SYSTEM, History

MINUTE = timedelta(minutes=1)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def deploy_log(history: History, folder: Path) -> Path:
    path = folder / "deploy_history.csv"
    path.write_text(
        "system_id,model_file_name,active_from,by,note\n"
        f"{SYSTEM},{history.old.model_file_name},2026-01-09T15:00:00Z,deploy-log,Session 80\n"
        f"{SYSTEM},{history.new.model_file_name},2026-02-02T22:00:00Z,deploy-log,Session 82\n"
    )
    return path


def legacy_story(history: History) -> dict[str, list[str]]:
    """Three legacy batches: one clearly the old model's, one inside the promotion's window
    (the retrain's), one with no kept input after the promotion."""
    return {
        "old": history.legacy_batch(
            "old", made_by=history.old, created_at=PROMOTION - timedelta(days=1)
        ),
        "close": history.legacy_batch("close", made_by=history.new, created_at=PROMOTION + MINUTE),
        "lost": history.legacy_batch(
            "lost", made_by=history.new, created_at=PROMOTION + timedelta(days=1), keep=None
        ),
    }


def test_ledger_import_reports_what_it_imported_and_is_idempotent(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = deploy_log(history, tmp_path)

    assert main(["ledger", "import", str(path)]) == 0
    assert capsys.readouterr().out.strip() == (
        "ledger import: 2 entries, 2 imported, 0 already recorded"
    )
    document = run_json(capsys, "ledger", "import", str(path))

    assert document == {"entries": 2, "imported": 0, "already_recorded": 2}
    deployments = run_json(capsys, "deployments", "--system-id", SYSTEM)
    assert [d["model_file_name"] for d in deployments] == [
        history.old.model_file_name,
        history.new.model_file_name,
    ]
    assert deployments[0]["ended"] == deployments[1]["active_from"] == "2026-02-02T22:00:00+00:00"
    assert deployments[1]["ended"] is None


def test_ledger_import_refuses_a_bad_file_with_exit_code_2_and_imports_nothing(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deploys.jsonl"
    path.write_text(
        json.dumps(
            {
                "system_id": SYSTEM,
                "model_file_name": history.old.model_file_name,
                "active_from": "2026-01-09T15:00:00Z",
            }
        )
        + "\n"
        + json.dumps(
            {"system_id": SYSTEM, "model_file_name": "nope.cbm", "active_from": "2026-02-01"}
        )
        + "\n"
    )

    assert main(["ledger", "import", str(path)]) == 2

    error = capsys.readouterr().err
    assert error.startswith("error: nothing imported: entry 2: ")
    assert "nope.cbm" in error and "(ledger_conflict)" in error
    assert history.app.ledger.list() == []


def test_backfill_dry_run_json_reports_and_changes_nothing(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "ledger", "import", str(deploy_log(history, tmp_path)))
    ids = legacy_story(history)
    before = history.rows()

    document = run_json(capsys, "backfill", "--system-id", SYSTEM, "--dry-run")

    assert history.rows() == before
    assert document["dry_run"] is True
    assert document["updated"] == 0
    assert document["considered"] == 3 * PLAYERS
    assert document["by_method"] == {"ledger_inferred": 2 * PLAYERS, "ambiguous": PLAYERS}
    assert document["by_model"] == {
        history.old.model_file_name: PLAYERS,
        history.new.model_file_name: PLAYERS,
    }
    assert document["ambiguous"] == PLAYERS
    assert document["ambiguous_rows"] == ids["close"]

    replay = run_json(capsys, "backfill", "--replay", "--dry-run")

    assert history.rows() == before
    assert replay["by_method"] == {"replay_verified": 2 * PLAYERS, "ledger_inferred": PLAYERS}


def test_backfill_replay_json_attributes_and_a_rerun_changes_nothing(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "ledger", "import", str(deploy_log(history, tmp_path)))
    ids = legacy_story(history)

    document = run_json(capsys, "backfill", "--replay")

    assert document["updated"] == 3 * PLAYERS
    assert document["by_method"] == {"replay_verified": 2 * PLAYERS, "ledger_inferred": PLAYERS}
    assert document["by_model"] == {
        history.old.model_file_name: PLAYERS,
        history.new.model_file_name: 2 * PLAYERS,
    }
    assert document["ambiguous"] == document["unreproduced"] == document["no_ledger_entry"] == 0
    assert history.methods("old") == history.methods("close") == {"replay_verified"}
    assert history.methods("lost") == {"ledger_inferred"}
    assert {history.row(i)["model_sha256"] for i in ids["close"]} == {history.new.model_sha256}

    again = run_json(capsys, "backfill", "--replay")

    assert (again["updated"], again["by_method"]) == (0, {})


def test_backfill_prints_a_summary_and_lists_rows_it_left(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "ledger", "import", str(deploy_log(history, tmp_path)))
    ids = legacy_story(history)
    history.tamper(ids["old"][0], 1.0)

    assert main(["backfill", "--replay"]) == 0

    out = capsys.readouterr().out
    lines = out.splitlines()
    attributed = 3 * PLAYERS - 1
    assert lines[0] == (
        f"backfill: {3 * PLAYERS} rows considered, updated {attributed} ({attributed} written)"
    )
    assert any(line.split() == ["replay_verified", str(2 * PLAYERS - 1)] for line in lines)
    assert any(line.split() == ["unreproduced", "1"] for line in lines)
    assert any(line.split() == [history.new.model_file_name, str(2 * PLAYERS)] for line in lines)
    assert f"no candidate reproduces (flagged, left unstamped): {ids['old'][0]}" in out


def test_backfill_filters_by_system_and_game_date(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "ledger", "import", str(deploy_log(history, tmp_path)))
    next_day = DAY + timedelta(days=1)
    history.legacy_batch("d0", made_by=history.old, created_at=PROMOTION - timedelta(days=1))
    history.legacy_batch(
        "d1", made_by=history.new, created_at=PROMOTION + timedelta(days=1), day=next_day
    )

    other = run_json(capsys, "backfill", "--system-id", "catboost_v10")
    later = run_json(capsys, "backfill", "--from", next_day.isoformat())

    assert other["considered"] == 0
    assert later["considered"] == later["updated"] == PLAYERS
    assert history.methods("d0") == {None}
    assert history.methods("d1") == {"ledger_inferred"}

    earlier = run_json(capsys, "backfill", "--to", DAY.isoformat(), "--replay")

    assert earlier["by_method"] == {"replay_verified": PLAYERS}
    assert history.methods("d0") == {"replay_verified"}


def test_report_models_counts_stamped_replayed_and_inferred_rows_per_model(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "ledger", "import", str(deploy_log(history, tmp_path)))
    legacy_story(history)
    history.run_batch("live")  # the retrain is active now: 8 stamped rows
    run_json(capsys, "backfill", "--replay")

    rows = run_json(capsys, "report", "models", "--system-id", SYSTEM)

    counts = {
        r["model_file_name"]: (r["predictions"], r["stamped"], r["replay_verified"],
                               r["ledger_inferred"])
        for r in rows
    }  # fmt: skip
    assert counts == {
        history.new.model_file_name: (8 + 2 * PLAYERS, 8, PLAYERS, PLAYERS),
        history.old.model_file_name: (PLAYERS, 0, PLAYERS, 0),
    }

    assert main(["report", "models", "--system-id", SYSTEM]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[-3:] == ["stamped", "replay_verified", "ledger_inferred"]


def test_the_seed_story_ends_with_every_row_attributed_and_verify_passing_coverage(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's steps 8-9 on the CLI: a day written without stamping fails coverage;
    import the deploy log, backfill with replay, and coverage passes."""
    history.legacy_batch("worker", made_by=history.new, created_at=PROMOTION + timedelta(hours=6))

    code = main(["--json", "verify", "--game-date", DAY.isoformat(), "--system-id", SYSTEM])
    assert code == 1  # FAIL
    (before,) = json.loads(capsys.readouterr().out)["verdicts"]
    coverage = next(c for c in before["checks"] if c["name"] == "coverage")
    assert coverage["status"] == "FAIL"

    run_json(capsys, "ledger", "import", str(deploy_log(history, tmp_path)))
    run_json(capsys, "backfill", "--system-id", SYSTEM, "--replay")
    main(["--json", "verify", "--game-date", DAY.isoformat(), "--system-id", SYSTEM])
    (after,) = json.loads(capsys.readouterr().out)["verdicts"]

    checks = {c["name"]: c for c in after["checks"]}
    assert checks["coverage"]["status"] == "PASS"
    assert checks["coverage"]["figures"]["by_method"]["replay_verified"] == PLAYERS
    assert checks["deployment_drift"]["status"] == "PASS"
