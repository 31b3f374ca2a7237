"""CardPublisher refuses an oversized model from the event's size, before reading its bytes.

Reading a many-gigabyte object to find out it is too large would exhaust the function's
memory: a crash the platform retries forever instead of one clear rejection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.adapters.embedded.local_bucket import LocalBucket
from attribution.alerts.console_channel import ConsoleNotifier
from attribution.config import Settings
from attribution.events import ObjectFinalized
from attribution.model_card.publishing import CardPublisher, UploadResult
from attribution.model_card.registry import CardRegistry
from attribution.objects import StoredObject
from attribution.warehouse.migrations import migrate


class CountingBucket(LocalBucket):
    """A local bucket that counts reads."""

    def __init__(self, root: Path, bucket: str) -> None:
        super().__init__(root, bucket)
        self.reads = 0

    def read(self, name: str) -> bytes:
        self.reads += 1
        return super().read(name)


class Messages:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, Mapping[str, str]]] = []

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        self.sent.append((topic, data, attributes))
        return str(len(self.sent))


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[dict[str, Any]]:
    warehouse = DuckDBWarehouse(":memory:")
    migrate(warehouse)
    models = CountingBucket(tmp_path, "models")
    notifier = ConsoleNotifier()
    messages = Messages()
    publisher = CardPublisher(
        settings=Settings(home=tmp_path, max_model_bytes=40_000),
        models=models,
        cards=models,
        registry=CardRegistry(warehouse),
        publisher=messages,
        notifier=notifier,
    )
    yield {"publisher": publisher, "models": models, "notifier": notifier, "messages": messages}
    warehouse.close()


def test_a_declared_size_over_the_limit_is_rejected_without_reading(
    parts: dict[str, Any], old_model_bytes: bytes
) -> None:
    stored = parts["models"].write("models/huge.cbm", old_model_bytes)
    event = ObjectFinalized(
        event_id="e1",
        object=StoredObject(
            bucket="models", name="models/huge.cbm", generation=stored.generation, size=5 * 2**30
        ),
    )
    outcome = parts["publisher"].handle(event)
    assert outcome.result is UploadResult.REJECTED
    assert parts["models"].reads == 0
    assert outcome.reason is not None
    assert "gs://models/models/huge.cbm" in outcome.reason
    assert f"{5 * 2**30} bytes, over the 40000-byte limit" in outcome.reason
    [alert] = parts["notifier"].sent
    assert alert.fields["error_code"] == "too_large"
    assert parts["messages"].sent == []


def test_the_actual_bytes_are_checked_when_the_event_understates_the_size(
    parts: dict[str, Any], models: Any
) -> None:
    data = models.old.read_bytes() + b"\x00" * 25_000  # over the 40 kB limit
    stored = parts["models"].write("models/padded.cbm", data)
    event = ObjectFinalized("e2", StoredObject("models", "models/padded.cbm", stored.generation, 1))
    outcome = parts["publisher"].handle(event)
    assert outcome.result is UploadResult.REJECTED
    assert "over the 40000-byte limit" in (outcome.reason or "")


def test_a_model_within_the_limit_is_read_once_and_published(
    parts: dict[str, Any], old_model_bytes: bytes
) -> None:
    stored = parts["models"].write("models/ok.cbm", old_model_bytes)
    outcome = parts["publisher"].handle(ObjectFinalized("e3", stored))
    assert outcome.result is UploadResult.PUBLISHED
    assert parts["models"].reads == 1
    [(topic, _, attributes)] = parts["messages"].sent
    assert topic == "model-cards"
    assert attributes["card_id"] == outcome.card.card_id
