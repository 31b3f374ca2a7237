"""The card registry: ``model_cards`` rows, rejected uploads, and looking cards up."""

from __future__ import annotations

import builtins
import hashlib
from datetime import datetime
from typing import Any

from attribution.clock import now_utc
from attribution.errors import PermanentError
from attribution.model_card.card import ModelCard, card_from_json
from attribution.objects import StoredObject
from attribution.ports import Row, Warehouse
from attribution.warehouse.sql_text import sql


def card_row(card: ModelCard, *, card_uri: str | None, registered_at: datetime) -> Row:
    return {
        "card_id": card.card_id,
        "schema_version": card.schema_version,
        "system_id": card.system_id,
        "model_file_name": card.model_file_name,
        "model_uri": card.model_uri,
        "model_generation": card.model_generation,
        "model_sha256": card.model_sha256,
        "model_md5": card.model_md5,
        "size_bytes": card.size_bytes,
        "training_start_date": card.training_start_date,
        "training_end_date": card.training_end_date,
        "expected_mae": card.expected_mae,
        "expected_hit_rate": card.expected_hit_rate,
        "trained_at": card.trained_at,
        "uploaded_at": card.uploaded_at,
        "catboost_version": card.catboost_version,
        "loss_function": card.loss_function,
        "tree_count": card.tree_count,
        "feature_names": list(card.feature_names),
        "status": card.status.value,
        "missing_facts": list(card.missing_facts),
        "card_uri": card_uri,
        "card_json": card.canonical_json(),
        "prediction_type": None if card.prediction_type is None else card.prediction_type.value,
        "servable": None if card.interface is None else card.servable,
        "registered_at": registered_at,
    }


class CardRegistry:
    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def register(self, card: ModelCard, *, card_uri: str | None) -> bool:
        """Add the card; True when it was new. Cards are immutable, so upsert is insert-once."""
        row = card_row(card, card_uri=card_uri, registered_at=now_utc())
        return self.warehouse.insert_new_rows("model_cards", [row], key=["card_id"]) == 1

    def get(self, card_id: str) -> ModelCard | None:
        rows = self.warehouse.query(sql("card_by_id"), {"card_id": card_id})
        return card_from_json(rows[0]["card_json"]) if rows else None

    def for_object_bytes(self, model_uri: str, model_sha256: str) -> ModelCard | None:
        rows = self.warehouse.query(
            sql("card_for_object_bytes"), {"model_uri": model_uri, "model_sha256": model_sha256}
        )
        return card_from_json(rows[0]["card_json"]) if rows else None

    def resolve(self, reference: str) -> ModelCard:
        """One card for a card id, sha256, a prefix of either (8+ characters), or file name
        (newest wins); a prefix of several cards' ids or models' hashes is ambiguous."""
        rows = self.warehouse.query(sql("cards_by_reference"), {"ref": reference})
        if not rows:
            raise PermanentError("unknown_model", f"no card matches model reference {reference!r}")
        cards = [card_from_json(r["card_json"]) for r in rows]
        by_hash = [c for c in cards if reference in (c.card_id, c.model_sha256)]
        if by_hash:
            return by_hash[0]
        # A card id prefix names that one card; a sha256 prefix or a file name names a model,
        # whose newest card is meant.
        named = {c.card_id if c.card_id.startswith(reference) else c.model_sha256 for c in cards}
        if len(named) > 1 and not all(c.model_file_name == reference for c in cards):
            raise PermanentError(
                "ambiguous_model", f"model reference {reference!r} matches {len(named)} models"
            )
        return cards[0]

    def list(self, system_id: str | None = None) -> builtins.list[Row]:
        return self.warehouse.query(sql("cards_list"), {"system_id": system_id})

    def rejects(self) -> builtins.list[Row]:
        return self.warehouse.query(sql("upload_rejects_list"))

    def record_reject(
        self, obj: StoredObject, *, code: str, error: str, event_id: str | None
    ) -> bool:
        reject_id = hashlib.sha256(f"{obj.uri}#{obj.generation}".encode()).hexdigest()
        row: dict[str, Any] = {
            "reject_id": reject_id,
            "object_uri": obj.uri,
            "object_generation": obj.generation,
            "model_file_name": obj.file_name,
            "size_bytes": obj.size,
            "error_code": code,
            "error": error,
            "event_id": event_id,
            "rejected_at": now_utc(),
        }
        return self.warehouse.insert_new_rows("model_upload_rejects", [row], ["reject_id"]) == 1
