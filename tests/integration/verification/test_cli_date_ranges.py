"""``verify`` and ``predictions`` over ``--from``/``--to``: every day of the range, both ends
included, the same as asking for each day with ``--game-date``.

Run in-process (``main``) on a real world: model A promoted, DAY and the day after predicted
and graded through the functions, the third day left empty.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from attribution.cli.main import main

from .support import DAY, PLAYERS, SYSTEM, World

D2, D3 = DAY + timedelta(days=1), DAY + timedelta(days=2)
RANGE = ["--from", DAY.isoformat(), "--to", D3.isoformat()]


@pytest.fixture
def two_days(world: World) -> World:
    world.predict(D2)
    world.load_results(D2)
    return world


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_verify_a_range_verifies_every_day_and_exits_with_the_worst(
    two_days: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--json", "verify", *RANGE)

    assert code == 4  # D3 has no predictions: UNKNOWN, worse than the PASS of the others
    verdicts = json.loads(out)["verdicts"]
    assert [(v["game_date"], v["system_id"], v["verdict"]) for v in verdicts] == [
        (DAY.isoformat(), SYSTEM, "PASS"),
        (D2.isoformat(), SYSTEM, "PASS"),
        (D3.isoformat(), "*", "UNKNOWN"),
    ]
    recorded = two_days.query("SELECT run_id FROM verification_runs")
    assert {r["run_id"] for r in recorded} == {v["run_id"] for v in verdicts}

    code, out = run(capsys, "verify", "--from", DAY.isoformat(), "--to", D2.isoformat())
    assert code == 0
    assert [line for line in out.splitlines() if not line.startswith(" ")] == [
        f"{SYSTEM} {DAY}: PASS (previous: PASS)",
        f"{SYSTEM} {D2}: PASS (previous: PASS)",
    ]


def test_verify_a_range_of_an_unknown_system_records_nothing(
    two_days: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--json", "verify", *RANGE, "--system-id", "nope")
    assert code == 5
    assert json.loads(out)["code"] == "unknown_system"
    assert two_days.query("SELECT run_id FROM verification_runs") == []


def documents(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    code, out = run(capsys, "--json", "predictions", *argv)
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def test_predictions_of_a_range_are_those_of_each_of_its_days(
    two_days: World, capsys: pytest.CaptureFixture[str]
) -> None:
    each_day = [
        row for day in (DAY, D2, D3) for row in documents(capsys, "--game-date", day.isoformat())
    ]
    assert len(each_day) == 2 * PLAYERS
    assert documents(capsys, *RANGE) == each_day
    assert documents(capsys, *RANGE, "--system-id", "other") == []

    per_day = documents(capsys, *RANGE, "--per-day")
    assert [(r["game_date"], r["system_id"], r["predictions"]) for r in per_day] == [
        (DAY.isoformat(), SYSTEM, PLAYERS),
        (D2.isoformat(), SYSTEM, PLAYERS),
    ]
    one_day = documents(capsys, "--game-date", D2.isoformat(), "--per-day")
    assert one_day == per_day[1:]
