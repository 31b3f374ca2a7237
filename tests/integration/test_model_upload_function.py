"""functions/model_upload through functions-framework's own app, on the embedded adapters.

Events are the ones Eventarc sends (``object_finalized_event``), posted as binary and as
structured CloudEvents. The App is an isolated embedded one (local bucket, DuckDB,
in-process bus) installed with ``use_app``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from functions_framework import create_app

from attribution.bootstrap import App, app, use_app
from attribution.cli.main import main as cli_main
from attribution.errors import TransientError
from attribution.events import (
    PUBSUB_PUBLISHED,
    object_finalized_event,
    object_notification,
    pubsub_event,
)
from attribution.function_manifest import function_specs
from attribution.model_card.card import card_from_json
from attribution.objects import StoredObject
from attribution.package_folders import schemas_dir
from attribution.ports import Row

SOURCE = Path(__file__).resolve().parents[2] / "functions" / "model_upload" / "main.py"
TARGET = "on_model_uploaded"
MODES = ["binary", "structured"]


@pytest.fixture(scope="module")
def client() -> Any:
    return create_app(TARGET, str(SOURCE), "cloudevent").test_client()  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def card_schema() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / "model_card.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def post(client: Any, event: CloudEvent, mode: str) -> int:
    if mode == "binary":
        headers, body = to_binary(event)
        headers["content-type"] = "application/json"
    else:
        headers, body = to_structured(event)
    response = client.post("/", headers=headers, data=body)
    return int(response.status_code)


def deliver(
    client: Any, obj: StoredObject, mode: str = "structured", *, event_id: str | None = None
) -> int:
    return post(client, object_finalized_event(obj, event_id=event_id), mode)


@dataclass
class State:
    """Everything model_upload can leave behind, read back from the embedded adapters."""

    cards: list[Row]
    rejects: list[Row]
    messages: list[dict[str, Any]]
    card_objects: list[StoredObject]
    alerts: list[Any]


def state(instance: App) -> State:
    topic = instance.settings.home / "bus" / "topics" / "model-cards.jsonl"
    lines = topic.read_text().splitlines() if topic.exists() else []
    return State(
        cards=instance.registry.list(),
        rejects=instance.registry.rejects(),
        messages=[json.loads(line) for line in lines],
        card_objects=list(instance.cards.list(instance.settings.cards_prefix)),
        alerts=list(instance.notifier.sent),  # type: ignore[attr-defined]
    )


def upload(
    instance: App, data: bytes, name: str = "models/catboost_v9.cbm", **metadata: str
) -> StoredObject:
    return instance.models.write(name, data, metadata=metadata)


def test_the_manifest_names_this_entry_point_and_trigger() -> None:
    spec = function_specs()["model_upload"]
    assert spec.entry_point == TARGET
    assert spec.event_type == PUBSUB_PUBLISHED
    assert spec.source.resolve() == SOURCE
    assert (spec.topic_env, spec.notifying_bucket_env) == ("MODEL_UPLOADS_TOPIC", "MODELS_BUCKET")


# --- the card is published ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_an_uploaded_model_is_carded_and_published(
    client: Any,
    embedded_app: App,
    old_model_bytes: bytes,
    mode: str,
    card_schema: jsonschema.Draft202012Validator,
) -> None:
    obj = upload(embedded_app, old_model_bytes)
    assert deliver(client, obj, mode) == 200

    after = state(embedded_app)
    assert len(after.cards) == 1
    row = after.cards[0]
    card = embedded_app.registry.get(row["card_id"])
    assert card is not None
    assert card.model_sha256 == hashlib.sha256(old_model_bytes).hexdigest()
    assert card.model_md5 == hashlib.md5(old_model_bytes).hexdigest()
    assert card.model_uri == "gs://models/models/catboost_v9.cbm"
    assert card.model_generation == obj.generation
    assert card.uploaded_at == obj.time_created
    assert card.is_complete
    assert (row["status"], row["system_id"], row["expected_mae"]) == (
        "complete",
        "catboost_v9",
        4.12,
    )

    # The card object: canonical JSON, valid against the schema, where the name says.
    [card_object] = after.card_objects
    assert card_object.name == f"cards/catboost_v9/{card.card_id}.json"
    text = embedded_app.cards.read(card_object.name).decode()
    assert text == card.canonical_json()
    assert card_from_json(text).card_id == card.card_id
    card_schema.validate(json.loads(text))

    # The message: the card itself, with system_id, card_id and model_sha256 attributes.
    [message] = after.messages
    assert message["attributes"]["system_id"] == "catboost_v9"
    assert message["attributes"]["card_id"] == card.card_id
    assert message["attributes"]["model_sha256"] == card.model_sha256
    assert base64.b64decode(message["data"]).decode() == text

    assert after.rejects == []
    assert after.alerts == []


def test_a_model_without_declared_facts_is_published_incomplete_and_announced(
    client: Any, embedded_app: App, models: Any, card_schema: jsonschema.Draft202012Validator
) -> None:
    obj = upload(embedded_app, models.factless.read_bytes(), "models/mystery.cbm")
    assert deliver(client, obj) == 200
    after = state(embedded_app)
    [row] = after.cards
    assert row["status"] == "incomplete"
    assert row["missing_facts"] == [
        "system_id",
        "training_start_date",
        "training_end_date",
        "expected_mae",
        "expected_hit_rate",
    ]
    [card_object] = after.card_objects
    assert card_object.name == f"cards/_unassigned/{row['card_id']}.json"
    card_schema.validate(json.loads(embedded_app.cards.read(card_object.name)))
    [message] = after.messages
    assert message["attributes"]["card_id"] == row["card_id"]
    assert message["attributes"]["system_id"] == ""
    [alert] = after.alerts
    assert alert.title == "Model card incomplete"
    assert alert.severity == "warning"
    assert "gs://models/models/mystery.cbm" in alert.text
    assert "expected_mae" in alert.text
    assert alert.fields["card_id"] == row["card_id"]
    # Redelivery announces nothing twice.
    assert deliver(client, obj) == 200
    assert len(state(embedded_app).alerts) == 1


def test_object_metadata_fills_facts_the_model_lacks(
    client: Any, embedded_app: App, models: Any
) -> None:
    obj = upload(
        embedded_app,
        models.factless.read_bytes(),
        "models/described.cbm",
        system_id="catboost_v8",
        training_start_date="2025-10-01",
        training_end_date="2025-12-31",
        expected_mae="4.4",
        expected_hit_rate="71.0",
    )
    assert deliver(client, obj, "binary") == 200
    [row] = state(embedded_app).cards
    assert (row["status"], row["system_id"], row["expected_mae"]) == (
        "complete",
        "catboost_v8",
        4.4,
    )


# --- exactly once --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_five_deliveries_of_one_event_leave_one_card(
    client: Any, embedded_app: App, old_model_bytes: bytes, mode: str
) -> None:
    obj = upload(embedded_app, old_model_bytes)
    event = object_finalized_event(obj, event_id="evt-1")
    assert [post(client, event, mode) for _ in range(5)] == [200] * 5
    after = state(embedded_app)
    assert len(after.cards) == 1
    assert len(after.messages) == 1
    assert len(after.card_objects) == 1
    assert after.rejects == []


def test_duplicate_notifications_with_new_event_ids_leave_one_card(
    client: Any, embedded_app: App, old_model_bytes: bytes
) -> None:
    obj = upload(embedded_app, old_model_bytes)
    for n in range(3):
        assert deliver(client, obj, MODES[n % 2], event_id=f"evt-{n}") == 200
    after = state(embedded_app)
    assert (len(after.cards), len(after.messages), len(after.card_objects)) == (1, 1, 1)


def test_the_same_bytes_uploaded_twice_under_one_name_leave_one_card(
    client: Any, embedded_app: App, old_model_bytes: bytes
) -> None:
    first = upload(embedded_app, old_model_bytes)
    assert deliver(client, first) == 200
    second = upload(embedded_app, old_model_bytes)
    assert second.generation != first.generation
    assert deliver(client, second) == 200
    after = state(embedded_app)
    assert len(after.cards) == 1
    assert after.cards[0]["model_generation"] == first.generation
    assert len(after.messages) == 1
    assert len(after.card_objects) == 1


def test_new_bytes_under_the_same_name_make_a_second_card(
    client: Any, embedded_app: App, models: Any
) -> None:
    old = upload(embedded_app, models.old.read_bytes())
    assert deliver(client, old) == 200
    [first] = state(embedded_app).cards
    new = upload(embedded_app, models.retrain.read_bytes())
    assert deliver(client, new) == 200
    after = state(embedded_app)
    assert len(after.cards) == 2
    assert {r["model_file_name"] for r in after.cards} == {"catboost_v9.cbm"}
    assert first["card_id"] in {r["card_id"] for r in after.cards}
    second = next(r for r in after.cards if r["card_id"] != first["card_id"])
    assert second["model_sha256"] == hashlib.sha256(models.retrain.read_bytes()).hexdigest()
    assert str(second["training_end_date"]) == "2026-02-28"
    assert embedded_app.registry.get(first["card_id"]) is not None
    assert len(after.messages) == 2
    assert len(after.card_objects) == 2
    # The file name now means the newest card.
    assert embedded_app.registry.resolve("catboost_v9.cbm").card_id == second["card_id"]


# --- what is not a model is acknowledged and left alone -----------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        ("models", "models/README.txt"),
        ("models", "models/catboost_v9.cbm.json"),
        ("models", "models/catboost_v9.onnx"),
        ("models", "catboost_v9.cbm"),
        ("models", "archive/catboost_v9.cbm"),
        ("models", "models-old/catboost_v9.cbm"),
        ("models", "batches/b1/input.jsonl"),
        ("other-bucket", "models/catboost_v9.cbm"),
    ],
)
def test_objects_that_are_not_models_are_ignored(
    client: Any,
    embedded_app: App,
    old_model_bytes: bytes,
    where: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bucket, name = where
    obj = embedded_app.store(bucket).write(name, old_model_bytes)
    with caplog.at_level(logging.INFO):
        assert deliver(client, obj) == 200
    assert state(embedded_app) == State([], [], [], [], [])
    ignored = [r for r in caplog.records if r.getMessage().startswith("ignored object")]
    assert [getattr(r, "object_uri", None) for r in ignored] == [f"gs://{bucket}/{name}"]


def test_an_upper_case_extension_is_still_a_model(
    client: Any, embedded_app: App, old_model_bytes: bytes
) -> None:
    obj = upload(embedded_app, old_model_bytes, "models/CATBOOST_V9.CBM")
    assert deliver(client, obj) == 200
    assert len(state(embedded_app).cards) == 1


@pytest.mark.parametrize("mode", MODES)
def test_the_card_objects_own_finalize_event_never_retriggers(
    client: Any, embedded_app: App, old_model_bytes: bytes, mode: str
) -> None:
    assert deliver(client, upload(embedded_app, old_model_bytes)) == 200
    before = state(embedded_app)
    [card_object] = before.card_objects
    assert card_object.bucket == embedded_app.settings.models_bucket  # same bucket, same trigger
    for _ in range(2):
        assert deliver(client, card_object, mode) == 200
    assert state(embedded_app) == before


def dead_letter_codes(instance: App) -> dict[str, str]:
    rows = instance.warehouse.query("SELECT event_id, error_code FROM dead_letters")
    return {r["event_id"]: r["error_code"] for r in rows}


def test_an_event_that_is_not_an_object_finalize_notification_is_kept_and_acknowledged(
    client: Any, embedded_app: App
) -> None:
    obj = StoredObject(bucket="models", name="models/catboost_v9.cbm", generation="1")
    data, attributes = object_notification(obj)
    deleted = pubsub_event(
        "projects/p/topics/model-uploads",
        data,
        {**attributes, "eventType": "OBJECT_DELETE"},
        message_id="d1",
    )
    bare = pubsub_event(
        "projects/p/topics/model-uploads",
        b"",
        {**attributes, "payloadFormat": "NONE"},
        message_id="d2",
    )
    nameless = pubsub_event(
        "projects/p/topics/model-uploads",
        json.dumps({"bucket": "models"}).encode(),
        attributes,
        message_id="d3",
    )
    storage_trigger = CloudEvent(  # the Cloud Storage trigger's own event: not how we deploy
        {"type": "google.cloud.storage.object.v1.finalized", "source": "//storage", "id": "d4"},
        {"bucket": "models", "name": "models/catboost_v9.cbm"},
    )
    for event, mode in [
        (deleted, "structured"),
        (bare, "binary"),
        (nameless, "structured"),
        (storage_trigger, "binary"),
    ]:
        assert post(client, event, mode) == 200
    assert state(embedded_app) == State([], [], [], [], [])
    assert dead_letter_codes(embedded_app) == {
        "d1": "wrong_event_type",
        "d2": "malformed_event",
        "d3": "malformed_event",
        "d4": "wrong_event_type",
    }


# --- bad input: acknowledged, recorded, announced; the registry is untouched --------------------


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def corrupt(data: bytes) -> bytes:
    damaged = bytearray(data)
    for offset in range(16, 48):
        damaged[offset] ^= 0xFF
    return bytes(damaged)


@dataclass(frozen=True)
class BadUpload:
    code: str
    problem: str
    content: Callable[[Any], bytes]
    metadata: Mapping[str, str] | None = None


BAD_UPLOADS = {
    "zero-byte": BadUpload("empty_file", "empty (0 bytes)", lambda m: b""),
    "truncated": BadUpload("corrupt_model", "truncated", lambda m: truncated(m.old.read_bytes())),
    "corrupt": BadUpload(
        "corrupt_model", "CatBoost could not load", lambda m: corrupt(m.old.read_bytes())
    ),
    "not-catboost": BadUpload(
        "not_catboost", "not a CatBoost binary model", lambda m: b"PK\x03\x04 a zip, really"
    ),
    "bad-date": BadUpload(
        "bad_metadata",
        "training_start_date='Nov 2, 2025' is not a date",
        lambda m: m.factless.read_bytes(),
        {"training_start_date": "Nov 2, 2025"},
    ),
    "bad-number": BadUpload(
        "bad_metadata",
        "expected_mae='4,12' is not a number",
        lambda m: m.factless.read_bytes(),
        {"expected_mae": "4,12"},
    ),
    "bad-timestamp": BadUpload(
        "bad_metadata",
        "trained_at='last tuesday' is not a timestamp",
        lambda m: m.factless.read_bytes(),
        {"trained_at": "last tuesday"},
    ),
    "end-before-start": BadUpload(
        "bad_metadata",
        "training_end_date 2025-11-02 is before training_start_date 2026-01-31",
        lambda m: m.factless.read_bytes(),
        {"training_start_date": "2026-01-31", "training_end_date": "2025-11-02"},
    ),
}


def cards_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """What ``attribution cards --json`` prints, run in-process on the installed App."""
    capsys.readouterr()
    assert cli_main(["--json", "cards"]) == 0
    output: dict[str, Any] = json.loads(capsys.readouterr().out)
    return output


def assert_rejected_once(
    instance: App,
    capsys: pytest.CaptureFixture[str],
    *,
    object_uri: str,
    code: str,
    problem: str,
    cards_before: Sequence[Row],
) -> None:
    after = state(instance)
    assert after.cards == list(cards_before)
    [reject] = after.rejects
    assert reject["object_uri"] == object_uri
    assert reject["error_code"] == code
    assert problem in reject["error"]
    [alert] = after.alerts
    assert alert.title == "Model upload rejected"
    assert alert.severity == "error"
    assert alert.fields["object"] == object_uri
    assert alert.fields["error_code"] == code
    assert problem in alert.text
    shown = cards_json(capsys)
    assert [(r["object_uri"], r["error_code"]) for r in shown["rejected_uploads"]] == [
        (object_uri, code)
    ]
    assert [c["card_id"] for c in shown["cards"]] == [c["card_id"] for c in cards_before]


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_uploads_are_acknowledged_recorded_and_announced_once(
    client: Any,
    embedded_app: App,
    models: Any,
    case: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert deliver(client, upload(embedded_app, models.old.read_bytes(), "models/good.cbm")) == 200
    good = state(embedded_app)
    bad = BAD_UPLOADS[case]
    obj = upload(embedded_app, bad.content(models), "models/bad.cbm", **(bad.metadata or {}))
    event = object_finalized_event(obj, event_id=f"bad-{case}")
    for mode in MODES:  # a redelivery, in the other content mode
        assert post(client, event, mode) == 200
    assert len(state(embedded_app).messages) == len(good.messages)
    assert state(embedded_app).card_objects == good.card_objects
    assert_rejected_once(
        embedded_app,
        capsys,
        object_uri="gs://models/models/bad.cbm",
        code=bad.code,
        problem=bad.problem,
        cards_before=good.cards,
    )
    [reject] = embedded_app.warehouse.query("SELECT * FROM model_upload_rejects")
    assert "gs://models/models/bad.cbm" in reject["error"]
    assert reject["object_generation"] == obj.generation
    assert reject["event_id"] == f"bad-{case}"


def test_a_model_over_max_model_bytes_is_rejected(
    client: Any, home: Path, old_model_bytes: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["MAX_MODEL_BYTES"] = "10000"
    instance = app()  # built from the environment, as in Cloud Functions
    assert instance.settings.max_model_bytes == 10_000
    obj = upload(instance, old_model_bytes)
    assert obj.size is not None and obj.size > 10_000
    assert deliver(client, obj) == 200
    assert_rejected_once(
        instance,
        capsys,
        object_uri=obj.uri,
        code="too_large",
        problem=f"{len(old_model_bytes)} bytes, over the 10000-byte limit",
        cards_before=[],
    )


@pytest.mark.parametrize(
    "name", ["models/../outside.cbm", "models/../../../../etc/evil.cbm", "models/a/../../b.cbm"]
)
def test_an_object_name_that_would_escape_the_bucket_folder_is_rejected(
    client: Any, embedded_app: App, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    obj = StoredObject(bucket="models", name=name, generation="7", size=100)
    for mode in MODES:
        assert deliver(client, obj, mode, event_id="escape") == 200
    assert_rejected_once(
        embedded_app,
        capsys,
        object_uri=f"gs://models/{name}",
        code="unsafe_object_name",
        problem="would escape the bucket folder",
        cards_before=[],
    )
    home = embedded_app.settings.home
    assert not (home / "buckets" / "outside.cbm").exists()
    assert not list(home.parent.glob("*.cbm"))


# --- transient failures: 500, so the platform redelivers ----------------------------------------


class UnavailableWarehouse:
    """A warehouse whose backend is down: every call raises TransientError."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise TransientError(f"warehouse unavailable ({name})")

        return fail


class FlakyRegistration:
    """The real warehouse, except that inserting into model_cards fails ``failures`` times."""

    def __init__(self, real: Any, failures: int) -> None:
        self.real = real
        self.failures = failures

    def insert_new_rows(self, table: str, rows: Any, key: Any, **kwargs: Any) -> int:
        if table == "model_cards" and self.failures > 0:
            self.failures -= 1
            raise TransientError("BigQuery answered 503")
        return int(self.real.insert_new_rows(table, rows, key, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def with_warehouse(instance: App, warehouse: Any) -> App:
    replaced = App(
        settings=instance.settings,
        warehouse=warehouse,
        publisher=instance.publisher,
        notifier=instance.notifier,
    )
    use_app(replaced)
    return replaced


@pytest.mark.parametrize("mode", MODES)
def test_an_unavailable_warehouse_answers_500_and_a_retry_succeeds(
    client: Any, embedded_app: App, old_model_bytes: bytes, mode: str
) -> None:
    obj = upload(embedded_app, old_model_bytes)
    with_warehouse(embedded_app, UnavailableWarehouse())
    assert deliver(client, obj, mode, event_id="evt-t") == 500
    assert deliver(client, obj, mode, event_id="evt-t") == 500
    use_app(embedded_app)
    after_failures = state(embedded_app)
    assert after_failures == State([], [], [], [], [])  # no reject, no alert: not the input's fault
    assert deliver(client, obj, mode, event_id="evt-t") == 200
    assert len(state(embedded_app).cards) == 1


def test_a_failure_after_publishing_is_retried_into_one_card(
    client: Any, embedded_app: App, old_model_bytes: bytes
) -> None:
    obj = upload(embedded_app, old_model_bytes)
    with_warehouse(embedded_app, FlakyRegistration(embedded_app.warehouse, failures=1))
    assert deliver(client, obj, event_id="evt-f") == 500
    assert deliver(client, obj, event_id="evt-f") == 200
    assert deliver(client, obj, event_id="evt-f") == 200
    after = state(embedded_app)
    assert len(after.cards) == 1
    assert len(after.card_objects) == 1
    assert after.rejects == []
    # The message may have gone out before the failure; every copy names the same card.
    assert {m["attributes"]["card_id"] for m in after.messages} == {after.cards[0]["card_id"]}


def test_the_in_process_bus_redelivers_a_transient_failure_then_dead_letters(
    embedded_app: App, old_model_bytes: bytes
) -> None:
    from attribution.adapters.embedded.inprocess_bus import InProcessBus

    obj = upload(embedded_app, old_model_bytes)
    bus = embedded_app.publisher
    assert isinstance(bus, InProcessBus)
    with_warehouse(embedded_app, UnavailableWarehouse())
    [delivery] = bus.object_finalized(obj)
    assert (delivery.status_code, delivery.attempts) == (500, bus.max_attempts)
    dead = (embedded_app.settings.home / "bus" / "dead-letters.jsonl").read_text().splitlines()
    message = json.loads(dead[0])["event"]["data"]["message"]
    assert json.loads(base64.b64decode(message["data"]))["name"] == "models/catboost_v9.cbm"
    assert message["attributes"]["eventType"] == "OBJECT_FINALIZE"
    use_app(embedded_app)
    [delivery] = bus.object_finalized(obj)
    assert delivery.ok
    assert len(state(embedded_app).cards) == 1
