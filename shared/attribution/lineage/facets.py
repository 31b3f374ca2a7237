"""The custom facet this product adds: a model artifact's card, on its input dataset.

OpenLineage has no model facet of its own; the card says which data, code and settings
made the model (its training window, CatBoost version, loss, parameters, expected figures).
Custom facet names carry a prefix (``modelAttribution_``); the facet's schema is
``schemas/openlineage/ModelCardDatasetFacet.json``, under the ``$id`` its events name.
"""

from __future__ import annotations

from typing import Any

import attr
from openlineage.client.generated.base import DatasetFacet

MODEL_CARD_FACET = "modelAttribution_card"
MODEL_CARD_FACET_SCHEMA = (
    "https://model-attribution.example/schemas/openlineage/ModelCardDatasetFacet.json"
    "#/$defs/ModelCardDatasetFacet"
)


@attr.define
class ModelCardDatasetFacet(DatasetFacet):
    """The model card document (``ModelCard.to_document()``) of a model artifact; the
    client's serialisation leaves its null fields out."""

    card: dict[str, Any] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return MODEL_CARD_FACET_SCHEMA
