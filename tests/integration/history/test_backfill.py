"""``Backfill.run``: rows written before stamping get their model from the ledger, or are
proven by replaying the kept input; ambiguous and unreproduced rows are listed and left
alone; stamped rows are never touched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.bootstrap import build_app
from attribution.config import load_settings
from attribution.history import backfill
from attribution.history.backfill import LEDGER_INFERRED, REPLAY_REFUTED, REPLAY_VERIFIED, UPDATABLE
from attribution.model_card.card import ATTRIBUTION_COLUMNS, attribution_columns

from .conftest import HistoryFactory
from .support import (
    DAY,
    FIRST,
    OTHER_SYSTEM,
    PLAYERS,
    PROMOTION,
    SYSTEM,
    History,
    assert_attributed,
    assert_unattributed,
)

MICRO = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)

# --- inference from the ledger ------------------------------------------------------------


def test_a_row_gets_the_model_active_at_its_time_at_the_promotion_boundary(
    make_history: HistoryFactory,
) -> None:
    """No ambiguity window: active_from <= t, so the promotion instant is the new model's,
    one microsecond earlier the old one's."""
    history = make_history(backfill_ambiguity_minutes=0)
    history.story()
    before = history.legacy_batch("before", made_by=history.old, created_at=PROMOTION - MICRO)
    at = history.legacy_batch("at", made_by=history.new, created_at=PROMOTION)
    later = history.legacy_batch("later", made_by=history.new, created_at=PROMOTION + MICRO)
    first = history.legacy_batch("first", made_by=history.old, created_at=FIRST)

    summary = history.backfill()

    for prediction_id in before + first:
        assert_attributed(history.row(prediction_id), history.old, LEDGER_INFERRED)
    for prediction_id in at + later:
        assert_attributed(history.row(prediction_id), history.new, LEDGER_INFERRED)
    assert summary.considered == 4 * PLAYERS
    assert summary.updated == 4 * PLAYERS
    assert dict(summary.by_method) == {LEDGER_INFERRED: 4 * PLAYERS}
    assert dict(summary.by_model) == {
        history.old.model_file_name: 2 * PLAYERS,
        history.new.model_file_name: 2 * PLAYERS,
    }
    assert summary.ambiguous == summary.unreproduced == summary.no_ledger_entry == []


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-timedelta(minutes=31), "old"),
        (-timedelta(minutes=30), "ambiguous"),  # the window's edge is inside it
        (-timedelta(minutes=29), "ambiguous"),
        (timedelta(0), "ambiguous"),
        (timedelta(minutes=29), "ambiguous"),
        (timedelta(minutes=30) - MICRO, "ambiguous"),
        (timedelta(minutes=30), "new"),  # the old model was last active a window ago
        (timedelta(minutes=31), "new"),
    ],
)
def test_rows_within_the_ambiguity_window_of_a_promotion_are_left_unstamped_and_listed(
    history: History, offset: timedelta, expected: str
) -> None:
    history.story()
    made_by = history.old if offset < timedelta(0) else history.new
    ids = history.legacy_batch("b", made_by=made_by, created_at=PROMOTION + offset)

    summary = history.backfill()

    if expected == "ambiguous":
        assert summary.ambiguous == ids
        assert dict(summary.by_method) == {"ambiguous": PLAYERS}
        assert summary.updated == 0
        for prediction_id in ids:
            assert_unattributed(history.row(prediction_id))
    else:
        card = history.old if expected == "old" else history.new
        assert summary.ambiguous == []
        for prediction_id in ids:
            assert_attributed(history.row(prediction_id), card, LEDGER_INFERRED)


def test_the_window_comes_from_backfill_ambiguity_minutes(make_history: HistoryFactory) -> None:
    settings = load_settings({"BACKFILL_AMBIGUITY_MINUTES": "5"})
    assert settings.backfill_ambiguity_minutes == 5.0
    assert load_settings({}).backfill_ambiguity_minutes == 30.0

    history = make_history(backfill_ambiguity_minutes=5)
    assert history.app.backfill().settings.ambiguity == timedelta(minutes=5)
    history.story()
    outside = history.legacy_batch(
        "outside", made_by=history.old, created_at=PROMOTION - 6 * MINUTE
    )
    inside = history.legacy_batch("inside", made_by=history.old, created_at=PROMOTION - 4 * MINUTE)

    summary = history.backfill()

    assert summary.ambiguous == inside
    assert history.methods("outside") == {LEDGER_INFERRED}
    assert [history.row(i)["model_sha256"] for i in outside] == [history.old.model_sha256] * PLAYERS


def test_the_window_setting_reaches_a_default_app(home: Path) -> None:
    env = {"ATTRIBUTION_HOME": str(home), "BACKFILL_AMBIGUITY_MINUTES": "7"}
    app = build_app(load_settings(env))
    assert isinstance(app.warehouse, DuckDBWarehouse)
    try:
        assert app.backfill().settings.ambiguity == timedelta(minutes=7)
    finally:
        app.warehouse.close()


def test_a_batch_is_placed_at_its_logged_start_not_at_its_rows_created_at(
    history: History,
) -> None:
    """A batch that started before the promotion and wrote its rows after it was the old
    model's; the log's start decides."""
    history.story()
    ids = history.legacy_batch(
        "slow", made_by=history.old, created_at=PROMOTION + timedelta(hours=2), keep=None
    )
    history.log_batch("slow", started_at=PROMOTION - timedelta(hours=2))

    history.backfill()

    for prediction_id in ids:
        assert_attributed(history.row(prediction_id), history.old, LEDGER_INFERRED)


def test_an_unlogged_batch_id_reused_over_time_places_each_row_at_its_own_time(
    history: History,
) -> None:
    """A legacy worker wrote under one batch id, day after day and run after run, and kept
    no log: with no batch start known, each row is placed at its own created_at."""
    history.story()
    day_before = history.legacy_batch(
        "legacy-worker",
        made_by=history.old,
        created_at=PROMOTION - timedelta(days=1),
        day=DAY - timedelta(days=1),
        keep=None,
    )
    early_run = history.legacy_batch(
        "legacy-worker",
        made_by=history.old,
        created_at=PROMOTION - timedelta(hours=2),
        keep=None,
    )
    late_run = history.legacy_batch(
        "legacy-worker",
        made_by=history.new,
        created_at=PROMOTION + timedelta(hours=2),
        keep=None,
        seed=1,
    )
    day_after = history.legacy_batch(
        "legacy-worker",
        made_by=history.new,
        created_at=PROMOTION + timedelta(days=1),
        day=DAY + timedelta(days=1),
        keep=None,
    )

    summary = history.backfill()

    assert dict(summary.by_method) == {LEDGER_INFERRED: 4 * PLAYERS}
    for prediction_id in day_before + early_run:
        assert_attributed(history.row(prediction_id), history.old, LEDGER_INFERRED)
    for prediction_id in late_run + day_after:
        assert_attributed(history.row(prediction_id), history.new, LEDGER_INFERRED)


def test_rows_before_any_ledger_entry_are_listed_and_left_unstamped(history: History) -> None:
    history.story()
    early = history.legacy_batch("early", made_by=history.old, created_at=FIRST - timedelta(days=3))
    other = history.legacy_batch(
        "v10", made_by=history.other, created_at=PROMOTION, system_id=OTHER_SYSTEM
    )

    summary = history.backfill()

    assert sorted(summary.no_ledger_entry) == sorted(early + other)
    assert summary.by_method["no_ledger_entry"] == 2 * PLAYERS
    assert summary.updated == 0
    for prediction_id in early + other:
        assert_unattributed(history.row(prediction_id))
    assert summary.to_document()["no_ledger_entry"] == 2 * PLAYERS


def test_a_row_just_before_the_first_promotion_is_ambiguous_not_the_first_model(
    history: History,
) -> None:
    """Ten minutes before the first promotion the ledger names no model; the first one is
    only a candidate (the row sits within the window of its promotion)."""
    history.story()
    ids = history.legacy_batch("early", made_by=history.old, created_at=FIRST - 10 * MINUTE)

    summary = history.backfill()

    assert summary.ambiguous == ids
    for prediction_id in ids:
        assert_unattributed(history.row(prediction_id))

    proven = history.backfill(replay=True)  # the kept input proves it was the old model

    assert dict(proven.by_method) == {REPLAY_VERIFIED: PLAYERS}
    for prediction_id in ids:
        assert_attributed(history.row(prediction_id), history.old, REPLAY_VERIFIED)


# --- replay -------------------------------------------------------------------------------


def test_replay_proves_the_ledgers_model_when_it_reproduces_the_stored_predictions(
    history: History,
) -> None:
    history.story()
    ids = history.legacy_batch("b", made_by=history.new, created_at=PROMOTION + timedelta(days=1))

    summary = history.backfill(replay=True)

    assert dict(summary.by_method) == {REPLAY_VERIFIED: PLAYERS}
    assert dict(summary.by_model) == {history.new.model_file_name: PLAYERS}
    assert summary.updated == PLAYERS
    for prediction_id in ids:
        assert_attributed(history.row(prediction_id), history.new, REPLAY_VERIFIED)


def test_replay_resolves_ambiguous_rows_to_whichever_model_reproduces_them(
    history: History,
) -> None:
    """Inside the window: one batch by the retrain, one by the old model after the
    promotion (an instance still on the old answer), one by the old model before it."""
    history.story()
    by_new = history.legacy_batch("by-new", made_by=history.new, created_at=PROMOTION + MINUTE)
    stale = history.legacy_batch("stale", made_by=history.old, created_at=PROMOTION + 2 * MINUTE)
    by_old = history.legacy_batch("by-old", made_by=history.old, created_at=PROMOTION - MINUTE)

    plain = history.backfill()
    assert sorted(plain.ambiguous) == sorted(by_new + stale + by_old)

    summary = history.backfill(replay=True)

    assert summary.ambiguous == summary.unreproduced == []
    assert dict(summary.by_method) == {REPLAY_VERIFIED: 3 * PLAYERS}
    assert dict(summary.by_model) == {
        history.new.model_file_name: PLAYERS,
        history.old.model_file_name: 2 * PLAYERS,
    }
    for prediction_id in by_new:
        assert_attributed(history.row(prediction_id), history.new, REPLAY_VERIFIED)
    for prediction_id in stale + by_old:
        assert_attributed(history.row(prediction_id), history.old, REPLAY_VERIFIED)


def test_replay_refutes_a_ledger_inference_and_clears_it(history: History) -> None:
    """A plain run believes the ledger; replay then shows the ledger's model did not write one
    row: that row's attribution is cleared and says why, and a rerun changes nothing."""
    history.story()
    ids = history.legacy_batch("b", made_by=history.new, created_at=PROMOTION + timedelta(days=1))
    plain = history.backfill()
    assert dict(plain.by_method) == {LEDGER_INFERRED: PLAYERS}
    wrong = ids[2]
    history.tamper(wrong, 0.5)

    proven = history.backfill(replay=True)

    assert proven.refuted == [wrong] and proven.unreproduced == [wrong]
    assert dict(proven.by_method) == {REPLAY_VERIFIED: PLAYERS - 1, "unreproduced": 1}
    refuted = history.row(wrong)
    assert {c: refuted[c] for c in ATTRIBUTION_COLUMNS} == dict.fromkeys(ATTRIBUTION_COLUMNS)
    assert refuted["attribution_method"] == REPLAY_REFUTED

    again = history.backfill(replay=True)
    assert (again.updated, again.refuted, again.unreproduced) == (0, [], [wrong])
    assert history.row(wrong)["attribution_method"] == REPLAY_REFUTED
    assert history.backfill().considered == 0  # a plain run does not re-infer it


def test_replay_reads_the_input_the_execution_log_points_at(history: History) -> None:
    """A logged batch whose input lies elsewhere (Parquet, not under batches/<id>/)."""
    from attribution.devtools.slates import slate_for

    history.story()
    ids = history.legacy_batch(
        "logged", made_by=history.old, created_at=PROMOTION + MINUTE, keep=None
    )
    uri = history.keep_input(
        "logged", slate_for(DAY, players=PLAYERS).rows, "parquet", name="feeds/2026-02-02.parquet"
    )
    history.log_batch("logged", started_at=PROMOTION - timedelta(hours=1), input_uri=uri)

    summary = history.backfill(replay=True)

    assert dict(summary.by_method) == {REPLAY_VERIFIED: PLAYERS}
    for prediction_id in ids:
        assert_attributed(history.row(prediction_id), history.old, REPLAY_VERIFIED)


def test_a_row_no_candidate_reproduces_is_flagged_and_left_unstamped(history: History) -> None:
    history.story()
    ids = history.legacy_batch("b", made_by=history.new, created_at=PROMOTION + timedelta(days=1))
    tampered, kept = ids[3], [i for i in ids if i != ids[3]]
    history.tamper(tampered, 0.5)

    summary = history.backfill(replay=True)

    assert summary.unreproduced == [tampered]
    assert dict(summary.by_method) == {REPLAY_VERIFIED: PLAYERS - 1, "unreproduced": 1}
    assert_unattributed(history.row(tampered))
    for prediction_id in kept:
        assert_attributed(history.row(prediction_id), history.new, REPLAY_VERIFIED)
    assert summary.to_document()["unreproduced_rows"] == [tampered]


def test_replay_refuses_the_ledgers_answer_when_another_model_wrote_the_rows(
    history: History,
) -> None:
    """The ledger says the retrain, but a model it never recorded wrote the batch: plain
    inference would believe the ledger; replay flags every row instead."""
    history.story()
    ids = history.legacy_batch(
        "stray", made_by=history.other, created_at=PROMOTION + timedelta(days=1)
    )

    summary = history.backfill(replay=True)

    assert summary.unreproduced == ids
    assert summary.updated == 0
    for prediction_id in ids:
        assert_unattributed(history.row(prediction_id))


def test_without_a_kept_input_replay_falls_back_to_ledger_inference(history: History) -> None:
    history.story()
    clear = history.legacy_batch(
        "clear", made_by=history.new, created_at=PROMOTION + timedelta(days=1), keep=None
    )
    close = history.legacy_batch(
        "close", made_by=history.new, created_at=PROMOTION + MINUTE, keep=None
    )

    summary = history.backfill(replay=True)

    assert dict(summary.by_method) == {LEDGER_INFERRED: PLAYERS, "ambiguous": PLAYERS}
    for prediction_id in clear:
        assert_attributed(history.row(prediction_id), history.new, LEDGER_INFERRED)
    assert summary.ambiguous == close
    for prediction_id in close:
        assert_unattributed(history.row(prediction_id))


# --- stamped rows are never changed --------------------------------------------------------


def test_stamped_rows_are_never_changed_even_when_the_ledger_disagrees(history: History) -> None:
    history.app.ledger.promote(SYSTEM, history.old, by="tests")
    stamped = history.run_batch("live")
    assert {r["attribution_method"] for r in stamped} == {"stamped"}
    # After the fact, the ledger is told the retrain was active all along, and a stamped row
    # that looks wrong (a card of another system) is written straight into the table.
    history.promote(history.new, stamped[0]["created_at"] - timedelta(days=1))
    odd = {
        **stamped[0],
        "prediction_id": "odd-stamped",
        "batch_id": "odd",
        **attribution_columns(history.other),
    }
    history.app.warehouse.insert_rows("player_prop_predictions", [odd])
    legacy = history.legacy_batch("legacy", made_by=history.new, created_at=PROMOTION)
    before = {r["prediction_id"]: r for r in history.rows() if r["attribution_method"]}

    plain = history.backfill()
    replayed = history.backfill(replay=True)

    after = {r["prediction_id"]: r for r in history.rows() if r["prediction_id"] in before}
    assert after == before
    assert plain.considered == replayed.considered == len(legacy)
    touched = set(plain.ambiguous + plain.unreproduced + plain.no_ledger_entry)
    assert touched.isdisjoint(before)


def test_the_update_itself_is_guarded_against_stamped_and_proven_rows(history: History) -> None:
    history.story()
    history.app.ledger.promote(SYSTEM, history.old, by="tests")
    stamped = history.run_batch("live")[0]
    legacy = history.legacy_batch("legacy", made_by=history.new, created_at=PROMOTION + MINUTE)
    history.backfill(replay=True)
    proven = history.row(legacy[0])
    assert proven["attribution_method"] == REPLAY_VERIFIED
    fresh = history.legacy_batch(
        "fresh", made_by=history.new, created_at=PROMOTION + timedelta(days=1), keep=None
    )[0]

    def overwrite(prediction_id: str) -> int:
        change = {
            "prediction_id": prediction_id,
            **attribution_columns(history.other),
            "attribution_method": LEDGER_INFERRED,
        }
        return history.app.warehouse.update_rows(
            "player_prop_predictions", [change], key=["prediction_id"], only_where=UPDATABLE
        )

    assert overwrite(stamped["prediction_id"]) == 0
    assert overwrite(proven["prediction_id"]) == 0
    assert history.row(stamped["prediction_id"]) == stamped
    assert history.row(proven["prediction_id"]) == proven
    assert overwrite(fresh) == 1
    assert_attributed(history.row(fresh), history.other, LEDGER_INFERRED)


# --- reruns, dry runs, filters ------------------------------------------------------------


def test_a_second_run_changes_nothing_and_replay_upgrades_inferred_rows_once(
    history: History,
) -> None:
    history.story()
    kept = history.legacy_batch("kept", made_by=history.old, created_at=PROMOTION - timedelta(1))
    lost = history.legacy_batch(
        "lost", made_by=history.new, created_at=PROMOTION + timedelta(1), keep=None
    )
    close = history.legacy_batch("close", made_by=history.new, created_at=PROMOTION + MINUTE)

    first = history.backfill()
    after_first = history.rows()
    second = history.backfill()

    assert first.updated == 2 * PLAYERS
    assert second.updated == 0
    assert second.considered == PLAYERS  # only the ambiguous batch is still unattributed
    assert second.ambiguous == first.ambiguous == close
    assert history.rows() == after_first

    upgrade = history.backfill(replay=True)

    assert upgrade.updated == 2 * PLAYERS  # the kept batch proven, the close one resolved
    assert dict(upgrade.by_method) == {REPLAY_VERIFIED: 2 * PLAYERS}
    for prediction_id in kept:
        assert_attributed(history.row(prediction_id), history.old, REPLAY_VERIFIED)
    for prediction_id in close:
        assert_attributed(history.row(prediction_id), history.new, REPLAY_VERIFIED)
    for prediction_id in lost:
        assert_attributed(history.row(prediction_id), history.new, LEDGER_INFERRED)
    after_upgrade = history.rows()

    again = history.backfill(replay=True)

    assert again.updated == 0
    assert again.considered == PLAYERS  # the inferred batch is looked at again, unchanged
    assert dict(again.by_method) == {}
    assert history.rows() == after_upgrade


def test_a_dry_run_reports_what_it_would_do_and_changes_nothing(history: History) -> None:
    history.story()
    history.legacy_batch("kept", made_by=history.old, created_at=PROMOTION - timedelta(1))
    history.legacy_batch("close", made_by=history.new, created_at=PROMOTION + MINUTE)
    history.legacy_batch(
        "lost", made_by=history.new, created_at=PROMOTION + timedelta(1), keep=None
    )
    before = history.rows()

    dry = history.backfill(dry_run=True)
    dry_replay = history.backfill(replay=True, dry_run=True)

    assert history.rows() == before
    assert (dry.dry_run, dry.updated, dry_replay.updated) == (True, 0, 0)
    assert dict(dry.by_method) == {LEDGER_INFERRED: 2 * PLAYERS, "ambiguous": PLAYERS}
    assert dict(dry_replay.by_method) == {REPLAY_VERIFIED: 2 * PLAYERS, LEDGER_INFERRED: PLAYERS}

    real = history.backfill(replay=True)

    assert dict(real.by_method) == dict(dry_replay.by_method)
    assert dict(real.by_model) == dict(dry_replay.by_model)
    assert real.updated == 3 * PLAYERS


def test_system_and_date_filters_limit_what_is_considered(history: History) -> None:
    history.story()
    history.promote(history.other, FIRST, system_id=OTHER_SYSTEM)
    d1, d2, d3 = date(2026, 2, 4), date(2026, 2, 5), date(2026, 2, 6)
    at = PROMOTION + timedelta(days=2)
    for day in (d1, d2, d3):
        history.legacy_batch(f"v9-{day}", made_by=history.new, created_at=at, day=day)
    other = history.legacy_batch(
        "v10", made_by=history.other, created_at=at, day=d2, system_id=OTHER_SYSTEM
    )

    only_d2 = history.backfill(system_id=SYSTEM, from_date=d2, to_date=d2)

    assert only_d2.considered == only_d2.updated == PLAYERS
    assert history.methods(f"v9-{d2}") == {LEDGER_INFERRED}
    assert history.methods(f"v9-{d1}") == history.methods(f"v9-{d3}") == {None}
    assert history.methods("v10") == {None}

    from_d3 = history.backfill(from_date=d3)
    to_d1 = history.backfill(to_date=d1)
    assert (from_d3.considered, to_d1.considered) == (PLAYERS, PLAYERS)

    v10 = history.backfill(system_id=OTHER_SYSTEM)

    assert v10.considered == PLAYERS
    for prediction_id in other:
        assert_attributed(history.row(prediction_id), history.other, LEDGER_INFERRED)
    assert {r["attribution_method"] for r in history.rows()} == {LEDGER_INFERRED}


def test_rows_written_now_by_a_worker_without_stamping_are_inferred(history: History) -> None:
    """Not only history: a stray writer's rows from today take the model active today."""
    history.story()
    ids = history.legacy_batch("today", made_by=history.new, created_at=datetime.now(UTC))

    history.backfill()

    for prediction_id in ids:
        assert_attributed(history.row(prediction_id), history.new, LEDGER_INFERRED)


# --- replay that cannot run ------------------------------------------------------------------


def test_a_candidate_whose_model_file_is_gone_cannot_prove_its_rows(history: History) -> None:
    """The old model's object was deleted: its rows inside the window cannot be proven (and
    are flagged), the retrain's rows still are."""
    history.story()
    by_new = history.legacy_batch("by-new", made_by=history.new, created_at=PROMOTION + MINUTE)
    by_old = history.legacy_batch("by-old", made_by=history.old, created_at=PROMOTION - MINUTE)
    name = f"{history.app.settings.models_prefix}{history.old.model_file_name}"
    stored = history.app.models.stat(name)
    assert stored is not None
    assert history.app.models.delete_if_generation(name, stored.generation)

    summary = history.backfill(replay=True)

    assert summary.unreproduced == by_old
    for prediction_id in by_new:
        assert_attributed(history.row(prediction_id), history.new, REPLAY_VERIFIED)
    for prediction_id in by_old:
        assert_unattributed(history.row(prediction_id))


def test_an_unreadable_kept_input_does_not_stop_the_backfill(history: History) -> None:
    """One kept input is corrupt: that batch falls back to the ledger's answer; the others
    are still replayed."""
    history.story()
    broken = history.legacy_batch("broken", made_by=history.new, created_at=PROMOTION + HOUR)
    fine = history.legacy_batch("fine", made_by=history.new, created_at=PROMOTION + HOUR)
    history.app.models.write(
        f"{history.app.settings.batch_inputs_prefix}broken/input.jsonl", b'{"player_lookup": '
    )

    summary = history.backfill(replay=True)

    assert dict(summary.by_method) == {REPLAY_VERIFIED: PLAYERS, LEDGER_INFERRED: PLAYERS}
    for prediction_id in fine:
        assert_attributed(history.row(prediction_id), history.new, REPLAY_VERIFIED)
    for prediction_id in broken:
        assert_attributed(history.row(prediction_id), history.new, LEDGER_INFERRED)


@pytest.mark.parametrize("limit", [backfill._KEY_LIMIT, 4], ids=["as-is", "renumbered"])
def test_line_keys_are_equal_exactly_where_the_lines_are(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Player, line and sportsbook as one key: a NULL sportsbook equals a NULL one only, the
    line -0.0 equals 0.0, and a key that would grow past the limit is renumbered first."""
    monkeypatch.setattr(backfill, "_KEY_LIMIT", limit)
    lines = backfill._lines(
        pa.array(["a", "a", "a", "a", "b", "a", "a"]),
        pa.array([1.5, 1.5, 1.5, 2.5, 1.5, -0.0, 0.0]),
        pa.array(["x", None, "", "x", "x", None, None]),
    )
    key = backfill._equal_where_equal(lines.players, lines.lines, lines.books).to_pylist()
    assert len(set(key[:5])) == 5
    assert key[5] == key[6]
