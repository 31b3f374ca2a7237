"""A LineageRun as the OpenLineage event the client sends, and the schema check the lineage
tests rely on: it passes a valid event and refuses a broken or undescribed facet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from lineage_schemas import check_event
from openlineage.client.serde import Serde

from attribution.batches.lineage import batch_run_id
from attribution.lineage.events import TableNaming, run_event
from attribution.ports import LineageRun, ObjectDataset, RunState, TableDataset

SHA = "ab" * 32


def _event(state: RunState = RunState.COMPLETE, error: str | None = None) -> dict[str, Any]:
    run = LineageRun(
        job="prediction_batch.catboost_v9",
        run_id=batch_run_id("b-1"),
        state=state,
        at=datetime(2026, 3, 1, 15, tzinfo=UTC),
        inputs=(ObjectDataset("gs://models/models/m.cbm", kind="MODEL", version=SHA),),
        outputs=(TableDataset("player_prop_predictions", rows=39),),
        error=error,
    )
    event = run_event(run, namespace="model-attribution", tables=TableNaming("bigquery", "p.d."))
    document: dict[str, Any] = Serde.to_dict(event)
    return document


def test_a_run_is_a_valid_event_naming_its_datasets_as_the_spec_does() -> None:
    event = _event()
    check_event(event)
    (model,) = event["inputs"]
    assert (model["namespace"], model["name"]) == ("gs://models", "models/m.cbm")
    (table,) = event["outputs"]
    assert (table["namespace"], table["name"]) == ("bigquery", "p.d.player_prop_predictions")
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == 39
    failed = _event(RunState.FAIL, error="no model")
    check_event(failed)
    assert failed["run"]["facets"]["errorMessage"]["message"] == "no model"


def test_a_run_id_is_the_batch_ids_and_no_other_batchs() -> None:
    assert batch_run_id("b-1") == batch_run_id("b-1") != batch_run_id("b-2")
    assert batch_run_id("b-1").version == 5


def test_the_check_refuses_a_facet_missing_a_required_field() -> None:
    event = _event()
    del event["inputs"][0]["facets"]["version"]["datasetVersion"]
    with pytest.raises(jsonschema.ValidationError, match="datasetVersion"):
        check_event(event)


def test_the_check_refuses_a_facet_no_schema_describes() -> None:
    event = _event()
    event["job"]["facets"]["madeUp"] = {"_producer": "https://x.example", "_schemaURL": "x:y"}
    with pytest.raises(AssertionError, match="madeUp"):
        check_event(event)


def test_the_check_refuses_an_event_without_a_producer() -> None:
    event = _event()
    del event["producer"]
    with pytest.raises(jsonschema.ValidationError, match="producer"):
        check_event(event)
