"""Which model a batch uses: a pin wins over the ledger, a promotion takes effect within
LEDGER_CACHE_SECONDS without a redeploy, the bytes must match the card, and a warm instance
never loads a model twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from attribution.batches.request import ModelPin
from attribution.clock import now_utc
from attribution.config import load_settings
from attribution.devtools.slates import Slate

from .support import (
    OLD_NAME,
    SYSTEM,
    BatchWorld,
    dead_letters,
    predictions,
    publish,
    request,
    stamped_with,
    the_log,
)


@pytest.mark.parametrize("pin_by", ["model_sha256", "model_file_name"])
def test_a_pinned_model_wins_over_the_ledger(world: BatchWorld, slate: Slate, pin_by: str) -> None:
    app = world.app
    pin = ModelPin(**{pin_by: getattr(world.retrain, pin_by)})
    publish(app, request("b-pinned", slate.rows, pin=pin))
    publish(app, request("b-active", slate.rows))

    assert stamped_with(predictions(app, "b-pinned"), world.retrain)
    assert stamped_with(predictions(app, "b-active"), world.old)
    assert the_log(app, "b-pinned")["model_sha256"] == world.retrain.model_sha256
    assert the_log(app, "b-pinned")["model_pin"] == pin.reference
    assert the_log(app, "b-active")["model_pin"] is None
    assert the_log(app, "b-active")["model_card_id"] == world.old.card_id
    pinned = {r["player_lookup"]: r["predicted_points"] for r in predictions(app, "b-pinned")}
    active = {r["player_lookup"]: r["predicted_points"] for r in predictions(app, "b-active")}
    assert pinned != active  # two different models really ran


def test_a_promotion_between_two_batches_takes_effect_after_the_ledger_cache(
    make_world: Any, slate: Slate
) -> None:
    world = make_world(ledger_cache_seconds=30)
    app = world.app
    predictor = app.batch_predictor()
    assert predictor.active_models.ttl_seconds == 30
    now = [1000.0]
    predictor.active_models.clock = lambda: now[0]

    publish(app, request("b-before", slate.rows))
    app.ledger.promote(SYSTEM, world.retrain, by="tests", note="retrained")
    now[0] += 29  # still inside LEDGER_CACHE_SECONDS: the cached answer stands
    publish(app, request("b-cached", slate.rows))
    now[0] += 2  # past it: the next batch asks the ledger again
    publish(app, request("b-after", slate.rows))

    assert stamped_with(predictions(app, "b-before"), world.old)
    assert stamped_with(predictions(app, "b-cached"), world.old)
    assert stamped_with(predictions(app, "b-after"), world.retrain)
    assert app.batch_predictor() is predictor  # same warm instance: no redeploy
    assert predictor.models.loads == 2  # each model loaded once


def test_a_promotion_dated_in_the_future_is_not_active_yet(world: BatchWorld, slate: Slate) -> None:
    app = world.app
    app.ledger.promote(SYSTEM, world.retrain, at=now_utc() + timedelta(hours=1))
    app.active_models().forget()
    publish(app, request("b-future", slate.rows))
    assert stamped_with(predictions(app, "b-future"), world.old)


def test_ledger_cache_seconds_and_min_edge_come_from_the_environment() -> None:
    settings = load_settings({"LEDGER_CACHE_SECONDS": "0.5", "MIN_EDGE": "2"})
    assert (settings.ledger_cache_seconds, settings.min_edge) == (0.5, 2.0)


def test_replaced_model_bytes_fail_the_batch_with_hash_mismatch(
    world: BatchWorld, slate: Slate, models: Any
) -> None:
    """Someone overwrites the active model's object without publishing a card: nothing is
    predicted with bytes the card does not describe."""
    app = world.app
    name = f"{app.settings.models_prefix}{OLD_NAME}"
    app.models.write(name, models.retrain.read_bytes())  # no object_finalized: no new card

    delivery = publish(app, request("b-swapped", slate.rows))
    assert delivery.ok and delivery.attempts == 1  # acknowledged, not retried

    assert predictions(app, "b-swapped") == []
    log = the_log(app, "b-swapped")
    assert log["status"] == "failed" and log["rows_written"] == 0
    assert log["error"].startswith("hash_mismatch:")
    assert world.old.model_sha256 in log["error"]
    (letter,) = dead_letters(app)
    assert (letter["source"], letter["error_code"]) == ("prediction_batch", "hash_mismatch")
    assert '"batch_id":"b-swapped"' in letter["payload"]
    assert app.batch_predictor().models.loads == 0
    assert [c["model_sha256"] for c in app.registry.list(SYSTEM)] == [
        world.old.model_sha256,
        world.retrain.model_sha256,
    ]


def test_a_warm_instance_never_rereads_the_model(
    world: BatchWorld, slate: Slate, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = world.app
    bucket = app.models
    read = bucket.read
    reads: list[str] = []

    def counting_read(name: str) -> bytes:
        reads.append(name)
        return read(name)

    monkeypatch.setattr(bucket, "read", counting_read)
    for number in range(3):
        assert publish(app, request(f"b-warm-{number}", slate.rows)).ok
    assert app.batch_predictor().models.loads == 1
    assert reads == [f"{app.settings.models_prefix}{OLD_NAME}"]
    for number in range(3):
        assert stamped_with(predictions(app, f"b-warm-{number}"), world.old)
