"""Each verifier check catches the problem it exists for, on a real (small) world.

The world is made the production way (bucket trigger, ledger, batch messages, results);
each test then does one kind of damage by hand and shows which check reports it, how
(status, figures, sample ids) and that it says what to do next.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from attribution.devtools.slates import slate_for
from attribution.errors import TransientError
from attribution.verification.outcome import Status, Threshold, overall
from attribution.verification.settings import (
    DEFAULT_THRESHOLDS,
    VerifierSettings,
    load_verifier_settings,
)
from attribution.verification.stats import wilson_interval
from attribution.warehouse.sql_text import sql

from .support import (
    A_NAME,
    ATTRIBUTION_COLUMNS,
    B_NAME,
    DAY,
    EMPTY_DAY,
    OVERPROMISED_NAME,
    PLAYERS,
    SYSTEM,
    RaisingWarehouse,
    World,
    assert_actionable,
    check,
    graded_frame,
    statuses,
)

QUIET = {Status.PASS, Status.INFO}


# --- a clean day ------------------------------------------------------------------------------


def test_a_clean_day_passes_every_check_and_describes_its_model(world: World) -> None:
    verdict = world.verify()

    assert verdict.verdict is Status.PASS, verdict.summary()
    assert set(statuses(verdict).values()) <= QUIET, statuses(verdict)
    assert set(statuses(verdict)) >= {
        "coverage",
        "model_distribution",
        "completeness",
        "failed_batches",
        "rejected_rows",
        "bucket_vs_registry",
        "orphan_cards",
        "performance",
        "recommendation_skew",
        "leakage",
    }
    coverage = check(verdict, "coverage")
    assert coverage.figures["predictions"] == PLAYERS
    assert coverage.figures["attributed"] == PLAYERS
    assert coverage.figures["coverage_pct"] == 100.0
    assert coverage.figures["by_method"]["stamped"] == PLAYERS
    (model,) = check(verdict, "model_distribution").figures["models"]
    card = world.a
    assert model["model_file_name"] == A_NAME
    assert model["model_sha256"] == card.model_sha256
    assert model["model_card_id"] == card.card_id
    assert model["predictions"] == PLAYERS
    assert (model["training_start_date"], model["training_end_date"]) == (
        card.training_start_date,
        card.training_end_date,
    )
    assert (model["expected_mae"], model["expected_hit_rate"]) == (
        card.expected_mae,
        card.expected_hit_rate,
    )


# --- coverage ---------------------------------------------------------------------------------


def test_rows_without_attribution_fail_coverage_with_a_sample_of_ids(world: World) -> None:
    legacy = world.insert_unattributed(12)

    verdict = world.verify()

    coverage = check(verdict, "coverage")
    assert coverage.status is Status.FAIL
    assert verdict.verdict is Status.FAIL
    assert coverage.figures["predictions"] == PLAYERS + 12
    assert coverage.figures["attributed"] == PLAYERS
    assert coverage.figures["missing"] == 12
    assert coverage.figures["coverage_pct"] == round(100 * PLAYERS / (PLAYERS + 12), 1)
    sample = sorted(legacy)[:10]  # the default sample size, ordered by batch then prediction
    assert coverage.details == [f"prediction {p} (batch legacy-worker)" for p in sample] + [
        "+2 more"
    ]
    assert "backfill" in (coverage.next_step or "")
    assert_actionable(verdict)


def test_coverage_needs_all_six_seed_columns_and_the_hash(world: World) -> None:
    """A row missing any one of the seven columns is not attributed."""
    (donor,) = world.predictions()[:1]
    for column in ATTRIBUTION_COLUMNS:
        world.copy_rows([donor], batch_id=world.batches[0], prefix=f"no-{column}", **{column: None})

    coverage = check(world.verify(), "coverage")

    assert coverage.figures["predictions"] == PLAYERS + len(ATTRIBUTION_COLUMNS)
    assert coverage.figures["missing"] == len(ATTRIBUTION_COLUMNS) == 7
    assert coverage.status is Status.FAIL
    assert {d.split()[1] for d in coverage.details} == {f"no-{c}-000" for c in ATTRIBUTION_COLUMNS}


def test_sample_size_is_configurable(world: World) -> None:
    world.insert_unattributed(5)

    coverage = check(world.verify(env={"VERIFY_SAMPLE_SIZE": "2"}), "coverage")

    assert len(coverage.details) == 3
    assert coverage.details[-1] == "+3 more"


# --- completeness against the execution log ----------------------------------------------------


@pytest.mark.parametrize(
    ("deleted", "expected"),
    [(1, Status.PARTIAL), (10, Status.FAIL)],  # 1.7% and 1 row: PARTIAL; 16.7% >= 5%: FAIL
)
def test_a_batch_with_fewer_rows_than_logged_is_incomplete(
    world: World, deleted: int, expected: Status
) -> None:
    (batch_id,) = world.batches
    players = sorted(r["player_lookup"] for r in world.predictions())
    world.app.warehouse.execute(
        "DELETE FROM player_prop_predictions WHERE batch_id = @batch_id AND player_lookup < @cut",
        {"batch_id": batch_id, "cut": players[deleted]},
    )

    verdict = world.verify()

    completeness = check(verdict, "completeness")
    assert completeness.status is expected
    assert completeness.figures["rows_expected"] == PLAYERS
    assert completeness.figures["rows_missing"] == deleted
    assert completeness.details == [
        f"batch {batch_id}: {PLAYERS - deleted} of {PLAYERS} rows present"
    ]
    assert check(verdict, "coverage").status is Status.PASS  # what is there is attributed
    assert verdict.verdict is expected
    assert_actionable(verdict)


def test_rejected_rows_are_expected_gaps_and_judged_on_their_own(bare_world: World) -> None:
    world = bare_world
    world.promote(world.a)
    rows = slate_for(DAY, players=PLAYERS).rows
    rows = [*rows[:-2], {**rows[-2], "line_value": "n/a"}, {**rows[-1], "opponent": None}]
    world.predict(DAY, rows=rows)
    world.load_results(DAY)

    verdict = world.verify()

    completeness = check(verdict, "completeness")
    assert completeness.status is Status.PASS  # written == requested - rejected
    assert completeness.figures["rows_requested"] == PLAYERS
    assert completeness.figures["rows_rejected"] == 2
    assert completeness.figures["rows_expected"] == PLAYERS - 2
    assert check(verdict, "rejected_rows").status is Status.PASS  # 3.3% < 10%
    assert verdict.verdict is Status.PASS

    stricter = world.verify(env={"VERIFY_REJECTED_ROWS_PARTIAL_PCT": "3"})
    assert check(stricter, "rejected_rows").status is Status.PARTIAL
    assert_actionable(stricter)


def test_a_failed_batch_fails(bare_world: World) -> None:
    """No model is promoted for the system: the batch is logged as failed, nothing written."""
    world = bare_world
    batch_id = world.predict(DAY)

    verdict = world.verify()

    failed = check(verdict, "failed_batches")
    assert failed.status is Status.FAIL
    assert failed.figures["failed_batches"] == 1
    (detail,) = failed.details
    assert detail.startswith(f"batch {batch_id} failed: ")
    assert "no_model" in detail
    assert check(verdict, "coverage").status is Status.UNKNOWN  # no predictions at all
    assert verdict.verdict is Status.FAIL
    assert_actionable(verdict)


def test_predictions_with_no_log_row_are_never_logged(world: World) -> None:
    """Fully attributed rows, but no batch in prediction_execution_log wrote them."""
    world.copy_rows(world.predictions()[:5], batch_id="ghost-batch", prefix="ghost")

    verdict = world.verify()

    assert check(verdict, "coverage").status is Status.PASS
    completeness = check(verdict, "completeness")
    assert completeness.figures["never_logged_batches"] == 1
    assert "batch ghost-batch: 5 rows, no log row" in completeness.details
    assert "never logged" in completeness.summary
    assert completeness.status is Status.PARTIAL  # 1 problem, under 5% and under 25
    assert verdict.verdict is Status.PARTIAL
    assert_actionable(verdict)


# --- bucket versus registry ---------------------------------------------------------------------


def test_a_deleted_model_object_fails_bucket_vs_registry(world: World) -> None:
    world.bucket.path_of(world.object_name(A_NAME)).unlink()

    verdict = world.verify()

    registry = check(verdict, "bucket_vs_registry")
    assert registry.status is Status.FAIL
    assert registry.figures == {"referenced_models": 1, "problems": 1}
    (problem,) = registry.details
    assert A_NAME in problem and "gone from the bucket" in problem
    orphans = check(verdict, "orphan_cards")  # its card now points at nothing, too
    assert orphans.status is Status.PARTIAL
    assert any(A_NAME in line for line in orphans.details)
    assert verdict.verdict is Status.FAIL
    assert_actionable(verdict)


def test_a_model_object_rewritten_with_other_bytes_fails(world: World) -> None:
    name = world.object_name(A_NAME)
    rewritten = world.app.models.write(name, world.files.b.read_bytes())  # no new card made
    assert rewritten.generation != world.a.model_generation
    assert rewritten.md5_hex != world.a.model_md5

    verdict = world.verify()

    registry = check(verdict, "bucket_vs_registry")
    assert registry.status is Status.FAIL
    (problem,) = registry.details
    assert "was replaced" in problem
    assert f"generation {rewritten.generation} vs card {world.a.model_generation}" in problem
    assert check(verdict, "orphan_cards").status is Status.PASS  # the object does exist
    assert_actionable(verdict)


def test_a_model_that_lost_its_card_fails(world: World) -> None:
    world.app.warehouse.execute(
        "DELETE FROM model_cards WHERE card_id = @card_id", {"card_id": world.a.card_id}
    )

    registry = check(world.verify(), "bucket_vs_registry")

    assert registry.status is Status.FAIL
    (problem,) = registry.details
    assert f"no card {world.a.card_id}" in problem


def test_a_card_whose_object_is_gone_is_an_orphan(world: World) -> None:
    """B never predicted on DAY; its object is deleted: context, not a failure of the day."""
    world.bucket.path_of(world.object_name(B_NAME)).unlink()

    verdict = world.verify()

    orphans = check(verdict, "orphan_cards")
    assert orphans.status is Status.PARTIAL
    assert orphans.figures == {"orphan_cards": 1}
    (line,) = orphans.details
    assert B_NAME in line and world.b.card_id[:12] in line
    assert check(verdict, "bucket_vs_registry").status is Status.PASS
    assert verdict.verdict is Status.PARTIAL
    assert_actionable(verdict)


# --- performance against the card ---------------------------------------------------------------


def _wrong_results(world: World, day: date) -> list[dict[str, object]]:
    """Results that make every OVER/UNDER pick of ``day`` wrong (and PASS rows a push)."""
    out: list[dict[str, object]] = []
    for row in world.predictions(day):
        line = float(row["line_value"])
        actual = {"OVER": max(line - 10.0, 0.0), "UNDER": line + 10.0}.get(
            row["recommendation"], line
        )
        out.append(
            {
                "game_date": day.isoformat(),
                "player_lookup": row["player_lookup"],
                "actual_points": actual,
            }
        )
    return out


def test_performance_figures_match_an_independent_computation(world: World) -> None:
    performance = check(world.verify(), "performance")

    frame = graded_frame(world.app)
    frame = frame[frame["game_date"] <= DAY]
    (model,) = performance.figures["models"]
    picked = frame[frame["picked"]]
    high = picked[picked["edge"].abs() >= 5.0]
    assert model["graded"] == int(frame["graded"].sum()) == PLAYERS
    assert model["mae"] == pytest.approx(frame["absolute_error"].mean(), abs=0.0051)
    assert model["picks"] == len(picked)  # the sample size of the all-picks hit rate
    assert model["hit_rate"] == pytest.approx(100 * picked["correct"].mean(), abs=0.051)
    assert model["high_edge_picks"] == len(high)
    hits = int(high["correct"].sum())
    low, up = wilson_interval(hits, len(high))
    assert model["high_edge_interval"] == [round(low, 1), round(up, 1)]
    assert model["expected_mae"] == world.a.expected_mae
    assert model["expected_hit_rate"] == world.a.expected_hit_rate


def test_performance_flags_a_model_far_worse_than_its_card_mae(bare_world: World) -> None:
    world = bare_world
    card = world.upload(world.files.overpromised, OVERPROMISED_NAME)
    assert card.expected_mae == 0.5
    world.promote(card)
    world.predict(DAY)
    world.load_results(DAY)

    verdict = world.verify()

    performance = check(verdict, "performance")
    assert performance.status is Status.PARTIAL
    (model,) = performance.figures["models"]
    assert model["model_file_name"] == OVERPROMISED_NAME
    assert model["mae"] > 0.5 + 1.0
    (line,) = performance.details
    assert "MAE over the card's by more than 1.0" in line
    assert verdict.verdict is Status.PARTIAL
    assert_actionable(verdict)

    tolerant = world.verify(env={"VERIFY_MAE_TOLERANCE": str(model["mae"])})
    assert check(tolerant, "performance").status is Status.PASS


def test_performance_flags_a_hit_rate_whose_interval_excludes_the_card(
    ungraded_world: World,
) -> None:
    world = ungraded_world
    world.load_results(DAY, _wrong_results(world, DAY))
    env = {"VERIFY_HIGH_EDGE": "2", "VERIFY_MIN_SAMPLE": "5", "VERIFY_MAE_TOLERANCE": "100"}

    performance = check(world.verify(env=env), "performance")

    (model,) = performance.figures["models"]
    assert model["high_edge_picks"] >= 5, "the slate needs enough high-edge picks"
    assert model["high_edge_hit_rate"] == 0.0
    assert model["hit_rate"] == 0.0
    low, high = model["high_edge_interval"]
    assert low == 0.0 and high < world.a.expected_hit_rate
    assert performance.status is Status.PARTIAL
    (line,) = performance.details
    assert "card's hit rate outside the 95% interval" in line
    assert "MAE over" not in line


def test_performance_does_not_judge_hit_rate_under_the_minimum_sample(
    ungraded_world: World,
) -> None:
    world = ungraded_world
    world.load_results(DAY, _wrong_results(world, DAY))
    env = {"VERIFY_HIGH_EDGE": "2", "VERIFY_MAE_TOLERANCE": "100"}  # min sample: default 30

    performance = check(world.verify(env=env), "performance")

    (model,) = performance.figures["models"]
    assert 0 < model["high_edge_picks"] < 30
    assert performance.status is Status.PASS
    (line,) = performance.details
    assert "sample under 30, hit rate not judged" in line


def test_performance_without_results_is_information_only(ungraded_world: World) -> None:
    verdict = ungraded_world.verify()

    performance = check(verdict, "performance")
    assert performance.status is Status.INFO
    assert "no graded predictions" in performance.summary
    assert verdict.verdict is Status.PASS


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        (0, 0, (0.0, 100.0)),
        (5, 10, (23.7, 76.3)),
        (0, 10, (0.0, 27.8)),  # upper = z^2 / (n + z^2)
        (100, 100, (96.3, 100.0)),  # lower = n / (n + z^2)
        (50, 100, (40.4, 59.6)),
        (75, 100, (65.7, 82.5)),
    ],
)
def test_wilson_interval_known_values(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    low, high = wilson_interval(successes, trials)
    assert (round(low, 1), round(high, 1)) == expected
    assert low <= (100 * successes / trials if trials else 50) <= high


# --- recommendation skew ------------------------------------------------------------------------


def _sided_rows(world: World, sides: dict[str, int]) -> None:
    """Insert attributed rows for system 'skewed' with the given count of each side."""
    donor = world.predictions()[0]
    for side, count in sides.items():
        world.copy_rows(
            [donor] * count,
            batch_id="skew",
            prefix=f"skew-{side}",
            system_id="skewed",
            recommendation=side,
        )


@pytest.mark.parametrize(
    ("sides", "env", "red", "summary"),
    [
        ({"OVER": 3, "UNDER": 1, "PASS": 2}, {}, True, "RED day: 75.0% OVER"),
        ({"OVER": 1, "UNDER": 3}, {}, True, "RED day: 75.0% UNDER"),
        ({"OVER": 2, "UNDER": 1}, {}, False, "balanced"),
        ({"OVER": 2, "UNDER": 1}, {"VERIFY_RED_DAY_SHARE": "60"}, True, "RED day: 66.7% OVER"),
    ],
)
def test_recommendation_skew_marks_a_red_day(
    world: World, sides: dict[str, int], env: dict[str, str], red: bool, summary: str
) -> None:
    _sided_rows(world, sides)

    skew = check(world.verify(system_id="skewed", env=env), "recommendation_skew")

    assert skew.status is Status.INFO
    assert skew.figures["red_day"] is red
    assert skew.summary.startswith(summary)
    assert skew.figures["over"] == sides.get("OVER", 0)
    assert skew.figures["under"] == sides.get("UNDER", 0)
    assert skew.figures["pass"] == sides.get("PASS", 0)


def test_a_share_just_under_the_red_line_is_not_a_red_day(world: World) -> None:
    """2999 of 4000 is 74.975%: it shows as 75.0% but does not reach 75%."""
    _sided_rows(world, {"OVER": 2999, "UNDER": 1001})

    skew = check(world.verify(system_id="skewed"), "recommendation_skew")

    assert skew.figures["red_day"] is False
    assert skew.summary.startswith("balanced (OVER 75.0%, UNDER 25.0%")


def test_a_red_day_is_context_not_a_verdict(bare_world: World) -> None:
    world = bare_world
    world.promote(world.a)
    rows = slate_for(DAY, players=PLAYERS).rows
    world.predict(DAY, rows=[{**r, "line_value": max(r["line_value"] - 15.0, 0.5)} for r in rows])

    verdict = world.verify()

    skew = check(verdict, "recommendation_skew")
    assert skew.figures["red_day"] is True
    assert skew.summary.startswith("RED day: ")
    assert skew.figures["over"] > 0.75 * PLAYERS
    assert verdict.verdict is Status.PASS


# --- leakage ------------------------------------------------------------------------------------


def test_predictions_on_or_before_the_training_end_are_leakage(bare_world: World) -> None:
    world = bare_world
    world.promote(world.b)
    end = world.b.training_end_date
    assert end == date(2026, 2, 28)
    world.predict(end)
    world.predict(end + timedelta(days=1))

    leaked = world.verify(end)
    clean = world.verify(end + timedelta(days=1))

    leakage = check(leaked, "leakage")
    assert leakage.status is Status.FAIL
    assert leakage.figures == {"leaked": PLAYERS}
    (line,) = leakage.details
    assert line == f"{B_NAME}: trained through {end}, {PLAYERS} rows for {end}"
    assert leaked.verdict is Status.FAIL
    assert_actionable(leaked)
    assert check(clean, "leakage").status is Status.PASS
    assert check(clean, "leakage").figures == {"leaked": 0}


# --- could not decide ---------------------------------------------------------------------------


def test_no_predictions_for_a_requested_system_and_date_is_unknown(world: World) -> None:
    world.copy_rows(  # a system that exists (it predicted a week before), nothing on DAY
        world.predictions(),
        batch_id="v10",
        prefix="v10",
        system_id="catboost_v10",
        game_date=DAY - timedelta(days=7),
    )
    for verdict in (world.verify(EMPTY_DAY), world.verify(DAY, "catboost_v10")):
        coverage = check(verdict, "coverage")
        assert coverage.status is Status.UNKNOWN
        assert "no predictions" in coverage.summary
        assert verdict.verdict is Status.UNKNOWN
        assert_actionable(verdict)

    (everything,) = world.verifier().verify(EMPTY_DAY)  # no system named, none found
    assert everything.verdict is Status.UNKNOWN


def test_a_check_that_raises_is_unknown_and_the_others_still_run(world: World) -> None:
    warehouse = RaisingWarehouse(
        world.app.warehouse, sql("verify_performance"), TransientError("BigQuery is down")
    )

    (verdict,) = world.verifier(warehouse=warehouse).verify(DAY, SYSTEM)

    performance = check(verdict, "performance")
    assert performance.status is Status.UNKNOWN
    assert "TransientError" in performance.summary and "BigQuery is down" in performance.summary
    others = {n: s for n, s in statuses(verdict).items() if n != "performance"}
    assert len(others) >= 9
    assert set(others.values()) <= QUIET, others
    assert verdict.verdict is Status.UNKNOWN
    assert_actionable(verdict)
    (run,) = world.runs()
    assert run["verdict"] == "UNKNOWN"


# --- thresholds and their settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("problems", "total", "expected"),
    [
        (0, 1000, Status.PASS),
        (0, 0, Status.PASS),
        (1, 1000, Status.PARTIAL),  # 0.1%: under 1%, and 1 < 10 rows
        (9, 1000, Status.PARTIAL),
        (10, 100_000, Status.FAIL),  # 0.01%, but the absolute count is reached
        (2, 100, Status.FAIL),  # 2 rows, but 2% >= 1%
        (1, 0, Status.FAIL),  # problems with nothing to compare: 100%
    ],
)
def test_threshold_relative_and_absolute_triggers(
    problems: int, total: int, expected: Status
) -> None:
    threshold = Threshold(partial_count=1, fail_pct=1.0, fail_count=10)
    assert threshold.judge(problems, total) is expected


def test_threshold_partial_percent_and_disabled_triggers() -> None:
    rejected = Threshold(partial_count=None, partial_pct=10.0, fail_pct=50.0)
    assert rejected.judge(9, 100) is Status.PASS
    assert rejected.judge(10, 100) is Status.PARTIAL
    assert rejected.judge(50, 100) is Status.FAIL
    disabled = Threshold(partial_count=None, partial_pct=None, fail_count=None, fail_pct=None)
    assert disabled.judge(100, 100) is Status.PASS


def test_overall_ranks_fail_over_unknown_over_partial_and_ignores_info() -> None:
    assert overall([]) is Status.PASS
    assert overall([Status.INFO, Status.PASS]) is Status.PASS
    assert overall([Status.PASS, Status.PARTIAL, Status.INFO]) is Status.PARTIAL
    assert overall([Status.PARTIAL, Status.UNKNOWN]) is Status.UNKNOWN
    assert overall([Status.UNKNOWN, Status.FAIL, Status.PARTIAL]) is Status.FAIL


def test_settings_come_from_the_environment_with_defaults() -> None:
    assert load_verifier_settings({}) == VerifierSettings()
    settings = load_verifier_settings(
        {
            "VERIFY_ATTRIBUTION_FAIL_PCT": "50",
            "VERIFY_ATTRIBUTION_FAIL_COUNT": "",  # empty: that trigger is off
            "VERIFY_COMPLETENESS_PARTIAL_COUNT": "5",
            "VERIFY_HIGH_EDGE": "3.5",
            "VERIFY_MAE_TOLERANCE": "0.25",
            "VERIFY_MIN_SAMPLE": "12",
            "VERIFY_RED_DAY_SHARE": "80",
            "VERIFY_SAMPLE_SIZE": "3",
            "ALERT_REPEAT_WINDOW_HOURS": "0",
        }
    )
    assert settings.thresholds["attribution"] == Threshold(
        partial_count=1, fail_pct=50.0, fail_count=None
    )
    assert settings.thresholds["completeness"].partial_count == 5
    assert (
        settings.thresholds["completeness"].fail_pct == DEFAULT_THRESHOLDS["completeness"].fail_pct
    )
    assert settings.thresholds["leakage"] == DEFAULT_THRESHOLDS["leakage"]
    assert (settings.high_edge, settings.mae_tolerance, settings.min_sample) == (3.5, 0.25, 12)
    assert (settings.red_day_share, settings.sample_size) == (80.0, 3)
    assert settings.repeat_window_hours == 0.0


def test_thresholds_from_the_environment_change_a_verdict(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 of 72 rows unattributed: FAIL by default, PARTIAL once the FAIL triggers are 50%."""
    world.insert_unattributed(12)
    monkeypatch.setenv("VERIFY_ATTRIBUTION_FAIL_PCT", "50")
    monkeypatch.setenv("VERIFY_ATTRIBUTION_FAIL_COUNT", "")

    relaxed = world.app.verifier().verify(DAY, SYSTEM)[0]  # App.verifier() reads os.environ

    assert check(relaxed, "coverage").status is Status.PARTIAL
    assert check(world.verify(), "coverage").status is Status.FAIL
