"""The local stack's parts without emulators: the shared DuckDB warehouse across processes,
the dispatcher (every function in one WSGI app, a raw Pub/Sub push body converted by
functions-framework), and the bucket watcher that stands in for the bucket's notifications."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app_support import inline_batch
from cloudevents.conversion import to_structured
from werkzeug.test import Client

from attribution.adapters.embedded.duckdb_shared import SharedDuckDBWarehouse
from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.adapters.embedded.local_bucket import LocalBucket
from attribution.bootstrap import App
from attribution.devtools.local_stack.dispatcher import functions_app
from attribution.devtools.local_stack.watcher import BucketWatcher
from attribution.devtools.slates import slate_for
from attribution.events import object_finalized_event, parse_object_finalized, pubsub_event
from attribution.objects import StoredObject
from attribution.warehouse.migrations import migrate

# ------------------------------------------------------------------ shared DuckDB

_WRITER = """
import sys
from datetime import UTC, datetime
from attribution.adapters.embedded.duckdb_shared import SharedDuckDBWarehouse
warehouse = SharedDuckDBWarehouse(sys.argv[1], wait_seconds=float(sys.argv[3]))
for i in range(int(sys.argv[2])):
    warehouse.insert_new_rows("dead_letters", [{
        "dead_letter_id": f"child-{i}", "source": "test", "error_code": "x", "error": "x",
        "payload": "", "received_at": datetime.now(UTC)}], ["dead_letter_id"])
print(warehouse.query("SELECT COUNT(*) AS n FROM dead_letters")[0]["n"])
"""


def _run_writer(path: Path, rows: int, wait: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(rows), str(wait)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _dead_letter(i: int) -> dict[str, Any]:
    return {
        "dead_letter_id": f"parent-{i}",
        "source": "test",
        "error_code": "x",
        "error": "x",
        "payload": "",
        "received_at": datetime.now(UTC),
    }


def test_two_processes_take_turns_on_a_shared_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    shared = SharedDuckDBWarehouse(path)
    with shared.session() as held:
        migrate(held)
    child = _run_writer(path, 25, 30.0)
    written = 0
    deadline = time.monotonic() + 120
    while (written < 25 or child.poll() is None) and time.monotonic() < deadline:
        # Keep using the file for as long as the child does.
        if written < 25:
            shared.insert_new_rows("dead_letters", [_dead_letter(written)], ["dead_letter_id"])
            written += 1
        shared.query("SELECT COUNT(*) AS n FROM dead_letters")
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert int(out) >= 25
    assert shared.query("SELECT COUNT(*) AS n FROM dead_letters") == [{"n": 50}]


def test_a_process_holding_the_file_makes_a_shared_user_wait_then_give_up(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    exclusive = DuckDBWarehouse(path)
    migrate(exclusive)
    child = _run_writer(path, 1, 0.5)
    _, err = child.communicate(timeout=60)
    assert child.returncode != 0 and "WarehouseLockedError" in err
    assert "is in use by process" in err and "still locked after 0 s" in err
    exclusive.close()
    child = _run_writer(path, 1, 10.0)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == "1"


# ------------------------------------------------------------------ dispatcher


def _push_body(data: bytes, message_id: str, subscription: str) -> dict[str, Any]:
    """What a Pub/Sub push subscription POSTs (the emulator's shape)."""
    return {
        "subscription": subscription,
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": {"origin": "tests"},
            "messageId": message_id,
            "message_id": message_id,
            "publishTime": "2026-02-03T12:00:00.000Z",
        },
    }


def test_the_dispatcher_serves_every_function_and_takes_raw_pubsub_push_bodies(
    embedded_app: App, models: Any
) -> None:
    client = Client(functions_app())
    listing = client.get("/").get_json()
    assert set(listing["functions"]) == {
        "/model_upload",
        "/prediction_batch",
        "/post_run_verifier",
        "/verifier",
        "/verify",
    }
    assert client.post("/nowhere").status_code == 404

    # /model_upload (no trailing slash) is the function itself, not a redirect.
    name = f"{embedded_app.settings.models_prefix}catboost_v9_old.cbm"
    stored = embedded_app.models.write(name, models.old.read_bytes())
    headers, body = to_structured(object_finalized_event(stored))
    assert client.post("/model_upload", headers=headers, data=body).status_code == 200
    (card_row,) = embedded_app.registry.list()
    card = embedded_app.registry.resolve(card_row["card_id"])
    embedded_app.ledger.promote("catboost_v9", card, by="tests")

    day = date(2026, 2, 3)
    request = inline_batch("pushed-1", "catboost_v9", day, slate_for(day, players=8).rows)
    response = client.post(
        "/prediction_batch/projects/local/topics/prediction-batches",
        json=_push_body(request.encode(), "42", "projects/local/subscriptions/to-batch"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    log = embedded_app.warehouse.query(
        "SELECT status, rows_written, message_id, model_card_id FROM prediction_execution_log "
        "WHERE batch_id = 'pushed-1'"
    )
    assert log == [
        {"status": "success", "rows_written": 8, "message_id": "42", "model_card_id": card.card_id}
    ]

    verification = client.post("/verify", json={"game_date": "2026-02-03"})
    assert verification.status_code == 200
    assert [v["system_id"] for v in verification.get_json()["verdicts"]] == ["catboost_v9"]


# ------------------------------------------------------------------ watcher


class _Topic:
    """A Publisher (our own port) that records messages and fails the publishes it is told to."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, dict[str, str]]] = []
        self.failures = 0
        self.attempts = 0

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("emulator restarting")
        self.messages.append((topic, data, dict(attributes)))
        return str(len(self.messages))


def _announced(message: tuple[str, bytes, dict[str, str]]) -> StoredObject:
    topic, data, attributes = message
    event = pubsub_event(f"projects/local/topics/{topic}", data, attributes)
    return parse_object_finalized(event).object


def test_the_watcher_notifies_each_new_generation_once_and_retries_failed_publishes(
    tmp_path: Path,
) -> None:
    store = LocalBucket(tmp_path, "models")
    topic = _Topic()
    watcher = BucketWatcher(store, "models/", topic, "model-uploads", max_attempts=3)
    first = store.write("models/a.cbm", b"one", metadata={"system_id": "catboost_v9"})
    store.write("cards/x.json", b"{}")  # not under the prefix: never announced
    assert watcher.poll_once() == 1
    assert watcher.poll_once() == 0
    (message,) = topic.messages
    assert message[0] == "model-uploads"
    assert message[2]["eventType"] == "OBJECT_FINALIZE"
    assert message[2]["payloadFormat"] == "JSON_API_V1"
    announced = _announced(message)
    assert (announced.bucket, announced.name, announced.generation) == (
        "models",
        "models/a.cbm",
        first.generation,
    )
    assert announced.metadata == {"system_id": "catboost_v9"}
    assert announced.md5_hex == first.md5_hex

    second = store.write("models/a.cbm", b"two")  # a new generation is a new notification
    topic.failures = 2
    assert [watcher.poll_once() for _ in range(3)] == [0, 0, 1]
    assert _announced(topic.messages[1]).generation == second.generation

    store.write("models/b.cbm", b"three")
    topic.failures = 5
    assert [watcher.poll_once() for _ in range(4)] == [0, 0, 0, 0]
    assert topic.attempts == 1 + 3 + 3  # b.cbm given up after 3 attempts
    assert len(topic.messages) == 2
