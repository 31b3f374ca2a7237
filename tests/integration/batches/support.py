"""Helpers for the prediction-batch tests: upload models the real way, send batches, read tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from attribution.adapters.embedded.inprocess_bus import Delivery, InProcessBus
from attribution.batches.request import BatchRequest, ModelPin, RunMode
from attribution.bootstrap import App
from attribution.events import pubsub_event
from attribution.function_manifest import FunctionSpec, function_specs
from attribution.model_card.card import ModelCard
from attribution.ports import Row

SYSTEM = "catboost_v9"
GAME_DATE = date(2026, 3, 1)
OLD_NAME = "catboost_v9_old.cbm"
RETRAIN_NAME = "catboost_v9_retrain.cbm"
ATTRIBUTION_COLUMNS = (
    "model_file_name",
    "model_training_start_date",
    "model_training_end_date",
    "model_expected_mae",
    "model_expected_hit_rate",
    "model_trained_at",
)


@dataclass(frozen=True)
class BatchWorld:
    """An embedded App with the old and retrained models published and the old one active."""

    app: App
    old: ModelCard
    retrain: ModelCard

    @property
    def bus(self) -> InProcessBus:
        assert isinstance(self.app.publisher, InProcessBus)
        return self.app.publisher


def batch_spec() -> FunctionSpec:
    return function_specs()["prediction_batch"]


def bus_of(app: App) -> InProcessBus:
    assert isinstance(app.publisher, InProcessBus)
    return app.publisher


def request(
    batch_id: str,
    rows: Sequence[Mapping[str, Any]] | None = None,
    *,
    rows_uri: str | None = None,
    game_date: date = GAME_DATE,
    run_mode: RunMode = RunMode.OVERNIGHT,
    pin: ModelPin | None = None,
    system_id: str = SYSTEM,
) -> BatchRequest:
    return BatchRequest(
        batch_id=batch_id,
        system_id=system_id,
        game_date=game_date,
        run_mode=run_mode,
        pin=pin,
        rows=None if rows is None else [dict(r) for r in rows],
        rows_uri=rows_uri,
    )


def publish(app: App, message: BatchRequest | bytes) -> Delivery:
    """Publish on the batches topic; the bus posts it to the function. Its one delivery."""
    data = message.encode() if isinstance(message, BatchRequest) else message
    bus = bus_of(app)
    before = len(bus.deliveries)
    app.publisher.publish(app.settings.prediction_batches_topic, data, {"origin": "tests"})
    deliveries = [d for d in bus.deliveries[before:] if d.function == "prediction_batch"]
    assert len(deliveries) == 1, bus.deliveries[before:]
    return deliveries[0]


def batch_event(data: bytes | BatchRequest, *, message_id: str | None = None) -> CloudEvent:
    raw = data.encode() if isinstance(data, BatchRequest) else data
    return pubsub_event(
        "projects/local/topics/prediction-batches", raw, {"origin": "tests"}, message_id=message_id
    )


def post(client: Any, event: CloudEvent, *, binary: bool = False) -> int:
    """POST one CloudEvent to a functions-framework test client; the HTTP status."""
    headers, body = to_binary(event) if binary else to_structured(event)
    response = client.post("/", headers=headers, data=body)
    return int(response.status_code)


def query(app: App, sql: str, **params: Any) -> list[Row]:
    return app.warehouse.query(sql, params)


def predictions(app: App, batch_id: str) -> list[Row]:
    return query(
        app,
        "SELECT * FROM player_prop_predictions WHERE batch_id = @batch_id ORDER BY player_lookup",
        batch_id=batch_id,
    )


def predicted_by_player(app: App, batch_id: str) -> dict[str, float]:
    return {r["player_lookup"]: r["predicted_points"] for r in predictions(app, batch_id)}


def log_rows(app: App, batch_id: str) -> list[Row]:
    return query(
        app, "SELECT * FROM prediction_execution_log WHERE batch_id = @batch_id", batch_id=batch_id
    )


def the_log(app: App, batch_id: str) -> Row:
    rows = log_rows(app, batch_id)
    assert len(rows) == 1, rows
    return rows[0]


def rejects(app: App, batch_id: str) -> list[Row]:
    return query(
        app,
        "SELECT * FROM prediction_rejects WHERE batch_id = @batch_id ORDER BY row_number",
        batch_id=batch_id,
    )


def dead_letters(app: App) -> list[Row]:
    return query(app, "SELECT * FROM dead_letters ORDER BY received_at")


def count(app: App, table: str) -> int:
    rows = query(app, f"SELECT COUNT(*) AS n FROM {table}")  # table names are test constants
    return int(rows[0]["n"])


def card_columns(card: ModelCard) -> dict[str, Any]:
    """What every row a card produced must carry: the seed's six columns and the identity."""
    return {
        "model_file_name": card.model_file_name,
        "model_training_start_date": card.training_start_date,
        "model_training_end_date": card.training_end_date,
        "model_expected_mae": card.expected_mae,
        "model_expected_hit_rate": card.expected_hit_rate,
        "model_trained_at": card.trained_at,
        "model_sha256": card.model_sha256,
        "model_card_id": card.card_id,
    }


def stamped_with(rows: Sequence[Row], card: ModelCard) -> bool:
    expected = card_columns(card)
    return bool(rows) and all(
        {k: row[k] for k in expected} == expected and row["attribution_method"] == "stamped"
        for row in rows
    )


def jsonl_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(dict(r)) + "\n" for r in rows).encode()


def csv_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(names), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in row.items()}
        )
    return out.getvalue().encode()


def parquet_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([dict(r) for r in rows]), out)
    return out.getvalue()


ENCODERS = {"jsonl": jsonl_bytes, "ndjson": jsonl_bytes, "csv": csv_bytes, "parquet": parquet_bytes}


def claim_check(app: App, name: str, rows: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """Write rows to the bucket in ``fmt``; the gs:// URI a batch message refers to.

    Under ``incoming/``, apart from ``batches/``, where the function keeps each batch's input.
    """
    stored = app.models.write(f"incoming/{name}.{fmt}", ENCODERS[fmt](rows))
    return stored.uri


def kept_input(app: App, batch_id: str, fmt: str) -> tuple[str, bytes]:
    """The URI and bytes of the copy of a batch's input the function keeps."""
    name = f"{app.settings.batch_inputs_prefix}{batch_id}/input.{fmt}"
    return f"gs://{app.models.bucket}/{name}", app.models.read(name)
