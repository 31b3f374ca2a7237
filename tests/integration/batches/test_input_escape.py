"""A batch's rows_uri cannot reach outside the buckets folder: not with a bucket named ``..``
(the finding: ``gs://../private.csv`` copied a private file's rows into prediction_rejects,
``gs://../bus/...`` exposed the bus log), not with ``..`` in the object name, not through a
symlink. Each such batch fails cleanly: acknowledged, logged ``failed``, dead-lettered,
logged as an error, and nothing is read, predicted, rejected or copied.

Driven through functions/prediction_batch/main.py with functions-framework's test client
and real CloudEvents, on the embedded stores (the local bucket folder, DuckDB).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from attribution.devtools.slates import Slate

from .support import (
    BatchWorld,
    batch_event,
    count,
    csv_bytes,
    dead_letters,
    jsonl_bytes,
    post,
    request,
    the_log,
)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(json.dumps(record.__dict__, default=str))


def _plant_private_rows(world: BatchWorld, slate: Slate) -> Path:
    """Real slate rows outside the buckets folder: read, they would be predicted or rejected."""
    home = world.app.settings.home
    private = home / "private.csv"
    private.write_bytes(csv_bytes(slate.rows[:5]))
    (home / "bus" / "topics").mkdir(parents=True, exist_ok=True)
    (home / "bus" / "topics" / "leak.jsonl").write_bytes(jsonl_bytes(slate.rows[:5]))
    return private


def _send_escaping_batch(
    world: BatchWorld, function_client: Any, rows_uri: str, code: str
) -> dict[str, Any]:
    message = request("b-escape").to_message() | {"rows_uri": rows_uri}
    data = json.dumps(message).encode()
    event = batch_event(data, message_id="m-escape")
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    try:
        assert post(function_client, event) == 200  # acknowledged: a retry cannot help
        assert post(function_client, event, binary=True) == 200  # redelivered: still one
    finally:
        logging.getLogger().removeHandler(errors)

    (letter,) = dead_letters(world.app)
    assert (letter["source"], letter["error_code"], letter["event_id"]) == (
        "prediction_batch",
        code,
        "m-escape",
    )
    assert rows_uri in letter["error"]
    assert letter["payload"] == data.decode()
    log = the_log(world.app, "b-escape")
    assert log["status"] == "failed" and log["error"].startswith(code)
    assert any(code in m for m in errors.messages), errors.messages
    for table in ("player_prop_predictions", "prediction_rejects"):
        assert count(world.app, table) == 0, table
    kept = [o.name for o in world.app.models.list("batches/b-escape/")]
    assert not [name for name in kept if "/input." in name], kept
    return letter


@pytest.mark.parametrize(
    ("rows_uri", "code"),
    [
        ("gs://../private.csv", "bad_bucket_name"),
        ("gs://../bus/topics/leak.jsonl", "bad_bucket_name"),
        ("gs://../buckets/../private.csv", "bad_bucket_name"),
        ("gs://models/../../private.csv", "unsafe_object_name"),
        ("gs://models/batches/../../../private.csv", "unsafe_object_name"),
    ],
)
def test_a_rows_uri_outside_the_buckets_folder_reads_nothing(
    world: BatchWorld, function_client: Any, slate: Slate, rows_uri: str, code: str
) -> None:
    private = _plant_private_rows(world, slate)
    before = private.read_bytes()

    letter = _send_escaping_batch(world, function_client, rows_uri, code)

    assert "secret" not in letter["error"] and slate.rows[0]["player_lookup"] not in str(letter)
    assert private.read_bytes() == before


def test_a_rows_uri_through_a_symlink_out_of_the_bucket_reads_nothing(
    world: BatchWorld, function_client: Any, slate: Slate
) -> None:
    private = _plant_private_rows(world, slate)
    folder = world.app.settings.bucket_root / "models" / "batches"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "link.csv").symlink_to(private)

    letter = _send_escaping_batch(
        world, function_client, "gs://models/batches/link.csv", "unsafe_object_name"
    )
    assert "escape the bucket folder" in letter["error"]


def test_a_rows_uri_in_the_bucket_still_works(
    world: BatchWorld, function_client: Any, slate: Slate
) -> None:
    stored = world.app.models.write("batches/uploads/rows.csv", csv_bytes(slate.rows))
    event = batch_event(request("b-inside", rows_uri=stored.uri), message_id="m-inside")

    assert post(function_client, event) == 200

    log = the_log(world.app, "b-inside")
    assert (log["status"], log["rows_written"]) == ("success", len(slate.rows))
    assert dead_letters(world.app) == []
