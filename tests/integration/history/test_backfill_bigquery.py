"""The backfill on BigQuery (local-bigquery, BigQuery's REST API on DuckDB) makes exactly the
changes it makes on the embedded warehouse, from the same legacy rows and ledger."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from bigquery_server import bigquery_emulator, drop_dataset, new_dataset

from attribution.adapters.google_cloud.bigquery_warehouse import BigQueryWarehouse
from attribution.history.backfill import UPDATABLE, Backfill
from attribution.history.ledger import DeploymentLedger
from attribution.model_card.card import attribution_columns
from attribution.model_card.registry import CardRegistry
from attribution.ports import Row, Warehouse
from attribution.warehouse.migrations import migrate

from .support import PLAYERS, PROMOTION, History

pytestmark = pytest.mark.emulator

__all__ = ["bigquery_emulator"]  # the session fixture, imported so pytest finds it here

COPIED = ("model_cards", "model_deployments", "prediction_execution_log", "player_prop_predictions")
EVERYTHING = "SELECT * FROM player_prop_predictions ORDER BY prediction_id"


@pytest.fixture
def bq(bigquery_emulator: str) -> Iterator[BigQueryWarehouse]:
    warehouse = new_dataset(bigquery_emulator, "h")
    migrate(warehouse)
    yield warehouse
    drop_dataset(warehouse)


def normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isnan(value) else float(f"{value:.12g}")
    return value


def rows(warehouse: Warehouse) -> list[Row]:
    return [{k: normal(v) for k, v in r.items()} for r in warehouse.query(EVERYTHING)]


def backfill_on(history: History, warehouse: Warehouse) -> Backfill:
    """The App's backfill (its bucket, model cache and settings) over ``warehouse``."""
    embedded = history.app.backfill()
    return Backfill(
        warehouse=warehouse,
        ledger=DeploymentLedger(warehouse, CardRegistry(warehouse)),
        models=embedded.models,
        store_for=embedded.store_for,
        inputs_bucket=embedded.inputs_bucket,
        inputs_prefix=embedded.inputs_prefix,
        settings=embedded.settings,
    )


def test_the_backfill_makes_the_same_changes_on_bigquery(
    history: History, bq: BigQueryWarehouse
) -> None:
    history.story()
    history.run_batch("live")  # stamped: never to be touched
    history.legacy_batch("old", made_by=history.old, created_at=PROMOTION - timedelta(days=1))
    close = history.legacy_batch("close", made_by=history.new, created_at=PROMOTION)
    lost = history.legacy_batch(
        "lost", made_by=history.new, created_at=PROMOTION + timedelta(days=1), keep=None
    )
    history.tamper(close[0], 0.25)
    duck = history.app.warehouse
    for table in COPIED:
        bq.insert_rows(table, duck.query(f"SELECT * FROM {table}"))
    assert rows(bq) == rows(duck)
    stamped = [r for r in rows(bq) if r["attribution_method"] == "stamped"]

    documents: list[dict[str, Any]] = []
    for replay in (False, True, True):
        runs = [backfill_on(history, w).run(replay=replay).to_document() for w in (duck, bq)]
        assert runs[1] == runs[0], replay
        assert rows(bq) == rows(duck), replay
        documents.append(runs[1])

    first, upgrade, again = documents
    assert first["by_method"] == {"ledger_inferred": 2 * PLAYERS, "ambiguous": PLAYERS}
    assert upgrade["by_method"] == {"replay_verified": 2 * PLAYERS - 1, "unreproduced": 1}
    assert upgrade["unreproduced_rows"] == [close[0]]
    assert (again["updated"], again["by_method"]) == (0, {"unreproduced": 1})
    after = rows(bq)
    assert [r for r in after if r["attribution_method"] == "stamped"] == stamped
    assert {r["attribution_method"] for r in after if r["prediction_id"] in lost} == {
        "ledger_inferred"
    }
    # The guard holds on BigQuery too: a stamped row is not updated even when asked to.
    change = {
        "prediction_id": stamped[0]["prediction_id"],
        **attribution_columns(history.other),
        "attribution_method": "ledger_inferred",
    }
    assert (
        bq.update_rows("player_prop_predictions", [change], ["prediction_id"], only_where=UPDATABLE)
        == 0
    )
    assert [r for r in rows(bq) if r["attribution_method"] == "stamped"] == stamped
