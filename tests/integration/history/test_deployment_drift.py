"""The verifier's additions: deployment drift (stamped rows from a model neither pinned by
their batch nor active per the ledger) and coverage broken down by attribution method."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from attribution.clock import now_utc
from attribution.model_card.card import ModelCard, attribution_columns
from attribution.ports import Alert
from attribution.verification.outcome import CheckResult, Status, SystemVerdict
from attribution.verification.settings import load_verifier_settings
from attribution.verification.verifier import Verifier

from .conftest import HistoryFactory
from .support import DAY, PLAYERS, PROMOTION, SYSTEM, History

LIVE_PLAYERS = 8  # History.run_batch's default


class Alerts:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        self.sent.append(alert)


def verify(history: History, env: Mapping[str, str] | None = None) -> SystemVerdict:
    verifier = Verifier(
        warehouse=history.app.warehouse,
        registry=history.app.registry,
        store_for=history.app.store,
        notifier=Alerts(),
        settings=load_verifier_settings(dict(env or {})),
    )
    (verdict,) = verifier.verify(DAY, SYSTEM)
    return verdict


def check(verdict: SystemVerdict, name: str) -> CheckResult:
    (found,) = [c for c in verdict.checks if c.name == name]
    return found


def drift(history: History, env: Mapping[str, str] | None = None) -> CheckResult:
    return check(verify(history, env), "deployment_drift")


def live(history: History, card: ModelCard) -> None:
    """``card`` active from a day ago: batches run now are its."""
    history.app.ledger.promote(SYSTEM, card, at=now_utc() - timedelta(days=1), by="tests")


def stamped_rows(
    history: History, batch_id: str, card: ModelCard, created_at: datetime
) -> list[str]:
    """Rows that claim ``card`` stamped them, written by something other than prediction_batch
    (no execution-log row, no pin)."""
    template = history.run_batch(f"template-{batch_id}", players=4)
    history.app.warehouse.execute(
        "DELETE FROM player_prop_predictions WHERE batch_id = @batch_id",
        {"batch_id": f"template-{batch_id}"},
    )
    history.app.warehouse.execute(
        "DELETE FROM prediction_execution_log WHERE batch_id = @batch_id",
        {"batch_id": f"template-{batch_id}"},
    )
    rows = [
        {
            **row,
            "prediction_id": f"{batch_id}:{row['player_lookup']}",
            "batch_id": batch_id,
            "created_at": created_at,
            **attribution_columns(card),
            "attribution_method": "stamped",
        }
        for row in template
    ]
    history.app.warehouse.insert_rows("player_prop_predictions", rows)
    return [str(r["prediction_id"]) for r in rows]


# --- deployment drift -------------------------------------------------------------------


def test_batches_stamped_with_the_active_model_do_not_drift(history: History) -> None:
    live(history, history.old)
    history.run_batch("one")
    history.run_batch("two")

    result = drift(history)

    assert result.status is Status.PASS
    assert result.figures == {"rows_drifted": 0, "rows_checked": 2 * LIVE_PLAYERS}
    assert result.details == []
    assert result.next_step is None


def test_a_batch_that_pinned_its_model_does_not_drift(history: History) -> None:
    live(history, history.old)
    rows = history.run_batch("pinned", pin=history.new)
    assert {r["model_sha256"] for r in rows} == {history.new.model_sha256}

    result = drift(history)

    assert result.status is Status.PASS
    assert result.figures["rows_checked"] == LIVE_PLAYERS


def test_rows_stamped_with_a_model_neither_pinned_nor_active_fail_with_guidance(
    history: History,
) -> None:
    live(history, history.old)
    history.run_batch("honest")
    rogue = stamped_rows(history, "rogue", history.new, now_utc())

    verdict = verify(history)
    result = check(verdict, "deployment_drift")

    assert result.status is Status.FAIL
    assert verdict.verdict is Status.FAIL
    assert result.figures == {"rows_drifted": len(rogue), "rows_checked": LIVE_PLAYERS + len(rogue)}
    (detail,) = result.details
    assert detail.startswith(f"batch rogue: stamped {history.new.model_file_name}")
    assert f"the ledger had {history.old.model_file_name} active" in detail
    assert "pinned" not in detail
    assert result.next_step is not None
    assert "attribution promote" in result.next_step and "ledger import" in result.next_step
    assert f"{len(rogue)} of {LIVE_PLAYERS + len(rogue)} stamped rows" in result.summary


def test_a_promotion_recorded_after_the_fact_makes_earlier_stamped_batches_drift(
    history: History,
) -> None:
    live(history, history.old)
    rows = history.run_batch("before-the-record")
    assert drift(history).status is Status.PASS
    # Someone records that the retrain had gone live an hour before that batch ran.
    history.promote(history.new, rows[0]["created_at"] - timedelta(hours=1))

    result = drift(history)

    assert result.status is Status.FAIL
    assert result.figures["rows_drifted"] == LIVE_PLAYERS
    assert f"the ledger had {history.new.model_file_name} active" in result.details[0]


def test_a_batch_that_ran_on_a_cached_ledger_answer_just_after_a_promotion_is_allowed(
    make_history: HistoryFactory,
) -> None:
    """An instance keeps its ledger answer a while (LEDGER_CACHE_SECONDS): a batch run just
    after a promotion may still use the previous model. Within the tolerance it is no drift;
    with no tolerance it is."""
    history = make_history(ledger_cache_seconds=600)
    live(history, history.old)
    history.run_batch("warm")  # the instance now holds "old is active"
    history.promote(history.new, now_utc())
    stale = history.run_batch("stale")
    assert {r["model_sha256"] for r in stale} == {history.old.model_sha256}

    assert drift(history).status is Status.PASS
    strict = drift(history, {"VERIFY_DEPLOYMENT_DRIFT_TOLERANCE_SECONDS": "0"})
    assert strict.status is Status.FAIL
    assert strict.figures["rows_drifted"] == LIVE_PLAYERS
    assert strict.details[0].startswith("batch stale:")


@pytest.mark.parametrize(
    ("after", "env", "drifted"),
    [
        (timedelta(seconds=30), {}, False),
        (timedelta(seconds=59), {}, False),
        (timedelta(seconds=61), {}, True),
        (timedelta(seconds=90), {"VERIFY_DEPLOYMENT_DRIFT_TOLERANCE_SECONDS": "120"}, False),
        (timedelta(seconds=1), {"VERIFY_DEPLOYMENT_DRIFT_TOLERANCE_SECONDS": "0"}, True),
        (-timedelta(seconds=1), {"VERIFY_DEPLOYMENT_DRIFT_TOLERANCE_SECONDS": "0"}, False),
    ],
)
def test_the_previous_model_is_allowed_only_within_the_tolerance_after_a_promotion(
    history: History, after: timedelta, env: dict[str, str], drifted: bool
) -> None:
    history.story()
    ids = stamped_rows(history, "edge", history.old, PROMOTION + after)

    result = drift(history, env)

    assert result.figures["rows_drifted"] == (len(ids) if drifted else 0)
    assert result.status is (Status.FAIL if drifted else Status.PASS)


def test_backfilled_rows_are_not_judged_for_drift(history: History) -> None:
    """Inferred and replayed rows come from the ledger or from proof: only stamped ones can
    drift."""
    history.story()
    history.run_batch("live")
    history.legacy_batch("legacy", made_by=history.old, created_at=PROMOTION - timedelta(days=1))
    history.backfill(replay=True)

    result = drift(history)

    assert result.status is Status.PASS
    assert result.figures["rows_checked"] == LIVE_PLAYERS


def test_no_stamped_rows_is_no_drift(history: History) -> None:
    history.story()
    history.legacy_batch(
        "legacy", made_by=history.old, created_at=datetime(2026, 1, 20, tzinfo=UTC)
    )

    result = drift(history)

    assert result.status is Status.PASS
    assert result.figures == {"rows_drifted": 0, "rows_checked": 0}


# --- coverage by attribution method ---------------------------------------------------------


def test_coverage_counts_rows_by_how_they_were_attributed(history: History) -> None:
    history.story()
    history.run_batch("live")
    history.legacy_batch("kept", made_by=history.new, created_at=PROMOTION + timedelta(days=1))
    history.legacy_batch(
        "lost", made_by=history.old, created_at=PROMOTION - timedelta(days=1), keep=None
    )

    before = check(verify(history), "coverage")

    assert before.status is Status.FAIL
    assert before.figures["missing"] == 2 * PLAYERS
    assert before.figures["by_method"] == {
        "stamped": LIVE_PLAYERS,
        "replay_verified": 0,
        "ledger_inferred": 0,
        "replay_refuted": 0,
    }
    assert before.summary.endswith(f"; stamped {LIVE_PLAYERS}")
    assert before.next_step is not None and "backfill --replay" in before.next_step

    history.backfill(replay=True)
    after = check(verify(history), "coverage")

    assert after.status is Status.PASS
    assert after.figures["predictions"] == after.figures["attributed"] == LIVE_PLAYERS + 2 * PLAYERS
    assert after.figures["by_method"] == {
        "stamped": LIVE_PLAYERS,
        "replay_verified": PLAYERS,
        "ledger_inferred": PLAYERS,
        "replay_refuted": 0,
    }
    assert after.summary == (
        f"{LIVE_PLAYERS + 2 * PLAYERS}/{LIVE_PLAYERS + 2 * PLAYERS} predictions fully attributed "
        f"(100.0%); stamped {LIVE_PLAYERS}, replay_verified {PLAYERS}, ledger_inferred {PLAYERS}"
    )


def test_ambiguous_rows_left_by_the_backfill_still_count_as_missing(history: History) -> None:
    history.story()
    history.legacy_batch(
        "close", made_by=history.new, created_at=PROMOTION + timedelta(minutes=5), keep=None
    )
    history.backfill(replay=True)

    result = check(verify(history), "coverage")

    assert result.status is Status.FAIL
    assert result.figures["missing"] == PLAYERS
    assert result.figures["by_method"] == {
        "stamped": 0,
        "replay_verified": 0,
        "ledger_inferred": 0,
        "replay_refuted": 0,
    }
