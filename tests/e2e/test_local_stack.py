"""End to end on the local stack, with the Google Cloud adapters for storage and messaging.

``attribution serve`` runs in a process of its own (the three functions under
functions-framework, push subscriptions, the bucket watcher); this test process is "the
user": it uploads to the emulator bucket, publishes on the emulator's topics and reads the
shared DuckDB warehouse, each with the adapters the stack exports in its environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import functions_framework
import pyarrow as pa
import pytest
from app_support import inline_batch
from emulators import emulator_unavailable, free_port
from werkzeug.serving import make_server

from attribution.adapters.embedded.duckdb_shared import SharedDuckDBWarehouse
from attribution.adapters.google_cloud.gcs_store import GcsStore
from attribution.adapters.google_cloud.pubsub_publisher import PubSubPublisher
from attribution.bootstrap import App, build_app, use_app
from attribution.cli.main import main as cli_main
from attribution.config import (
    ObjectStoreKind,
    PublisherKind,
    Settings,
    WarehouseKind,
    load_settings,
)
from attribution.devtools.local_stack.emulators import pubsub_unavailable, storage_unavailable
from attribution.devtools.local_stack.topology import PushRoute, ensure_pubsub, pull_subscription
from attribution.devtools.slates import slate_for
from attribution.devtools.training import TrainingSpec, train_model
from attribution.events import object_finalized_event, parse_object_finalized
from attribution.function_manifest import function_specs
from attribution.model_card.card import card_from_json
from attribution.model_card.publishing import card_object_name
from attribution.ports import Row
from attribution.verification.game_results import load_results
from e2e.support import ServedStack, start_serve

pytestmark = pytest.mark.emulator

SYSTEM = "catboost_v9"
DAY = date(2026, 2, 3)
CLI_DAY = date(2026, 2, 4)
PLAYERS = 60
WAIT = 60.0

T = TypeVar("T")


def eventually(check: Callable[[], T | None], *, timeout: float = WAIT, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e-model")
    return train_model(TrainingSpec(rows=2000, iterations=30, depth=4), folder / "e2e_v9.cbm")


@pytest.fixture
def user(stack: ServedStack) -> Iterator[App]:
    """This process as a user of the stack: its exported environment, its App."""
    os.environ.update(stack.env)  # tests/conftest.py restores the environment afterwards
    settings = load_settings()
    assert settings.object_store_kind is ObjectStoreKind.GCS
    assert settings.publisher_kind is PublisherKind.PUBSUB
    assert settings.warehouse_kind is WarehouseKind.DUCKDB
    instance = build_app(settings)
    assert isinstance(instance.warehouse, SharedDuckDBWarehouse)
    assert isinstance(instance.models, GcsStore)
    use_app(instance)
    yield instance
    use_app(None)


def query(app: App, sql: str, **params: Any) -> list[Row]:
    return app.warehouse.query(sql, params)


def execution_log(app: App, batch_id: str) -> list[Row]:
    return query(app, "SELECT * FROM prediction_execution_log WHERE batch_id = @b", b=batch_id)


def finished_run(app: App, batch_id: str) -> list[Row] | None:
    """The batch's execution-log row once its run has ended (the row is written "running"
    when the run starts), else None."""
    rows = execution_log(app, batch_id)
    return rows if rows and rows[0]["status"] != "running" else None


def predictions(app: App, batch_id: str) -> list[Row]:
    return query(app, "SELECT * FROM player_prop_predictions WHERE batch_id = @b", b=batch_id)


def pull(project: str, subscription: str, *, expect: int, wait: float = 20.0) -> list[Any]:
    from google.cloud.pubsub_v1 import SubscriberClient

    subscriber = SubscriberClient()
    path = subscriber.subscription_path(project, subscription)
    received: list[Any] = []
    deadline = time.monotonic() + wait
    try:
        while len(received) < expect and time.monotonic() < deadline:
            response = subscriber.pull(subscription=path, max_messages=10, timeout=5)
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=path, ack_ids=[m.ack_id for m in response.received_messages]
                )
                received.extend(m.message for m in response.received_messages)
    finally:
        subscriber.close()
    return received


def verification_runs(app: App, day: date) -> list[Row]:
    return query(
        app,
        "SELECT verdict, coverage_pct FROM verification_runs "
        "WHERE game_date = @d AND system_id = @s ORDER BY started_at",
        d=day,
        s=SYSTEM,
    )


def handled(batch_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("message") == "batch handled" and e.get("batch_id") == batch_id


def test_upload_card_batch_redelivery_and_verification_through_the_stack(
    stack: ServedStack,
    user: App,
    model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = user.settings
    project = stack.env["GCP_PROJECT"]

    # Upload: the CLI only writes the object; the watcher fires model_upload; the CLI waits.
    assert cli_main(["upload", str(model_path), "--wait", str(WAIT)]) == 0
    uri = f"gs://{settings.models_bucket}/{settings.models_prefix}{model_path.name}"
    assert f"uploaded {uri}" in capsys.readouterr().out
    data = model_path.read_bytes()
    card = user.registry.for_object_bytes(uri, hashlib.sha256(data).hexdigest())
    assert card is not None and card.is_complete
    stored = user.models.stat(f"{settings.models_prefix}{model_path.name}")
    assert stored is not None and card.model_generation == stored.generation
    card_object = user.cards.read(card_object_name(card, settings))
    assert card_from_json(card_object.decode()) == card
    announced = pull(project, pull_subscription(settings.model_cards_topic), expect=1)
    assert [m.attributes["card_id"] for m in announced] == [card.card_id]

    assert cli_main(["promote", SYSTEM, card.card_id, "--by", "e2e"]) == 0

    # A batch request on the emulator's topic; the push subscription delivers it.
    batch_id = f"e2e-{uuid.uuid4().hex[:8]}"
    request = inline_batch(batch_id, SYSTEM, DAY, slate_for(DAY, players=PLAYERS).rows)
    publisher = PubSubPublisher(project)
    publisher.publish(settings.prediction_batches_topic, request.encode(), {"batch_id": batch_id})
    log = eventually(lambda: finished_run(user, batch_id), what="the run's end in the log")
    assert len(log) == 1 and log[0]["status"] == "success"
    assert log[0]["rows_written"] == PLAYERS and log[0]["model_card_id"] == card.card_id
    rows = predictions(user, batch_id)
    assert len(rows) == PLAYERS
    assert {(r["model_card_id"], r["model_sha256"], r["model_file_name"]) for r in rows} == {
        (card.card_id, card.model_sha256, card.model_file_name)
    }
    assert {r["attribution_method"] for r in rows} == {"stamped"}
    assert {r["model_training_end_date"] for r in rows} == {card.training_end_date}

    # Nobody asks: the batch announced its end, and its day is verified once its window of
    # completions (VERIFY_COALESCE_SECONDS) closes.
    post_run = eventually(
        lambda: verification_runs(user, DAY) or None, what="the post-run verification"
    )
    assert len(post_run) == 1

    # The very same message again: delivered and handled, nothing duplicated.
    publisher.publish(settings.prediction_batches_topic, request.encode(), {"batch_id": batch_id})
    stack.wait_for_log(handled(batch_id), count=2)
    assert len(predictions(user, batch_id)) == PLAYERS
    assert len(execution_log(user, batch_id)) == 1
    pushes = [
        e
        for e in stack.logs()
        if e.get("message") == "request" and str(e.get("path", "")).startswith("/prediction_batch/")
    ]
    assert len(pushes) >= 2 and {e["status"] for e in pushes} == {"200"}

    # The CLI's predict publishes and waits for the batch's log row.
    slate = tmp_path / "slate.jsonl"
    slate.write_text("".join(json.dumps(r) + "\n" for r in slate_for(CLI_DAY, players=20).rows))
    code = cli_main(
        [
            "predict",
            "--system-id",
            SYSTEM,
            "--game-date",
            CLI_DAY.isoformat(),
            "--input",
            str(slate),
        ]
    )
    assert code == 0
    assert "success, 20 written, 0 rejected of 20" in capsys.readouterr().out

    # Results, then a verification request on Pub/Sub: the verifier records PASS.
    results = slate_for(DAY, players=PLAYERS).results
    assert load_results(user.warehouse, pa.Table.from_pylist(results)).loaded == PLAYERS
    publisher.publish(
        settings.verification_requests_topic,
        json.dumps({"game_date": DAY.isoformat(), "system_id": SYSTEM}).encode(),
        {},
    )
    runs = eventually(
        lambda: runs if len(runs := verification_runs(user, DAY)) == 2 else None,
        what="the requested verification's row",
    )
    assert [(r["verdict"], r["coverage_pct"]) for r in runs[1:]] == [("PASS", 100.0)]

    # The HTTP verifier answers the same.
    body = json.dumps({"game_date": DAY.isoformat(), "system_id": SYSTEM}).encode()
    http = urllib.request.Request(
        f"{stack.url}/verify", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(http, timeout=WAIT) as response:
        verdicts = json.loads(response.read())["verdicts"]
    assert [v["verdict"] for v in verdicts] == ["PASS"]


def test_pubsub_push_subscription_drives_prediction_batch_under_functions_framework(
    pubsub_emulator: str, gcs_bucket: str, gcp_project: str, model_path: Path, tmp_path: Path
) -> None:
    """Just the push path: emulator push subscription -> functions-framework serving
    prediction_batch (its raw Pub/Sub push body converted to a CloudEvent by the framework)."""
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        home=tmp_path,
        project=gcp_project,
        object_store=ObjectStoreKind.GCS,
        warehouse=WarehouseKind.DUCKDB,
        publisher=PublisherKind.PUBSUB,
        models_bucket=gcs_bucket,
        cards_bucket=gcs_bucket,
        prediction_batches_topic=f"batches-{suffix}",
        model_cards_topic=f"cards-{suffix}",
    )
    instance = build_app(settings)
    use_app(instance)
    spec = function_specs()["prediction_batch"]
    create_app: Any = functions_framework.create_app
    server = make_server(
        "127.0.0.1", 0, create_app(spec.entry_point, str(spec.source), "cloudevent"), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        ensure_pubsub(
            gcp_project,
            [PushRoute(settings.prediction_batches_topic, "prediction_batch", base)],
            [settings.model_cards_topic],
        )
        stored = instance.models.write(
            f"{settings.models_prefix}pushed.cbm", model_path.read_bytes()
        )
        outcome = instance.card_publisher().handle(
            parse_object_finalized(object_finalized_event(stored))
        )
        assert outcome.card is not None
        instance.ledger.promote(SYSTEM, outcome.card, by="e2e")

        batch_id = f"push-{suffix}"
        request = inline_batch(batch_id, SYSTEM, DAY, slate_for(DAY, players=10).rows)
        message_id = instance.publisher.publish(
            settings.prediction_batches_topic, request.encode(), {"origin": "e2e"}
        )
        log = eventually(lambda: finished_run(instance, batch_id), what="the run's end")
        assert log[0]["status"] == "success" and log[0]["rows_written"] == 10
        assert log[0]["model_card_id"] == outcome.card.card_id
        full = query(
            instance,
            "SELECT message_id FROM prediction_execution_log WHERE batch_id = @b",
            b=batch_id,
        )
        assert full == [{"message_id": message_id}]  # the push body's messageId, via the framework
        assert {r["model_card_id"] for r in predictions(instance, batch_id)} == {
            outcome.card.card_id
        }
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        use_app(None)
        close = getattr(instance.warehouse, "close", None)
        if close is not None:
            close()


def test_serve_starts_its_own_emulators_prints_usage_and_stops_them_all(tmp_path: Path) -> None:
    for reason in (pubsub_unavailable(), storage_unavailable()):
        if reason:
            emulator_unavailable(reason)
    served = start_serve(
        tmp_path / "home",
        ["--port=0", f"--pubsub-port={free_port()}", f"--storage-port={free_port()}"],
        {"GCP_PROJECT": "serve-test"},
    )
    try:
        pids = served.description["pids"]
        assert set(pids) == {"serve", "Pub/Sub", "GCS"}
        usage = eventually(
            lambda: served.stdout.read_text() or None, timeout=10, what="the printed usage"
        )
        for expected in (
            f"export PUBSUB_EMULATOR_HOST={served.env['PUBSUB_EMULATOR_HOST']}",
            f"export STORAGE_EMULATOR_HOST={served.env['STORAGE_EMULATOR_HOST']}",
            "export PUBLISHER=pubsub",
            "export GCP_PROJECT=serve-test",
            "attribution upload",
            "attribution predict",
            "Eventarc stand-in",
        ):
            assert expected in usage
        with urllib.request.urlopen(f"{served.url}/", timeout=10) as response:
            assert set(json.loads(response.read())["functions"]) == {
                "/model_upload",
                "/prediction_batch",
                "/post_run_verifier",
                "/verifier",
                "/verify",
            }
    finally:
        code = served.stop()
    assert code == 0, served.stderr.read_text()[-2000:]
    assert not (served.home / "stack.json").exists()
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
