"""The model-upload use case on the Google Cloud adapters: GCS and Pub/Sub emulators.

A real CatBoost model lands in an emulated bucket; the finalize event built from the
object's real metadata drives ``CardPublisher``; the card must end up in the bucket, on
the topic and in the registry exactly once, also when the event is delivered twice.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.adapters.google_cloud.gcs_store import GcsStore
from attribution.adapters.google_cloud.pubsub_publisher import PubSubPublisher
from attribution.alerts.console_channel import ConsoleNotifier
from attribution.config import Backend, Settings
from attribution.devtools.training import TrainingSpec, train_model
from attribution.events import object_finalized_event, parse_object_finalized
from attribution.model_card.card import card_from_json
from attribution.model_card.publishing import CardPublisher, UploadResult
from attribution.model_card.registry import CardRegistry
from attribution.warehouse.migrations import migrate

if TYPE_CHECKING:
    from emulators import PubSubSandbox

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("model") / "catboost_v9_test.cbm"
    train_model(TrainingSpec(rows=2000, iterations=20, depth=4), path)
    return path.read_bytes()


def test_uploaded_model_is_carded_once_on_gcs_and_pubsub(
    tmp_path: Path,
    model_bytes: bytes,
    gcs_bucket: str,
    gcp_project: str,
    pubsub: PubSubSandbox,
) -> None:
    topic, subscription = pubsub.topic()
    settings = Settings(
        backend=Backend.GCP,
        home=tmp_path,
        project=gcp_project,
        models_bucket=gcs_bucket,
        cards_bucket=gcs_bucket,
        model_cards_topic=topic,
    )
    store = GcsStore(gcs_bucket, project=gcp_project)
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    migrate(warehouse)
    registry = CardRegistry(warehouse)
    notifier = ConsoleNotifier()
    publisher = CardPublisher(
        settings=settings,
        models=store,
        cards=store,
        registry=registry,
        publisher=PubSubPublisher(gcp_project),
        notifier=notifier,
    )

    name = "models/catboost_v9_test.cbm"
    store.write(name, model_bytes)
    stored = store.stat(name)
    assert stored is not None
    event = parse_object_finalized(object_finalized_event(stored))

    outcome = publisher.handle(event)

    assert outcome.result is UploadResult.PUBLISHED, outcome.reason
    card = outcome.card
    assert card is not None
    sha256 = hashlib.sha256(model_bytes).hexdigest()
    assert card.system_id == "catboost_v9"
    assert card.model_sha256 == sha256
    assert card.model_md5 == hashlib.md5(model_bytes, usedforsecurity=False).hexdigest()
    assert card.model_uri == f"gs://{gcs_bucket}/{name}"
    assert card.model_generation == stored.generation
    assert card.is_complete, card.missing_facts
    assert notifier.sent == []

    # The card JSON object, where the registry says it is.
    card_name = f"cards/{card.system_id}/{card.card_id}.json"
    assert outcome.card_uri == f"gs://{gcs_bucket}/{card_name}"
    card_object = store.stat(card_name)
    assert card_object is not None
    assert card_object.content_type == "application/json"
    assert card_object.metadata == {"card_id": card.card_id, "model_sha256": sha256}
    assert card_from_json(store.read(card_name).decode()) == card

    # The announcement on the model-cards topic.
    [message] = pubsub.pull(subscription, expect=1)
    assert message.attributes["system_id"] == "catboost_v9"
    assert message.attributes["card_id"] == card.card_id
    assert message.attributes["model_sha256"] == sha256
    assert json.loads(message.data)["card_id"] == card.card_id

    # The registry row.
    rows = registry.list()
    assert [r["card_id"] for r in rows] == [card.card_id]
    assert registry.get(card.card_id) == card

    # Redelivery of the very same event: nothing new anywhere.
    again = publisher.handle(event)

    assert again.result is UploadResult.ALREADY_PUBLISHED
    assert again.card is not None and again.card.card_id == card.card_id
    assert pubsub.pull(subscription, expect=1, wait=2.0) == []
    assert [r["card_id"] for r in registry.list()] == [card.card_id]
    assert [o.name for o in store.list("cards/")] == [card_name]
    assert store.stat(card_name) == card_object
    warehouse.close()
