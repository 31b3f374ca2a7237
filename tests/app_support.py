"""Test support shared by the suites: publishing a model through the embedded bus as Cloud
Storage would announce it, a batch request that carries its rows, and a notifier that
records what it was sent."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from attribution.adapters.embedded.inprocess_bus import InProcessBus
from attribution.batches.request import BatchRequest, RunMode
from attribution.bootstrap import App
from attribution.model_card.card import ModelCard
from attribution.ports import Alert, NotificationError


def publish_model(app: App, model: Path | bytes, file_name: str) -> ModelCard | None:
    """Write the .cbm under the models prefix and let the bus deliver the bucket's
    notification to model_upload; the card it registered, or None if it refused the file."""
    data = model if isinstance(model, bytes) else model.read_bytes()
    stored = app.models.write(f"{app.settings.models_prefix}{file_name}", data)
    assert isinstance(app.publisher, InProcessBus)
    deliveries = app.publisher.object_finalized(stored)
    assert [d.ok for d in deliveries] == [True], deliveries
    return app.registry.for_object_bytes(stored.uri, hashlib.sha256(data).hexdigest())


def upload_model(app: App, model: Path | bytes, file_name: str) -> ModelCard:
    """``publish_model`` for a file that must become a card."""
    card = publish_model(app, model, file_name)
    assert card is not None, f"no card was published for {file_name}"
    return card


def inline_batch(
    batch_id: str, system_id: str, game_date: date, rows: Sequence[Mapping[str, Any]]
) -> BatchRequest:
    """An overnight batch request with its rows inline, its model the ledger's active one."""
    return BatchRequest(
        batch_id=batch_id,
        system_id=system_id,
        game_date=game_date,
        run_mode=RunMode.OVERNIGHT,
        pin=None,
        rows=rows,
        rows_uri=None,
    )


class RecordingNotifier:
    """Our Notifier port: keeps what it was sent; told to, refuses like a channel that is down."""

    def __init__(self) -> None:
        self.sent: list[Alert] = []
        self.failing = False
        self.attempts = 0

    def notify(self, alert: Alert) -> None:
        self.attempts += 1
        if self.failing:
            raise NotificationError("channel refused the alert (test)")
        self.sent.append(alert)
