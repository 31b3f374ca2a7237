"""Permanent failures are logged, recorded, dead-lettered with the raw message and
acknowledged (HTTP 200); nothing is predicted and a redelivery adds nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from attribution.batches.request import PUBSUB_MAX_MESSAGE_BYTES, ModelPin
from attribution.devtools.slates import Slate
from attribution.errors import PermanentError
from attribution.logs import JsonFormatter

from .support import (
    BatchWorld,
    batch_event,
    batch_spec,
    claim_check,
    count,
    dead_letters,
    log_rows,
    post,
    predictions,
    publish,
    request,
    the_log,
)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _refused(world: BatchWorld, data: bytes, code: str) -> dict[str, Any]:
    """Deliver ``data`` three times as one Pub/Sub message; the one dead letter it left."""
    event = batch_event(data, message_id="m-refused")
    errors = _Records()
    logging.getLogger().addHandler(errors)
    try:
        for _ in range(3):
            delivery = world.bus.deliver(batch_spec(), event)
            assert delivery.ok and delivery.attempts == 1  # 200: acknowledged, not retried
    finally:
        logging.getLogger().removeHandler(errors)
    (letter,) = dead_letters(world.app)
    assert letter["source"] == "prediction_batch"
    assert letter["error_code"] == code
    assert letter["event_id"] == "m-refused"
    assert letter["payload"] == data.decode("utf-8", "replace")
    assert count(world.app, "player_prop_predictions") == 0

    # logged as structured JSON Cloud Logging reads, naming what went wrong
    logged = [json.loads(JsonFormatter().format(r)) for r in errors.records]
    assert logged and all(entry["severity"] == "ERROR" for entry in logged)
    assert any(code in str(entry.get("error_code", entry.get("error"))) for entry in logged)
    return letter


def test_a_message_that_is_not_json_is_dead_lettered(world: BatchWorld) -> None:
    letter = _refused(world, b"{batch_id: oops", "malformed_message")
    assert "not JSON" in letter["error"]
    assert count(world.app, "prediction_execution_log") == 0  # no batch_id to log under


def test_an_invalid_message_is_logged_under_its_batch_id(world: BatchWorld, slate: Slate) -> None:
    message = request("b-invalid", slate.rows).to_message()
    del message["system_id"]
    letter = _refused(world, json.dumps(message).encode(), "invalid_message")
    assert "'system_id' is a required property" in letter["error"]
    log = the_log(world.app, "b-invalid")
    assert log["status"] == "failed"
    assert log["error"].startswith("invalid_message: batch b-invalid:")
    assert log["message_id"] == "m-refused"


def test_rows_and_rows_uri_together_are_refused_by_name(world: BatchWorld, slate: Slate) -> None:
    message = request("b-both", slate.rows[:2]).to_message() | {"rows_uri": "gs://models/x.csv"}
    letter = _refused(world, json.dumps(message).encode(), "invalid_message")
    assert "rows (inline) or rows_uri (a claim check), not both" in letter["error"]
    assert len(letter["error"]) < 200  # names the problem; does not dump the message


def test_an_unknown_system_has_no_model(world: BatchWorld, slate: Slate) -> None:
    data = request("b-nosys", slate.rows, system_id="catboost_v10").encode()
    letter = _refused(world, data, "no_model")
    assert "promote" in letter["error"] and "catboost_v10" in letter["error"]
    log = the_log(world.app, "b-nosys")
    assert (log["status"], log["system_id"], log["model_sha256"]) == (
        "failed",
        "catboost_v10",
        None,
    )


def test_a_system_with_no_promotion_yet_has_no_model(make_world: Any, slate: Slate) -> None:
    world = make_world(promote=False)
    _refused(world, request("b-unpromoted", slate.rows).encode(), "no_model")


@pytest.mark.parametrize(
    ("pin", "code"),
    [
        (ModelPin(model_sha256="0" * 64), "unknown_model"),
        (ModelPin(model_file_name="catboost_v9_missing.cbm"), "unknown_model"),
    ],
)
def test_a_pin_to_an_unknown_model_is_refused(
    world: BatchWorld, slate: Slate, pin: ModelPin, code: str
) -> None:
    letter = _refused(world, request("b-badpin", slate.rows, pin=pin).encode(), code)
    assert pin.reference in letter["error"]
    assert the_log(world.app, "b-badpin")["status"] == "failed"


def test_a_pin_to_another_systems_model_is_refused(world: BatchWorld, slate: Slate) -> None:
    pin = ModelPin(model_sha256=world.retrain.model_sha256)
    data = request("b-wrongsys", slate.rows, pin=pin, system_id="xgb_v2").encode()
    letter = _refused(world, data, "wrong_system")
    assert "catboost_v9" in letter["error"]


@pytest.mark.parametrize(
    ("rows_uri", "code"),
    [
        ("gs://models/batches/never-written.jsonl", "object_not_found"),
        ("gs://models/batches/../../../etc/passwd.csv", "unsafe_object_name"),
        ("https://example.com/rows.csv", "invalid_message"),
        ("gs://models/batches/rows.txt", "invalid_message"),
    ],
)
def test_a_bad_claim_check_uri_is_refused(world: BatchWorld, rows_uri: str, code: str) -> None:
    message = request("b-baduri").to_message() | {"rows_uri": rows_uri}
    letter = _refused(world, json.dumps(message).encode(), code)
    assert "rows_uri" in letter["error"] or rows_uri.split("/", 3)[-1] in letter["error"]
    assert the_log(world.app, "b-baduri")["status"] == "failed"


def test_an_unreadable_claim_check_is_refused(world: BatchWorld) -> None:
    stored = world.app.models.write("batches/garbage.parquet", b"this is not parquet")
    letter = _refused(world, request("b-garbage", rows_uri=stored.uri).encode(), "unreadable_input")
    assert stored.uri in letter["error"]
    assert the_log(world.app, "b-garbage")["input_uri"] == stored.uri


def test_an_inline_batch_over_the_pubsub_limit_is_refused_with_advice(
    world: BatchWorld, slate: Slate
) -> None:
    row = slate.rows[0]
    row_bytes = len(json.dumps(row, separators=(",", ":"))) + 1
    big = request("b-big", [row] * (PUBSUB_MAX_MESSAGE_BYTES // row_bytes + 10))
    with pytest.raises(PermanentError) as refused:
        big.encode()
    assert refused.value.code == "batch_too_large"
    assert "rows_uri" in refused.value.message

    # A sender that ignores the advice: the function refuses it too, and keeps it.
    data = json.dumps(big.to_message()).encode()
    assert len(data) > PUBSUB_MAX_MESSAGE_BYTES
    letter = _refused(world, data, "batch_too_large")
    assert "rows_uri" in letter["error"]
    assert the_log(world.app, "b-big")["status"] == "failed"


def test_an_event_that_is_not_a_pubsub_message_is_dead_lettered(
    world: BatchWorld, function_client: Any
) -> None:
    event = CloudEvent(
        {
            "type": "google.cloud.storage.object.v1.finalized",
            "source": "//storage.googleapis.com/projects/_/buckets/models",
            "id": "e-wrong",
        },
        {"bucket": "models", "name": "models/x.cbm"},
    )
    assert post(function_client, event) == 200
    assert post(function_client, event, binary=True) == 200
    (letter,) = dead_letters(world.app)
    assert (letter["error_code"], letter["event_id"]) == ("wrong_event_type", "e-wrong")
    assert log_rows(world.app, "e-wrong") == []


def test_a_pubsub_event_without_a_message_is_dead_lettered(
    world: BatchWorld, function_client: Any
) -> None:
    event = batch_event(b"{}", message_id="m-empty")
    event.data = {"subscription": "projects/local/subscriptions/x"}
    assert post(function_client, event) == 200
    (letter,) = dead_letters(world.app)
    assert letter["error_code"] == "malformed_event"


def test_a_failed_batch_runs_again_once_its_cause_is_fixed(make_world: Any, slate: Slate) -> None:
    """No model was promoted: the batch fails. Promote one and send the same batch again (the
    same id and rows): it runs, completely, once; a third delivery changes nothing."""
    world = make_world(promote=False)
    data = request("b-again", slate.rows).encode()
    assert publish(world.app, data).ok
    failed = the_log(world.app, "b-again")
    assert failed["status"] == "failed" and "no_model" in failed["error"]
    assert failed["input_sha256"]  # the input it failed on
    world.app.ledger.promote("catboost_v9", world.old)
    world.app.active_models().forget()

    assert publish(world.app, data).ok  # a new message id, the same batch
    done = the_log(world.app, "b-again")
    assert (done["status"], done["rows_written"], done["error"]) == ("success", 40, None)
    assert done["input_sha256"] == failed["input_sha256"]
    assert len(predictions(world.app, "b-again")) == 40
    assert len(log_rows(world.app, "b-again")) == 1
    assert [d["error_code"] for d in dead_letters(world.app)] == ["no_model"]

    assert publish(world.app, data).ok
    assert len(predictions(world.app, "b-again")) == 40
    assert the_log(world.app, "b-again")["logged_at"] == done["logged_at"]


def test_claim_check_helpers_write_where_the_function_reads(
    world: BatchWorld, slate: Slate
) -> None:
    uri = claim_check(world.app, "b-ok", slate.rows[:3], "csv")
    assert publish(world.app, request("b-ok", rows_uri=uri)).ok
    assert the_log(world.app, "b-ok")["rows_written"] == 3
