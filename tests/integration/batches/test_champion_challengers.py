"""Champion and challengers as a team runs them: models trained the way users train them
(Poisson and RMSE regressors, an OVER/UNDER classifier, one that needs a column the slate
does not have), slates with strings, missing numbers and two lines for some players, sent
with the CLI. Every stored value is held to the user's own CatBoost ``predict`` /
``predict_proba``; the comparison is held to a computation by hand from those predictions
and the results (scipy's exact binomial test and t quantile), never to the product's code.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from user_trained_models import (
    MISSING,
    Kind,
    UserModel,
    facts_for,
    recommendation_for_points,
    recommendation_for_probability,
    results,
    slate,
    train,
)

from attribution.bootstrap import App, build_app, use_app
from attribution.cli.main import main
from attribution.comparison.compare import compare_models
from attribution.config import Settings
from attribution.verification.outcome import Status

SYSTEM = "points_props"
DAYS = (date(2026, 2, 1), date(2026, 2, 2), date(2026, 2, 3))
AFTER_PROMOTION = date(2026, 2, 4)
PLAYERS = 60
ABSENT_FEATURE = "usage_rate"  # the slate's feature job sends no such column


@dataclass
class NeedsMore:
    """A fitted CatBoostRegressor trained with a column the slate never carries."""

    path: Path
    file_name: str


@dataclass(frozen=True)
class League:
    app: App
    champion: UserModel
    rmse: UserModel
    over_under: UserModel
    needs_more: NeedsMore
    slates: dict[date, list[dict[str, Any]]]
    batches: dict[date, str]
    home: Path


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def seed_of(day: date) -> int:
    return day.toordinal() % 10_000


def train_needs_more(folder: Path) -> NeedsMore:
    from catboost import CatBoostRegressor
    from user_trained_models import games

    data = pd.DataFrame(games(800, seed=9))
    data[ABSENT_FEATURE] = np.linspace(10, 30, len(data))
    features = ["points_avg_last_5", "opponent", MISSING, ABSENT_FEATURE]
    model = CatBoostRegressor(
        iterations=20, depth=3, cat_features=["opponent"], verbose=False, allow_writing_files=False
    )
    model.fit(data[features], data["actual_points"])
    facts = facts_for(
        SYSTEM,
        start=date(2025, 11, 1),
        end=date(2026, 1, 20),
        trained_at="2026-01-21T00:00:00Z",
        over_under=False,
    )
    for key, value in facts.items():
        model.get_metadata()[key] = value
    path = folder / "points_props_usage.cbm"
    model.save_model(str(path))
    return NeedsMore(path, path.name)


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> Iterator[League]:
    folder = tmp_path_factory.mktemp("league_models")

    def user_model(kind: Kind, name: str, seed: int) -> UserModel:
        facts = facts_for(
            SYSTEM,
            start=date(2025, 11, 1),
            end=date(2026, 1, 20),
            trained_at="2026-01-21T00:00:00Z",
            over_under=kind is Kind.OVER_UNDER,
        )
        return train(kind, folder / name, facts=facts, seed=seed, rows=1500, iterations=40)

    champion = user_model(Kind.POISSON, "points_props_poisson.cbm", 1)
    rmse = user_model(Kind.RMSE_INT_CATEGORY, "points_props_rmse.cbm", 2)
    over_under = user_model(Kind.OVER_UNDER, "points_props_over_under.cbm", 3)
    needs_more = train_needs_more(folder)
    home = tmp_path_factory.mktemp("league_home")
    app = build_app(Settings(home=home))
    use_app(app)
    try:
        for path in (champion.path, rmse.path, over_under.path, needs_more.path):
            code, out = cli("upload", str(path))
            assert code == 0, out
        assert cli("promote", SYSTEM, champion.file_name, "--at", "2026-01-25T00:00:00Z")[0] == 0
        for challenger in (rmse.file_name, over_under.file_name, needs_more.file_name):
            code, out = cli("challenge", SYSTEM, challenger, "--at", "2026-01-26T00:00:00Z")
            assert code == 0 and out.startswith(f"challenging with {challenger}"), out
        slates: dict[date, list[dict[str, Any]]] = {}
        batches: dict[date, str] = {}
        for day in DAYS:
            slates[day], batches[day] = send(home, day)
            load_results(home, day)
        yield League(app, champion, rmse, over_under, needs_more, slates, batches, home)
    finally:
        use_app(None)


@pytest.fixture(autouse=True)
def _league_installed(league: League) -> None:
    use_app(league.app)  # tests/conftest.py clears the process App before each test


def send(home: Path, day: date) -> tuple[list[dict[str, Any]], str]:
    rows = slate(day, players=PLAYERS, seed=seed_of(day))
    rows[5]["opponent"] = ""  # a blank category: the batch's reject, for every model
    path = home / f"slate-{day}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out = cli("--json", "predict", "--system-id", SYSTEM, "--game-date", str(day),
                    "--input", str(path))  # fmt: skip
    assert code == 0, out
    return rows, json.loads(out)["batch_id"]


def load_results(home: Path, day: date) -> None:
    path = home / f"results-{day}.jsonl"
    path.write_text(
        "".join(
            json.dumps({**r, "game_date": str(r["game_date"])}) + "\n"
            for r in results(day, PLAYERS, seed_of(day))
        )
    )
    assert cli("results", "--input", str(path))[0] == 0


def rows_of(app: App, table: str, batch_id: str) -> list[dict[str, Any]]:
    return app.warehouse.query(
        f"SELECT * FROM {table} WHERE batch_id = @batch_id",  # table: a test constant
        {"batch_id": batch_id},
    )


def key(row: Mapping[str, Any]) -> tuple[str, float, str | None]:
    return (row["player_lookup"], float(row["line_value"]), row.get("sportsbook") or None)


def good_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The slate's rows every model can use: all but the blank category's."""
    return [r for r in rows if r["opponent"]]


def by_key(rows: Sequence[Mapping[str, Any]], field: str) -> dict[Any, Any]:
    return {key(r): r[field] for r in rows}


def test_the_champion_rows_are_the_predictions_as_before(league: League) -> None:
    for day in DAYS:
        sent = good_rows(league.slates[day])
        stored = rows_of(league.app, "player_prop_predictions", league.batches[day])
        assert {r["model_file_name"] for r in stored} == {league.champion.file_name}
        assert {r["model_role"] for r in stored} == {"champion"}
        expected = dict(zip(map(key, sent), league.champion.predict(sent), strict=True))
        assert by_key(stored, "predicted_points").keys() == expected.keys()
        for line, value in by_key(stored, "predicted_points").items():
            assert value == pytest.approx(expected[line], rel=1e-9, abs=1e-9)
        # The reference system's own SQL: one row per player, line and sportsbook.
        repeated = league.app.warehouse.query(
            "SELECT player_lookup, line_value, sportsbook, COUNT(*) AS n "
            "FROM player_prop_predictions WHERE game_date = @day "
            "GROUP BY player_lookup, line_value, sportsbook HAVING COUNT(*) > 1",
            {"day": day},
        )
        assert repeated == []


def test_each_challenger_is_scored_on_the_same_rows_as_its_own_catboost_says(
    league: League,
) -> None:
    for day in DAYS:
        sent = good_rows(league.slates[day])
        stored = rows_of(league.app, "challenger_predictions", league.batches[day])
        for model, field in (
            (league.rmse, "predicted_points"),
            (league.over_under, "over_probability"),
        ):
            mine = [r for r in stored if r["model_file_name"] == model.file_name]
            assert {r["model_role"] for r in mine} == {"challenger"}
            sha = mine[0]["model_sha256"]
            assert all(r["prediction_id"].endswith("@" + sha[:16]) for r in mine)
            expected = dict(zip(map(key, sent), model.predict(sent), strict=True))
            got = by_key(mine, field)
            assert got.keys() == expected.keys()
            for line, value in got.items():
                assert value == pytest.approx(expected[line], rel=1e-9, abs=1e-9)
        assert not [r for r in stored if r["model_file_name"] == league.needs_more.file_name]


def test_a_challenger_the_slate_lacks_a_column_for_has_its_own_rejects_and_blocks_nothing(
    league: League,
) -> None:
    day = DAYS[0]
    batch = league.batches[day]
    rejects = rows_of(league.app, "prediction_rejects", batch)
    batch_rejects = [r for r in rejects if r["model_role"] is None]
    assert len(batch_rejects) == 1 and "opponent is missing" in batch_rejects[0]["reason"]
    own = [r for r in rejects if r["model_file_name"] == league.needs_more.file_name]
    assert len(own) == len(league.slates[day])  # no row has the column
    assert all(r["model_role"] == "challenger" for r in own)
    assert all(f"feature {ABSENT_FEATURE} is not in the input" in r["reason"] for r in own)
    (log,) = rows_of(league.app, "prediction_execution_log", batch)
    assert log["status"] == "partial"  # the blank category, not the challenger
    assert log["rows_written"] == len(good_rows(league.slates[day]))
    listed = {c["model_file_name"]: c for c in json.loads(log["challengers"])}
    assert set(listed) == {
        league.rmse.file_name,
        league.over_under.file_name,
        league.needs_more.file_name,
    }
    assert listed[league.rmse.file_name]["rows_written"] == log["rows_written"]
    assert listed[league.needs_more.file_name]["rows_written"] == 0
    assert ABSENT_FEATURE in listed[league.needs_more.file_name]["error"]


def test_sending_a_slate_again_changes_nothing(league: League) -> None:
    def counts() -> list[int]:
        return [
            len(league.app.warehouse.query(f"SELECT * FROM {table}", {}))
            for table in ("player_prop_predictions", "challenger_predictions", "prediction_rejects")
        ]

    before = counts()
    path = league.home / f"slate-{DAYS[1]}.jsonl"
    code, out = cli("predict", "--system-id", SYSTEM, "--game-date", str(DAYS[1]),
                    "--input", str(path))  # fmt: skip
    assert code == 0, out
    assert counts() == before


def hand_graded(
    league: League, challenger: UserModel, *, min_edge: float = 0.0
) -> tuple[list[tuple[bool, bool]], list[tuple[float, float]]]:
    """Each paired pick's (champion right, challenger right) and each paired prediction's
    absolute errors, from the models' own predictions and the results."""
    picks: list[tuple[bool, bool]] = []
    errors: list[tuple[float, float]] = []
    for day in DAYS:
        sent = good_rows(league.slates[day])
        actual = {
            r["player_lookup"]: r["actual_points"] for r in results(day, PLAYERS, seed_of(day))
        }
        champion = league.champion.predict(sent)
        other = challenger.predict(sent)
        for row, mine, theirs in zip(sent, champion, other, strict=True):
            points, line = actual[row["player_lookup"]], row["line_value"]
            if challenger.over_under:
                pick_b = recommendation_for_probability(float(theirs))
            else:
                pick_b = recommendation_for_points(float(theirs), line)
                errors.append((abs(mine - points), abs(theirs - points)))
            pick_a = recommendation_for_points(float(mine), line)
            if min_edge and abs(mine - line) < min_edge:
                pick_a = "PASS"
            if min_edge and not challenger.over_under and abs(theirs - line) < min_edge:
                pick_b = "PASS"
            if points == line or "PASS" in (pick_a, pick_b):
                continue
            over = points > line
            picks.append(((pick_a == "OVER") == over, (pick_b == "OVER") == over))
    return picks, errors


@pytest.mark.parametrize("min_edge", [0.0, 2.0])
def test_report_compare_agrees_with_the_paired_figures_computed_by_hand(
    league: League, min_edge: float
) -> None:
    comparisons = {
        c.challenger_file_name: c
        for c in compare_models(league.app.warehouse, system_id=SYSTEM, min_edge=min_edge)
    }
    assert set(comparisons) == {league.rmse.file_name, league.over_under.file_name}
    for challenger in (league.rmse, league.over_under):
        found = comparisons[challenger.file_name]
        picks, errors = hand_graded(league, challenger, min_edge=min_edge)
        b = sum(1 for a, c in picks if a and not c)
        c = sum(1 for a, c in picks if c and not a)
        n = len(picks)
        hit = found.hit
        assert (hit.n, hit.b, hit.c) == (n, b, c)
        assert hit.champion_hit_rate == pytest.approx(100 * sum(a for a, _ in picks) / n)
        assert hit.challenger_hit_rate == pytest.approx(100 * sum(c for _, c in picks) / n)
        expected_p = stats.binomtest(min(b, c), b + c, 0.5).pvalue if b + c else 1.0
        assert hit.mcnemar_p == pytest.approx(expected_p, rel=1e-9)
        d = (c - b) / n
        se = np.sqrt((b + c) - (c - b) ** 2 / n) / n
        assert hit.difference_low == pytest.approx(max(-100.0, 100 * (d - 1.959964 * se)), abs=1e-3)
        if challenger.over_under:
            assert found.mae.n == 0
            continue
        diffs = np.array([theirs - mine for mine, theirs in errors])
        half = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / np.sqrt(len(diffs))
        assert found.mae.n == len(diffs)
        assert found.mae.difference == pytest.approx(diffs.mean(), rel=1e-9)
        assert found.mae.difference_high == pytest.approx(diffs.mean() + half, rel=1e-6)


def test_report_compare_on_the_command_line(league: League) -> None:
    code, out = cli("--json", "report", "compare", "--system-id", SYSTEM, "--from", str(DAYS[1]))
    assert code == 0
    documents = json.loads(out)["comparisons"]
    assert {d["challenger"]["model_file_name"] for d in documents} == {
        league.rmse.file_name,
        league.over_under.file_name,
    }
    assert all(d["first_game"] == str(DAYS[1]) for d in documents)
    code, text = cli("report", "compare", "--system-id", SYSTEM)
    assert code == 0 and "McNemar" in text and f"{league.rmse.file_name} (challenger)" in text


def test_promoting_a_challenger_records_its_evidence_and_it_becomes_the_champion(
    league: League,
) -> None:
    expected = next(
        c
        for c in compare_models(league.app.warehouse, system_id=SYSTEM)
        if c.challenger_file_name == league.rmse.file_name
    )
    code, out = cli("promote", SYSTEM, league.rmse.file_name, "--by", "alice")
    assert code == 0 and "evidence:" in out, out
    code, out = cli("--json", "deployments", "--system-id", SYSTEM)
    entries = json.loads(out)
    promoted = [e for e in entries if e["role"] == "champion" and e["evidence"]]
    assert len(promoted) == 1
    evidence = json.loads(promoted[0]["evidence"])
    assert evidence["hit_rate"]["n"] == expected.hit.n
    assert evidence["hit_rate"]["mcnemar_p"] == pytest.approx(expected.hit.mcnemar_p, rel=1e-5)
    code, table = cli("deployments", "--system-id", SYSTEM)
    assert f"{expected.hit.n} picks" in table

    league.app.active_models().forget()  # as LEDGER_CACHE_SECONDS would, in a function
    _, batch = send(league.home, AFTER_PROMOTION)
    champion_rows = rows_of(league.app, "player_prop_predictions", batch)
    assert {r["model_file_name"] for r in champion_rows} == {league.rmse.file_name}
    challengers = {
        r["model_file_name"] for r in rows_of(league.app, "challenger_predictions", batch)
    }
    assert challengers == {league.over_under.file_name}  # the old champion runs no more


def test_deployment_drift_takes_a_challengers_rows_only_while_it_is_one(league: League) -> None:
    code, _ = cli("retire", SYSTEM, league.over_under.file_name)
    assert code == 0
    retired_at = datetime.now(UTC)
    (before,) = league.app.verifier().verify(DAYS[2], SYSTEM)
    drift = next(c for c in before.checks if c.name == "deployment_drift")
    assert drift.status is Status.PASS, drift.details

    # A writer outside the product copies the retired challenger's rows onto a later day.
    copied = rows_of(league.app, "challenger_predictions", league.batches[DAYS[2]])
    rogue = [
        {
            **r,
            "prediction_id": r["prediction_id"] + ":rogue",
            "batch_id": "rogue-batch",
            "game_date": date(2026, 2, 5),
            "created_at": retired_at + timedelta(minutes=5),
        }
        for r in copied
        if r["model_file_name"] == league.over_under.file_name
    ]
    league.app.warehouse.insert_new_rows("challenger_predictions", rogue, key=["prediction_id"])
    (after,) = league.app.verifier().verify(date(2026, 2, 5), SYSTEM)
    drift = next(c for c in after.checks if c.name == "deployment_drift")
    assert drift.status is not Status.PASS
    assert any(
        "challenger rows of " + league.over_under.file_name in line and "no challenger" in line
        for line in drift.details
    )


def test_backfill_with_replay_leaves_stamped_champions_and_challengers_alone(
    league: League,
) -> None:
    def snapshot(table: str) -> list[tuple[Any, ...]]:
        rows = league.app.warehouse.query(
            f"SELECT prediction_id, model_sha256, attribution_method FROM {table}", {}
        )  # table: a test constant
        return sorted(tuple(r.values()) for r in rows)

    before = {t: snapshot(t) for t in ("player_prop_predictions", "challenger_predictions")}
    code, out = cli("--json", "backfill", "--system-id", SYSTEM, "--replay")
    assert code == 0, out
    assert json.loads(out)["considered"] == 0
    assert {t: snapshot(t) for t in before} == before
