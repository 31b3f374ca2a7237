"""A prediction batch end to end through the real entry point: stamping, writes, idempotency.

Batches reach ``functions/prediction_batch/main.py`` either through the in-process bus (a
structured CloudEvent posted to functions-framework's app) or through a test client of that
same app, with structured and binary CloudEvents. Assertions read the DuckDB tables.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from typing import Any, NoReturn

import pytest
from app_support import upload_model
from catboost_oracle import regressor_predictions

from attribution.batches.request import RunMode
from attribution.batches.stamping import batch_key
from attribution.bootstrap import app as process_app
from attribution.devtools.slates import Slate
from attribution.errors import TransientError

from .support import (
    ATTRIBUTION_COLUMNS,
    GAME_DATE,
    SYSTEM,
    BatchWorld,
    batch_event,
    batch_spec,
    card_columns,
    count,
    dead_letters,
    kept_input,
    log_rows,
    post,
    predictions,
    publish,
    rejects,
    request,
    stamped_with,
    the_log,
)


def _model_predictions(path: Any, rows: list[dict[str, Any]]) -> dict[str, float]:
    values = regressor_predictions(path, rows)
    return {row["player_lookup"]: float(v) for row, v in zip(rows, values, strict=True)}


def test_every_row_is_stamped_with_the_active_models_card(
    world: BatchWorld, slate: Slate, models: Any
) -> None:
    app = world.app
    delivery = publish(app, request("b-stamp", slate.rows))
    assert delivery.ok and delivery.attempts == 1

    rows = predictions(app, "b-stamp")
    assert len(rows) == len(slate.rows) == 40
    assert stamped_with(rows, world.old)
    declared = {  # what tests/conftest.py's OLD_SPEC embedded in the artifact
        "model_file_name": "catboost_v9_old.cbm",
        "model_training_start_date": date(2025, 11, 2),
        "model_training_end_date": date(2026, 1, 31),
        "model_expected_mae": 4.12,
        "model_expected_hit_rate": 74.6,
        "model_trained_at": datetime(2026, 2, 1, 6, 30, tzinfo=UTC),
    }
    assert all({k: r[k] for k in ATTRIBUTION_COLUMNS} == declared for r in rows)

    expected = _model_predictions(models.old, slate.rows)
    lines = {r["player_lookup"]: r["line_value"] for r in slate.rows}
    key = batch_key("b-stamp", SYSTEM, GAME_DATE.isoformat())
    for row in rows:
        player = row["player_lookup"]
        assert row["prediction_id"] == f"{key}:{player}:{lines[player]:g}"  # no sportsbook
        assert row["predicted_points"] == pytest.approx(expected[player], abs=1e-9)
        assert row["line_value"] == lines[player]
        assert row["edge"] == pytest.approx(row["predicted_points"] - row["line_value"])
        assert row["recommendation"] in ("OVER", "UNDER", "PASS")
        assert (row["batch_id"], row["system_id"], row["game_date"]) == (
            "b-stamp",
            SYSTEM,
            GAME_DATE,
        )
        assert row["run_mode"] == "OVERNIGHT"
        assert row["created_at"] is not None

    log = the_log(app, "b-stamp")
    assert log["status"] == "success" and log["error"] is None
    assert (log["rows_requested"], log["rows_written"], log["rows_rejected"]) == (40, 40, 0)
    assert {k: log[k] for k in card_columns(world.old)} == card_columns(world.old)
    assert log["started_at"] <= log["finished_at"]
    assert log["duration_ms"] >= 0
    assert (log["system_id"], log["game_date"], log["run_mode"]) == (SYSTEM, GAME_DATE, "OVERNIGHT")
    assert log["message_id"] and log["model_pin"] is None
    kept_uri, kept = kept_input(app, "b-stamp", "jsonl")  # the inline rows are kept, as sent
    assert log["input_uri"] == kept_uri
    assert [json.loads(line) for line in kept.splitlines()] == slate.rows
    assert rejects(app, "b-stamp") == [] and dead_letters(app) == []


@pytest.mark.parametrize(
    ("sent", "stored"), [("REAL_LINES_ONLY", "EARLY"), ("ALL_PLAYERS", "OVERNIGHT")]
)
def test_seed_run_mode_names_are_stored_as_the_canonical_mode(
    world: BatchWorld, slate: Slate, sent: str, stored: str
) -> None:
    message = request("b-mode", slate.rows[:5]).to_message() | {"run_mode": sent}
    assert publish(world.app, json.dumps(message).encode()).ok
    assert {r["run_mode"] for r in predictions(world.app, "b-mode")} == {stored}
    assert the_log(world.app, "b-mode")["run_mode"] == stored


def _with_one_bad_row(slate: Slate) -> list[dict[str, Any]]:
    rows = [dict(r) for r in slate.rows]
    rows[4]["usage_rate"] = "high"
    return rows


def test_the_same_message_delivered_three_times_is_written_once(
    world: BatchWorld, slate: Slate
) -> None:
    app = world.app
    event = batch_event(request("b-redeliver", _with_one_bad_row(slate)), message_id="m-1")
    first = world.bus.deliver(batch_spec(), event)
    written = predictions(app, "b-redeliver")
    for _ in range(2):
        again = world.bus.deliver(batch_spec(), event)
        assert again.ok and again.attempts == 1
    assert first.ok

    assert predictions(app, "b-redeliver") == written  # same ids, same created_at: untouched
    assert len(written) == 39
    assert len(rejects(app, "b-redeliver")) == 1
    assert len(log_rows(app, "b-redeliver")) == 1
    assert the_log(app, "b-redeliver")["message_id"] == "m-1"
    assert dead_letters(app) == []


def test_the_same_batch_republished_under_a_new_message_id_is_written_once(
    world: BatchWorld, slate: Slate
) -> None:
    app = world.app
    message = request("b-republish", slate.rows)
    assert publish(app, message).ok
    first_log = the_log(app, "b-republish")
    assert publish(app, message).ok
    assert count(app, "player_prop_predictions") == 40
    assert the_log(app, "b-republish") == first_log


def test_prediction_ids_are_stable_across_redelivery_and_differ_across_batches(
    world: BatchWorld, slate: Slate
) -> None:
    app = world.app
    publish(app, request("b-ids-1", slate.rows))
    first = {r["player_lookup"]: r["prediction_id"] for r in predictions(app, "b-ids-1")}
    publish(app, request("b-ids-1", slate.rows))
    again = {r["player_lookup"]: r["prediction_id"] for r in predictions(app, "b-ids-1")}
    publish(app, request("b-ids-2", slate.rows))
    other = {r["player_lookup"]: r["prediction_id"] for r in predictions(app, "b-ids-2")}

    assert again == first
    assert set(other) == set(first)
    assert not set(other.values()) & set(first.values())
    assert len(set(first.values())) == len(first) == 40
    assert count(app, "player_prop_predictions") == 80


def test_good_and_bad_rows_mixed_keep_the_good_and_record_the_bad(
    world: BatchWorld, slate: Slate
) -> None:
    app = world.app
    rows = [dict(r) for r in slate.rows]
    del rows[3]["player_lookup"]  # a REQUIRED column of player_prop_predictions
    rows[5]["line_value"] = "abc"
    rows[7]["usage_rate"] = "high"
    del rows[9]["position"]
    rows[11]["game_date"] = "2026-03-02"
    rows[13] |= {"player_lookup": rows[0]["player_lookup"], "line_value": rows[0]["line_value"]}
    rows[15]["line_value"] = None
    rows[17]["rest_days"] = True
    expected_reasons = {
        3: "player_lookup is missing",
        5: "line_value is not a number",
        7: "feature usage_rate is not a number",
        9: "categorical feature position is missing (declare the token the model was trained "
        "with for a missing category in its metadata as cat_missing_value)",
        11: "game_date 2026-03-02 does not match the batch's 2026-03-01",
        13: "the same player, line and sportsbook appear more than once in the batch",
        15: "line_value is missing",
        17: "feature rest_days is not a number",
    }
    delivery = publish(app, request("b-mixed", rows))
    assert delivery.ok and delivery.attempts == 1

    written = predictions(app, "b-mixed")
    assert len(written) == 40 - len(expected_reasons)
    assert stamped_with(written, world.old)
    by_player = {r["player_lookup"]: r for r in written}
    assert by_player[rows[0]["player_lookup"]]["line_value"] == rows[0]["line_value"]
    for index in expected_reasons:
        if index not in (3, 13):
            assert rows[index]["player_lookup"] not in by_player

    recorded = rejects(app, "b-mixed")
    assert {r["row_number"]: r["reason"] for r in recorded} == expected_reasons
    for reject in recorded:
        original = rows[reject["row_number"]]
        raw = json.loads(reject["raw_row"])
        assert {k: raw[k] for k in original} == original
        assert reject["player_lookup"] == original.get("player_lookup")
        assert (reject["system_id"], reject["game_date"]) == (SYSTEM, GAME_DATE)
        assert reject["reject_id"] == f"b-mixed:{reject['row_number']}"

    log = the_log(app, "b-mixed")
    assert log["status"] == "partial"
    assert (log["rows_requested"], log["rows_written"], log["rows_rejected"]) == (40, 32, 8)
    assert log["error"].startswith("8 of 40 rows rejected")
    assert log["model_sha256"] == world.old.model_sha256
    assert dead_letters(app) == []


def test_a_batch_whose_rows_are_all_bad_is_logged_failed_and_acknowledged(
    world: BatchWorld, slate: Slate
) -> None:
    rows = [{k: v for k, v in r.items() if k != "line_value"} for r in slate.rows[:3]]
    delivery = publish(world.app, request("b-allbad", rows))
    assert delivery.ok and delivery.attempts == 1
    log = the_log(world.app, "b-allbad")
    assert (log["status"], log["rows_written"], log["rows_rejected"]) == ("failed", 0, 3)
    assert "line_value is missing" in log["error"]
    assert predictions(world.app, "b-allbad") == []
    assert len(rejects(world.app, "b-allbad")) == 3


@pytest.mark.parametrize("min_edge", [0.5, 2.0, 4.0])
def test_recommendations_follow_min_edge(make_world: Any, slate: Slate, min_edge: float) -> None:
    app = make_world(min_edge=min_edge).app
    publish(app, request("b-edge", slate.rows))
    rows = predictions(app, "b-edge")
    assert len(rows) == 40
    for row in rows:
        edge = row["predicted_points"] - row["line_value"]
        assert row["edge"] == pytest.approx(edge)
        if abs(edge) < min_edge:
            assert row["recommendation"] == "PASS"
        else:
            assert row["recommendation"] == ("OVER" if edge > 0 else "UNDER")


def test_min_edge_comes_from_the_environment_of_the_process_app(
    home: Any, models: Any, slate: Slate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIN_EDGE", "3.5")
    app = process_app()  # built from the environment, as in Cloud Functions
    try:
        assert app.settings.min_edge == 3.5
        old = upload_model(app, models.old, "catboost_v9_old.cbm")
        app.ledger.promote(SYSTEM, old)
        assert publish(app, request("b-env", slate.rows)).ok
        rows = predictions(app, "b-env")
        assert len(rows) == 40
        for row in rows:
            passes = abs(row["edge"]) < 3.5
            assert (row["recommendation"] == "PASS") == passes
    finally:
        app.warehouse.close()  # type: ignore[attr-defined]


def test_two_batches_at_once_each_get_their_own_rows_and_log(
    world: BatchWorld, slate: Slate, function_client: Any
) -> None:
    app = world.app
    events = {
        "b-par-a": batch_event(request("b-par-a", slate.rows)),
        "b-par-b": batch_event(request("b-par-b", slate.rows, run_mode=RunMode.EARLY)),
    }
    start = threading.Barrier(len(events))
    statuses: dict[str, int] = {}

    def send(batch_id: str) -> None:
        start.wait(timeout=30)
        statuses[batch_id] = post(function_client, events[batch_id], binary=batch_id.endswith("b"))

    threads = [threading.Thread(target=send, args=(b,)) for b in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == {"b-par-a": 200, "b-par-b": 200}

    a, b = predictions(app, "b-par-a"), predictions(app, "b-par-b")
    assert len(a) == len(b) == 40
    assert {r["run_mode"] for r in a} == {"OVERNIGHT"} and {r["run_mode"] for r in b} == {"EARLY"}
    assert not {r["prediction_id"] for r in a} & {r["prediction_id"] for r in b}
    assert [r["predicted_points"] for r in a] == [r["predicted_points"] for r in b]
    assert the_log(app, "b-par-a")["rows_written"] == the_log(app, "b-par-b")["rows_written"] == 40
    assert count(app, "player_prop_predictions") == 80
    assert count(app, "prediction_execution_log") == 2


def test_the_same_batch_twice_at_once_from_two_threads_writes_once(
    world: BatchWorld, slate: Slate, function_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both deliveries pass the "already logged?" check before either writes: the batch claim
    lets one run and sends the other back to Pub/Sub (500), whose redelivery finds it done."""
    app = world.app
    predictor = app.batch_predictor()
    both_checked = threading.Barrier(2)
    check = predictor._done_or_refused

    first_check = threading.local()

    def racing_check(run: Any) -> Any:
        done = check(run)
        if not getattr(first_check, "passed", False):
            first_check.passed = True
            both_checked.wait(timeout=30)
        return done

    monkeypatch.setattr(predictor, "_done_or_refused", racing_check)
    event = batch_event(request("b-race", _with_one_bad_row(slate)), message_id="m-race")
    statuses: list[int] = []

    def send(binary: bool) -> None:
        statuses.append(post(function_client, event, binary=binary))

    threads = [threading.Thread(target=send, args=(flag,)) for flag in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 500]
    monkeypatch.setattr(predictor, "_done_or_refused", check)
    assert post(function_client, event, binary=False) == 200  # the redelivery: already done

    written = predictions(app, "b-race")
    assert len(written) == 39
    assert len({r["prediction_id"] for r in written}) == 39
    assert len(rejects(app, "b-race")) == 1
    assert len(log_rows(app, "b-race")) == 1
    assert the_log(app, "b-race")["status"] == "partial"


def test_a_transient_failure_answers_500_and_the_retry_writes_once(
    world: BatchWorld, slate: Slate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse fails after the predictions are written: Pub/Sub redelivers, and the
    second attempt completes the batch without duplicating a row."""
    app = world.app
    insert = app.warehouse.insert_new_rows
    failures: list[str] = []

    def flaky(table: str, rows: Any, key: Any, **kwargs: Any) -> int:
        if table == "prediction_execution_log" and not failures:
            failures.append(table)
            raise TransientError("BigQuery is unavailable")
        return insert(table, rows, key, **kwargs)

    monkeypatch.setattr(app.warehouse, "insert_new_rows", flaky)
    delivery = publish(app, request("b-flaky", _with_one_bad_row(slate)))

    assert failures == ["prediction_execution_log"]
    assert delivery.ok and delivery.attempts == 2  # 500 first, then redelivered
    assert len(predictions(app, "b-flaky")) == 39
    assert len(rejects(app, "b-flaky")) == 1
    assert the_log(app, "b-flaky")["status"] == "partial"
    assert dead_letters(app) == []


def test_a_transient_failure_reading_the_claim_check_is_retried(
    world: BatchWorld, slate: Slate, function_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = world.app
    from .support import claim_check

    uri = claim_check(app, "b-flaky-read", slate.rows, "jsonl")
    bucket = app.models
    read = bucket.read

    def unavailable(name: str) -> bytes:
        if name.startswith("incoming/"):
            raise TransientError("storage is unavailable")
        return read(name)

    monkeypatch.setattr(bucket, "read", unavailable)
    event = batch_event(request("b-flaky-read", rows_uri=uri), message_id="m-flaky")
    assert post(function_client, event) == 500
    assert log_rows(app, "b-flaky-read") == [] and dead_letters(app) == []

    monkeypatch.setattr(bucket, "read", read)
    assert post(function_client, event, binary=True) == 200
    assert len(predictions(app, "b-flaky-read")) == 40
    assert the_log(app, "b-flaky-read")["status"] == "success"


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> NoReturn:
        raise ValueError(f"not RFC 8259 JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_a_rejected_rows_infinite_number_is_kept_as_valid_json(
    world: BatchWorld, slate: Slate
) -> None:
    rows = [dict(r) for r in slate.rows[:3]]
    rows[1]["rest_days"] = 12345.678  # spelled 1e400 in the message, which JSON reads as inf
    data = request("b-infinite", rows).encode().replace(b"12345.678", b"1e400")
    assert b"1e400" in data
    publish(world.app, data)

    (reject,) = rejects(world.app, "b-infinite")
    assert reject["row_number"] == 1
    assert reject["reason"] == "feature rest_days is not finite"
    raw = _strict_json(reject["raw_row"])
    assert raw["rest_days"] is None
    assert raw["non_finite"] == {"rest_days": "Infinity"}
    assert {k: v for k, v in raw.items() if k not in ("rest_days", "non_finite")} == {
        k: v for k, v in rows[1].items() if k != "rest_days"
    }
