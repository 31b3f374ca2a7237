"""A prediction batch as OpenLineage sees it: START then COMPLETE (or FAIL), every event
valid against the published schemas (``lineage_schemas``), connecting the model artifact and
the kept input to the predictions table; written by the embedded default to its file, or
posted by the client's HttpTransport to a real server when the client's own configuration
says so. A redelivery sends nothing; a transport that fails or hangs does not stop a batch.
"""

from __future__ import annotations

import os
import time
from typing import Any

from lineage_schemas import check_event, read_events
from lineage_server import lineage_server
from openlineage.client.serde import Serde

from attribution.batches.lineage import batch_run_id
from attribution.devtools.slates import Slate
from attribution.lineage.emitter import OpenLineageEmitter

from .conftest import WorldFactory
from .support import SYSTEM, BatchWorld, batch_event, batch_spec, kept_input, publish, request


def _with_one_bad_row(slate: Slate) -> list[dict[str, Any]]:
    rows = [dict(r) for r in slate.rows]
    rows[4]["usage_rate"] = "high"
    return rows


def _events(world: BatchWorld) -> list[dict[str, Any]]:
    events = read_events(world.app.settings.lineage_file)
    for event in events:
        check_event(event)
    return events


def _of_batch(events: list[dict[str, Any]], batch_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e["run"]["runId"] == str(batch_run_id(batch_id))]


def test_a_batch_is_a_run_from_the_model_and_its_input_to_the_predictions_table(
    world: BatchWorld, slate: Slate
) -> None:
    delivery = publish(world.app, request("b-lineage", _with_one_bad_row(slate)))
    assert delivery.ok

    start, complete = _of_batch(_events(world), "b-lineage")
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["job"] == complete["job"]
    assert start["job"]["name"] == f"prediction_batch.{SYSTEM}"
    assert start["job"]["namespace"] == "model-attribution"
    model, kept = complete["inputs"]
    assert (model["namespace"], model["name"]) == ("gs://models", "models/catboost_v9_old.cbm")
    assert model["facets"]["version"]["datasetVersion"] == world.old.model_sha256
    assert model["facets"]["datasetType"]["datasetType"] == "MODEL"
    card = Serde.remove_nulls_and_enums(world.old.to_document())  # as the client writes it
    assert model["facets"]["modelAttribution_card"]["card"] == card
    assert f"{kept['namespace']}/{kept['name']}" == kept_input(world.app, "b-lineage", "jsonl")[0]
    assert start["inputs"] == complete["inputs"]
    outputs = {o["name"]: o for o in complete["outputs"]}
    warehouse = f"duckdb://{world.app.settings.warehouse_path.resolve()}"
    assert {o["namespace"] for o in outputs.values()} == {warehouse}
    written = outputs["main.player_prop_predictions"]["outputFacets"]["outputStatistics"]
    rejected = outputs["main.prediction_rejects"]["outputFacets"]["outputStatistics"]
    assert (written["rowCount"], rejected["rowCount"]) == (len(slate.rows) - 1, 1)


def test_a_redelivered_batch_sends_no_second_run(world: BatchWorld, slate: Slate) -> None:
    event = batch_event(request("b-again", slate.rows), message_id="m-1")
    for _ in range(3):
        assert world.bus.deliver(batch_spec(), event).ok
    events = _events(world)
    assert [e["eventType"] for e in _of_batch(events, "b-again")] == ["START", "COMPLETE"]
    assert {e["run"]["runId"] for e in events if "b-again" in str(e)} <= {
        str(batch_run_id("b-again"))
    }


def test_a_batch_with_no_model_is_a_failed_run_saying_why(
    make_world: WorldFactory, slate: Slate
) -> None:
    world = make_world(promote=False)
    assert publish(world.app, request("b-nomodel", slate.rows)).ok

    (failed,) = _of_batch(_events(world), "b-nomodel")
    assert failed["eventType"] == "FAIL"
    assert "no model is pinned" in failed["run"]["facets"]["errorMessage"]["message"]


def test_the_clients_own_http_transport_posts_every_event_to_a_server(
    make_world: WorldFactory, slate: Slate
) -> None:
    with lineage_server() as server:
        os.environ["OPENLINEAGE__TRANSPORT__TYPE"] = "http"
        os.environ["OPENLINEAGE__TRANSPORT__URL"] = server.url
        world = make_world()
        assert publish(world.app, request("b-http", slate.rows)).ok

    batch = _of_batch(server.events, "b-http")
    assert [e["eventType"] for e in batch] == ["START", "COMPLETE"]
    for event in server.events:
        check_event(event)
    # The two models' publications went there too, and nothing to the embedded file.
    published = [e for e in server.events if e["job"]["name"].startswith("model_card_")]
    assert [e["eventType"] for e in published] == ["START", "COMPLETE"] * 2
    assert not world.app.settings.lineage_file.exists()


def test_a_transport_that_refuses_or_hangs_neither_fails_nor_holds_up_a_batch(
    make_world: WorldFactory, slate: Slate
) -> None:
    with lineage_server() as server:
        os.environ["OPENLINEAGE__TRANSPORT__TYPE"] = "http"
        os.environ["OPENLINEAGE__TRANSPORT__URL"] = server.url
        world = make_world(lineage_timeout_seconds=0.5)
        emitter = world.app.lineage()
        assert isinstance(emitter, OpenLineageEmitter)
        server.status = 400  # refused: the transport raises, the event is counted failed
        assert publish(world.app, request("b-refused", slate.rows)).ok
        assert emitter.counts.failed == 2  # START and COMPLETE

        server.status, server.delay_seconds = 200, 3.0  # slower than the bound
        began = time.monotonic()
        assert publish(world.app, request("b-slow", slate.rows)).ok
        assert time.monotonic() - began < 2.5  # two events, each waited for at most 0.5 s
        assert emitter.counts.late >= 1
