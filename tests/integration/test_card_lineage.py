"""A card's publication as OpenLineage sees it: the model artifact (versioned by its sha256,
its card as a facet) to the card object, START then COMPLETE, valid against the published
schemas; a redelivered upload publishes nothing and sends nothing."""

from __future__ import annotations

from typing import Any

from app_support import upload_model
from lineage_schemas import check_event, read_events

from attribution.adapters.embedded.inprocess_bus import InProcessBus
from attribution.model_card.publishing import card_object_name


def test_a_publication_is_a_run_from_the_model_to_its_card(embedded_app: Any, models: Any) -> None:
    app = embedded_app
    card = upload_model(app, models.old, "catboost_v9_old.cbm")
    start, complete = read_events(app.settings.lineage_file)
    for event in (start, complete):
        check_event(event)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert complete["job"]["name"] == "model_card_publication.catboost_v9"
    (model,) = complete["inputs"]
    assert (model["namespace"], model["name"]) == ("gs://models", "models/catboost_v9_old.cbm")
    assert model["facets"]["version"]["datasetVersion"] == card.model_sha256
    assert model["facets"]["modelAttribution_card"]["card"]["card_id"] == card.card_id
    (card_object,) = complete["outputs"]
    assert (card_object["namespace"], card_object["name"]) == (
        "gs://models",
        card_object_name(card, app.settings),
    )

    stored = app.models.stat("models/catboost_v9_old.cbm")
    assert stored is not None and isinstance(app.publisher, InProcessBus)
    app.publisher.object_finalized(stored)  # the bucket's notification, redelivered
    assert len(read_events(app.settings.lineage_file)) == 2
