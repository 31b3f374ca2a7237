"""The local stack's parts without emulators: the shared DuckDB warehouse across processes,
the dispatcher (every function in one WSGI app, a raw Pub/Sub push body converted by
functions-framework), and the bucket watcher that stands in for Eventarc."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_structured
from werkzeug.test import Client

from attribution.adapters.duckdb_shared import SharedDuckDBWarehouse
from attribution.adapters.duckdb_warehouse import DuckDBWarehouse
from attribution.adapters.local_bucket import LocalBucket
from attribution.batch_request import BatchRequest, RunMode
from attribution.bootstrap import App
from attribution.events import STORAGE_FINALIZED, object_finalized_event
from attribution.local_stack.dispatcher import functions_app
from attribution.local_stack.watcher import BucketWatcher
from attribution.migrations import migrate
from attribution.slates import slate_for

# ------------------------------------------------------------------ shared DuckDB

_WRITER = """
import sys
from datetime import UTC, datetime
from attribution.adapters.duckdb_shared import SharedDuckDBWarehouse
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

    request = BatchRequest(
        batch_id="pushed-1",
        system_id="catboost_v9",
        game_date=date(2026, 2, 3),
        run_mode=RunMode.OVERNIGHT,
        pin=None,
        rows=slate_for(date(2026, 2, 3), players=8).rows,
        rows_uri=None,
    )
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


class _Endpoint:
    """A local HTTP server that records POSTed bodies and answers with queued statuses."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                endpoint.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(endpoint.statuses.pop(0) if endpoint.statuses else 200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/model_upload"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[_Endpoint]:
    server = _Endpoint()
    yield server
    server.close()


def test_the_watcher_announces_each_new_generation_once_and_retries_failures(
    tmp_path: Path, endpoint: _Endpoint
) -> None:
    store = LocalBucket(tmp_path, "models")
    watcher = BucketWatcher(store, "models/", endpoint.url, max_attempts=3)
    first = store.write("models/a.cbm", b"one", metadata={"system_id": "catboost_v9"})
    store.write("cards/x.json", b"{}")  # not under the prefix: never announced
    assert watcher.poll_once() == 1
    assert watcher.poll_once() == 0
    (event,) = endpoint.bodies
    assert event["type"] == STORAGE_FINALIZED
    assert event["source"] == "//storage.googleapis.com/projects/_/buckets/models"
    assert (event["data"]["name"], event["data"]["generation"]) == (
        "models/a.cbm",
        first.generation,
    )
    assert event["data"]["metadata"] == {"system_id": "catboost_v9"}

    second = store.write("models/a.cbm", b"two")  # a new generation is a new event
    endpoint.statuses = [500, 503]
    assert watcher.poll_once() == 0
    assert watcher.poll_once() == 0
    assert watcher.poll_once() == 1
    retried = endpoint.bodies[1:]
    assert len(retried) == 3 and len({e["id"] for e in retried}) == 1  # the same event, again
    assert retried[0]["id"] != event["id"]
    assert retried[0]["data"]["generation"] == second.generation

    store.write("models/b.cbm", b"three")
    endpoint.statuses = [500, 500, 500]
    assert [watcher.poll_once() for _ in range(4)] == [0, 0, 0, 0]
    assert len(endpoint.bodies) == 7  # given up after 3 attempts
