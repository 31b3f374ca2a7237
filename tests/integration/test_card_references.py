"""What a model reference resolves to in the registry: a card id or a sha256, whole or as a
prefix of 8 or more characters, or a file name; a prefix of several cards is ambiguous.

Three schema version 1 cards of the same bytes (one sha256) that differ only in the object's
generation. Their card ids are frozen (a version 1 card keeps its id), and two of them were
chosen for ids that share their first ten characters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.errors import PermanentError
from attribution.model_card.card import ModelCard, card_from_json
from attribution.model_card.registry import CardRegistry, card_row
from attribution.warehouse.migrations import migrate

SHA256 = "a" * 64
VERSION_1_DOCUMENT = {
    "catboost_version": "1.2.10",
    "conflicts": [],
    "expected_hit_rate": 74.6,
    "expected_mae": 4.12,
    "fact_sources": {"system_id": "catboost_metadata"},
    "feature_names": ["points_avg_last_5", "points_avg_last_10"],
    "loss_function": "RMSE",
    "missing_facts": [],
    "model_file_name": "catboost_v9_2026_02.cbm",
    "model_md5": "b" * 32,
    "model_sha256": SHA256,
    "model_uri": "gs://models/models/catboost_v9_2026_02.cbm",
    "params": {"depth": 6, "learning_rate": 0.08},
    "schema_version": 1,
    "size_bytes": 1234,
    "status": "complete",
    "system_id": "catboost_v9",
    "trained_at": "2026-02-01T06:30:00Z",
    "training_end_date": "2026-01-31",
    "training_start_date": "2025-11-02",
    "tree_count": 300,
    "uploaded_at": "2026-02-01T07:00:00.123456Z",
}
# generation -> the card id its card must have, registered in this order (oldest first).
CARD_IDS = {
    "1738400000000000": "5b70fe33d3d5c8af7fcd5863acf160c309e3f665a226188be396763c80b595a9",
    "1738400000118920": "a268b1007ad06c0b5aba50c1fd0effbaa46e029ecc81fd6324520b4c9b95a085",
    "1738400000129111": "a268b1007a593fcb30f6ca4fd9885168cd37f4de576a626999a283c03163b284",
}
FIRST, COLLIDING, NEWEST = CARD_IDS.values()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[CardRegistry]:
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    migrate(warehouse)
    registry = CardRegistry(warehouse)
    registered_at = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    for number, (generation, card_id) in enumerate(CARD_IDS.items()):
        card = card_from_json(json.dumps({**VERSION_1_DOCUMENT, "model_generation": generation}))
        assert card.card_id == card_id
        row = card_row(card, card_uri=None, registered_at=registered_at + timedelta(hours=number))
        assert warehouse.insert_new_rows("model_cards", [row], key=["card_id"]) == 1
    yield registry
    warehouse.close()


def resolved(registry: CardRegistry, reference: str) -> str:
    card: ModelCard = registry.resolve(reference)
    return card.card_id


@pytest.mark.parametrize(
    ("reference", "card_id"),
    [
        (FIRST, FIRST),
        (FIRST[:8], FIRST),  # the older card of its model, named by its own id
        (FIRST[:20], FIRST),
        (COLLIDING[:11], COLLIDING),
        (NEWEST[:11], NEWEST),
        (SHA256, NEWEST),  # the model: its newest card
        (SHA256[:8], NEWEST),
        ("catboost_v9_2026_02.cbm", NEWEST),
    ],
)
def test_a_card_id_or_sha256_prefix_of_8_or_more_names_its_card(
    registry: CardRegistry, reference: str, card_id: str
) -> None:
    assert resolved(registry, reference) == card_id


@pytest.mark.parametrize("length", [8, 9, 10])
def test_a_prefix_of_two_card_ids_is_ambiguous(registry: CardRegistry, length: int) -> None:
    reference = COLLIDING[:length]
    assert NEWEST.startswith(reference)
    with pytest.raises(PermanentError) as refused:
        registry.resolve(reference)
    assert (refused.value.code, refused.value.message) == (
        "ambiguous_model",
        f"model reference {reference!r} matches 2 models",
    )


@pytest.mark.parametrize("reference", [FIRST[:7], "5B70FE33", "0" * 8])
def test_a_short_or_unknown_prefix_names_no_card(registry: CardRegistry, reference: str) -> None:
    with pytest.raises(PermanentError) as refused:
        registry.resolve(reference)
    assert refused.value.code == "unknown_model"
