"""Helpers for the history tests: rows written before stamping existed, made realistically.

A legacy writer predicted with the real model file and wrote plain rows, with no model
columns and (usually) no execution-log row; its inputs were kept at
``batches/<batch_id>/input.<fmt>`` in the models bucket. The ledger gets promotions at
instants the test chooses (``ledger.promote(..., at=...)``). Everything after that (the
backfill, the verifier, the CLI) runs on the real code.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from catboost_oracle import regressor_predictions

from attribution.adapters.embedded.inprocess_bus import Delivery, InProcessBus
from attribution.batches.request import BatchRequest, ModelPin, RunMode
from attribution.bootstrap import App
from attribution.devtools.slates import slate_for, unstamped_prediction
from attribution.history.backfill import BackfillSummary
from attribution.model_card.card import ATTRIBUTION_COLUMNS, ModelCard, attribution_columns
from attribution.ports import Row

SYSTEM = "catboost_v9"
OTHER_SYSTEM = "catboost_v10"
OLD_NAME = "catboost_v9_old.cbm"
NEW_NAME = "catboost_v9_retrain.cbm"
OTHER_NAME = "catboost_v10.cbm"
# The deploy log's story: the old model from Jan 9, the retrain from Feb 2 22:00 UTC.
FIRST = datetime(2026, 1, 9, 15, 0, tzinfo=UTC)
PROMOTION = datetime(2026, 2, 2, 22, 0, tzinfo=UTC)
DAY = date(2026, 2, 2)
PLAYERS = 12


@dataclass
class History:
    """An embedded App with the old model, its retrain (catboost_v9) and a model of another
    system (catboost_v10) published; nothing promoted unless a test does it."""

    app: App
    old: ModelCard
    new: ModelCard
    other: ModelCard
    paths: dict[str, Path]

    # --- the ledger -------------------------------------------------------------------------

    def promote(self, card: ModelCard, at: datetime, system_id: str = SYSTEM) -> None:
        self.app.ledger.promote(system_id, card, at=at, by="deploy-log")

    def story(self) -> None:
        """The ledger as the deploy log tells it: old from FIRST, the retrain from PROMOTION."""
        self.promote(self.old, FIRST)
        self.promote(self.new, PROMOTION)

    # --- what the legacy writer did ---------------------------------------------------------

    def predict(self, card: ModelCard, rows: Sequence[Mapping[str, Any]]) -> list[float]:
        """What the legacy writer's own CatBoostRegressor predicted for ``rows``."""
        return [float(p) for p in regressor_predictions(self.paths[card.model_sha256], rows)]

    def legacy_batch(
        self,
        batch_id: str,
        *,
        made_by: ModelCard,
        created_at: datetime,
        day: date = DAY,
        players: int = PLAYERS,
        system_id: str = SYSTEM,
        keep: str | None = "jsonl",
        seed: int = 0,
    ) -> list[str]:
        """A batch written before stamping: ``made_by`` predicted it at ``created_at``; its
        input kept at ``batches/<batch_id>/input.<keep>`` (not kept when ``keep`` is None).
        Its prediction ids, sorted (as the backfill lists them)."""
        rows = slate_for(day, players=players, seed=seed).rows
        if keep is not None:
            self.keep_input(batch_id, rows, keep)
        predicted = self.predict(made_by, rows)
        written = [
            unstamped_prediction(
                row,
                points,
                prediction_id=f"{batch_id}:{day}:s{seed}:{row['player_lookup']}",
                batch_id=batch_id,
                system_id=system_id,
                created_at=created_at,
            )
            for row, points in zip(rows, predicted, strict=True)
        ]
        self.app.warehouse.insert_rows("player_prop_predictions", written)
        return sorted(str(r["prediction_id"]) for r in written)

    def keep_input(
        self, batch_id: str, rows: Sequence[Mapping[str, Any]], fmt: str, *, name: str | None = None
    ) -> str:
        """Write a batch's input where prediction_batch keeps it (or at ``name``); its URI."""
        name = name or f"{self.app.settings.batch_inputs_prefix}{batch_id}/input.{fmt}"
        if fmt == "jsonl":
            data = "".join(json.dumps(dict(r), sort_keys=True) + "\n" for r in rows).encode()
        elif fmt == "parquet":
            buffer = io.BytesIO()
            pq.write_table(pa.Table.from_pylist([dict(r) for r in rows]), buffer)
            data = buffer.getvalue()
        else:
            raise ValueError(fmt)
        return self.app.models.write(name, data).uri

    def log_batch(
        self,
        batch_id: str,
        *,
        started_at: datetime,
        input_uri: str | None = None,
        day: date = DAY,
        system_id: str = SYSTEM,
    ) -> None:
        """An execution-log row with no model columns (a logger that predates stamping)."""
        self.app.warehouse.insert_rows(
            "prediction_execution_log",
            [
                {
                    "batch_id": batch_id,
                    "system_id": system_id,
                    "game_date": day,
                    "run_mode": "OVERNIGHT",
                    "status": "success",
                    "input_uri": input_uri,
                    "started_at": started_at,
                    "finished_at": started_at + timedelta(seconds=3),
                    "logged_at": started_at + timedelta(seconds=3),
                }
            ],
        )

    def tamper(self, prediction_id: str, delta: float) -> None:
        """Change one stored prediction, as a hand edit or a lossy copy would."""
        self.app.warehouse.execute(
            "UPDATE player_prop_predictions SET predicted_points = predicted_points + @delta "
            "WHERE prediction_id = @prediction_id",
            {"delta": delta, "prediction_id": prediction_id},
        )

    # --- the real path --------------------------------------------------------------------

    def run_batch(
        self, batch_id: str, *, day: date = DAY, pin: ModelCard | None = None, players: int = 8
    ) -> list[Row]:
        """A stamped batch: published on the bus, run by prediction_batch. Its rows."""
        request = BatchRequest(
            batch_id=batch_id,
            system_id=SYSTEM,
            game_date=day,
            run_mode=RunMode.OVERNIGHT,
            pin=ModelPin(model_sha256=pin.model_sha256) if pin else None,
            rows=slate_for(day, players=players, seed=7).rows,
            rows_uri=None,
        )
        bus = self.app.publisher
        assert isinstance(bus, InProcessBus)
        before = len(bus.deliveries)
        bus.publish(self.app.settings.prediction_batches_topic, request.encode(), {})
        delivered: list[Delivery] = [
            d for d in bus.deliveries[before:] if d.function == "prediction_batch"
        ]
        assert [d.ok for d in delivered] == [True], delivered
        return self.rows(batch_id)

    def backfill(self, **options: Any) -> BackfillSummary:
        return self.app.backfill().run(**options)

    # --- reading --------------------------------------------------------------------------

    def rows(self, batch_id: str | None = None) -> list[Row]:
        return self.app.warehouse.query(
            "SELECT * FROM player_prop_predictions "
            "WHERE @batch_id IS NULL OR batch_id = @batch_id ORDER BY prediction_id",
            {"batch_id": batch_id},
        )

    def row(self, prediction_id: str) -> Row:
        rows = self.app.warehouse.query(
            "SELECT * FROM player_prop_predictions WHERE prediction_id = @prediction_id",
            {"prediction_id": prediction_id},
        )
        assert len(rows) == 1, rows
        return rows[0]

    def methods(self, batch_id: str) -> set[str | None]:
        return {r["attribution_method"] for r in self.rows(batch_id)}


def assert_attributed(row: Row, card: ModelCard, method: str) -> None:
    """The six seed columns, model_sha256 and model_card_id are the card's; the method set."""
    expected = attribution_columns(card)
    assert {c: row[c] for c in ATTRIBUTION_COLUMNS} == {
        c: expected[c] for c in ATTRIBUTION_COLUMNS
    }, row
    assert row["attribution_method"] == method, row


def assert_unattributed(row: Row) -> None:
    assert {c: row[c] for c in ATTRIBUTION_COLUMNS} == dict.fromkeys(ATTRIBUTION_COLUMNS), row
    assert row["attribution_method"] is None, row
