"""``attribution verify`` and ``attribution report models``, run in-process on a real world."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from attribution.cli.main import main

from .support import A_NAME, B_NAME, DAY, EMPTY_DAY, PLAYERS, SYSTEM, World, graded_frame

Damage = Callable[[World], date]


def _clean(world: World) -> date:
    return DAY


def _unattributed(world: World) -> date:
    world.insert_unattributed(12)
    return DAY


def _orphan_card(world: World) -> date:
    world.bucket.path_of(world.object_name(B_NAME)).unlink()
    return DAY


def _nothing_predicted(world: World) -> date:
    return EMPTY_DAY


@pytest.mark.parametrize(
    ("damage", "code", "verdict"),
    [
        (_clean, 0, "PASS"),
        (_unattributed, 1, "FAIL"),
        (_orphan_card, 3, "PARTIAL"),
        (_nothing_predicted, 4, "UNKNOWN"),
    ],
    ids=["pass", "fail", "partial", "unknown"],
)
def test_verify_exit_codes(
    world: World, capsys: pytest.CaptureFixture[str], damage: Damage, code: int, verdict: str
) -> None:
    day = damage(world)

    assert main(["verify", "--game-date", day.isoformat()]) == code

    out = capsys.readouterr().out
    system = SYSTEM if day == DAY else "*"
    assert out.splitlines()[0].startswith(f"{system} {day}: {verdict} (previous: none)")
    assert "alert sent" in out.splitlines()[0]
    if code:
        assert "next: " in out
    (run,) = world.runs(system)
    assert run["verdict"] == verdict
    assert world.notifier.sent[-1].fields["verdict"] == verdict


def test_verify_text_shows_the_failing_check_and_its_samples(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = world.insert_unattributed(12)

    assert main(["verify", "--game-date", DAY.isoformat(), "--system-id", SYSTEM]) == 1

    out = capsys.readouterr().out
    assert "[FAIL] coverage: 60/72 predictions fully attributed (83.3%)" in out
    assert f"prediction {sorted(legacy)[0]} (batch legacy-worker)" in out
    assert "+2 more" in out
    assert "[ok  ] leakage" in out


def test_verify_json_parses_and_carries_the_checks(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.insert_unattributed(3)

    assert main(["--json", "verify", "--game-date", DAY.isoformat()]) == 1

    (document,) = json.loads(capsys.readouterr().out)["verdicts"]
    assert document["verdict"] == "FAIL"
    assert document["system_id"] == SYSTEM and document["game_date"] == DAY.isoformat()
    assert document["alerted"] is True
    checks = {c["name"]: c for c in document["checks"]}
    assert {"coverage", "completeness", "bucket_vs_registry", "performance", "leakage"} <= set(
        checks
    )
    assert checks["coverage"]["status"] == "FAIL"
    assert checks["coverage"]["figures"]["missing"] == 3
    assert checks["coverage"]["next_step"]
    assert checks["leakage"]["status"] == "PASS"
    (run,) = world.runs()
    assert run["run_id"] == document["run_id"]


def test_verify_json_for_the_second_run_remembers_the_first(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", "verify", "--game-date", DAY.isoformat()]) == 0
    capsys.readouterr()

    assert main(["--json", "verify", "--game-date", DAY.isoformat()]) == 0

    (document,) = json.loads(capsys.readouterr().out)["verdicts"]
    assert (document["previous_verdict"], document["alerted"]) == ("PASS", False)


# --- report models --------------------------------------------------------------------------------

D1, D2, D3 = DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)


@pytest.fixture
def history(world: World) -> World:
    """A predicts D1 and D2, then B is promoted and predicts D3; all graded. Five D1 rows are
    re-written by a backfill as ``ledger_inferred``."""
    world.predict(D2)
    world.promote(world.b)
    world.predict(D3)
    for day in (D2, D3):
        world.load_results(day)
    world.copy_rows(
        world.predictions(D1)[:5],
        batch_id="backfill-d1",
        prefix="inferred",
        attribution_method="ledger_inferred",
    )
    return world


def _expected_report(world: World, min_edge: float, start: date, end: date) -> dict[str, Any]:
    """The report, computed here with pandas from the raw tables, per model file."""
    frame = graded_frame(world.app)
    frame = frame[(frame["system_id"] == SYSTEM) & frame["game_date"].between(start, end)]
    expected: dict[str, Any] = {}
    for name, rows in frame.groupby("model_file_name"):
        picked = rows[rows["picked"]]
        high = picked[picked["edge"].abs() >= min_edge]
        expected[str(name)] = {
            "predictions": len(rows),
            "picks": len(picked),
            "hit_rate": 100 * picked["correct"].mean() if len(picked) else None,
            "high_edge_picks": len(high),
            "high_edge_hit_rate": 100 * high["correct"].mean() if len(high) else None,
            "mae": rows["absolute_error"].mean(),
            "first_game": rows["game_date"].min().isoformat(),
            "last_game": rows["game_date"].max().isoformat(),
            "methods": rows["attribution_method"].value_counts().to_dict(),
        }
    return expected


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    assert main(["--json", "report", "models", *argv]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


@pytest.mark.parametrize("min_edge", [3.0, 5.0])
def test_report_models_matches_an_independent_computation(
    history: World, capsys: pytest.CaptureFixture[str], min_edge: float
) -> None:
    world = history
    rows = _report(
        capsys,
        "--system-id", SYSTEM,
        "--min-edge", str(min_edge),
        "--from", D1.isoformat(),
        "--to", D3.isoformat(),
    )  # fmt: skip

    expected = _expected_report(world, min_edge, D1, D3)
    assert [r["model_file_name"] for r in rows] == [B_NAME, A_NAME]  # latest game first
    assert set(expected) == {A_NAME, B_NAME}
    cards = {A_NAME: world.a, B_NAME: world.b}
    for row in rows:
        want = expected[row["model_file_name"]]
        card = cards[row["model_file_name"]]
        assert row["system_id"] == SYSTEM
        assert row["model_sha256"] == card.model_sha256
        assert row["predictions"] == want["predictions"]
        assert row["picks"] == want["picks"]
        assert row["hit_rate"] == pytest.approx(want["hit_rate"], abs=0.05 + 1e-9)
        assert row["high_edge_picks"] == want["high_edge_picks"]
        if want["high_edge_hit_rate"] is None:
            assert row["high_edge_hit_rate"] is None
        else:
            assert row["high_edge_hit_rate"] == pytest.approx(
                want["high_edge_hit_rate"], abs=0.05 + 1e-9
            )
        assert row["mae"] == pytest.approx(want["mae"], abs=0.005 + 1e-9)
        assert (row["expected_mae"], row["expected_hit_rate"]) == (
            card.expected_mae,
            card.expected_hit_rate,
        )
        assert (row["first_game"], row["last_game"]) == (want["first_game"], want["last_game"])
        methods = {m: row[m] for m in ("stamped", "replay_verified", "ledger_inferred")}
        assert {m: n for m, n in methods.items() if n} == want["methods"]
    a_row = rows[1]
    assert (a_row["predictions"], a_row["stamped"], a_row["ledger_inferred"]) == (
        2 * PLAYERS + 5,
        2 * PLAYERS,
        5,
    )


def test_report_models_honours_the_date_range_and_system(
    history: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = history
    early = _report(capsys, "--to", D2.isoformat())
    late = _report(capsys, "--from", D3.isoformat(), "--system-id", SYSTEM)
    other = _report(capsys, "--system-id", "catboost_v10")

    assert [r["model_file_name"] for r in early] == [A_NAME]
    assert early[0]["predictions"] == _expected_report(world, 5.0, D1, D2)[A_NAME]["predictions"]
    assert early[0]["last_game"] == D2.isoformat()
    assert [r["model_file_name"] for r in late] == [B_NAME]
    assert late[0]["predictions"] == PLAYERS
    assert other == []


def test_report_models_prints_a_table(history: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "models", "--system-id", SYSTEM, "--min-edge", "3"]) == 0

    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    for column in (
        "model_file_name",
        "predictions",
        "hit_rate",
        "high_edge_hit_rate",
        "mae",
        "expected_mae",
        "expected_hit_rate",
        "first_game",
        "last_game",
        "stamped",
        "ledger_inferred",
    ):
        assert column in header
    body = lines[2:]
    assert len(body) == 2
    assert body[0].split()[1:3] == ["champion", B_NAME]
    assert body[1].split()[1:3] == ["champion", A_NAME]
