"""Load a card's model from the bucket, check its bytes against the card, cache by hash.

A warm instance never re-reads a model it has already loaded: the cache key is the
content hash, so two cards for identical bytes share one loaded model.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attribution.errors import PermanentError
from attribution.logs import get_logger
from attribution.model_card.card import ModelCard
from attribution.model_card.interface import ModelInterface
from attribution.model_card.interface_reading import interface_of
from attribution.objects import split_gs_uri
from attribution.ports import ObjectStore

_log = get_logger("attribution.models")


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and how to call it."""

    model: Any
    interface: ModelInterface
    name: str

    def require_servable(self) -> None:
        if not self.interface.servable:
            raise PermanentError(
                "unservable_model",
                f"model {self.name} cannot be used for batches: {self.interface.unservable_reason}",
            )
        if not self.interface.features:
            raise PermanentError("model_without_features", f"model {self.name} names no features")


def _load_catboost(data: bytes) -> Any:
    from catboost import CatBoost

    model = CatBoost()
    model.load_model(blob=data)
    return model


class ModelCache:
    def __init__(
        self,
        store_for: Callable[[str], ObjectStore],
        *,
        capacity: int = 4,
        loader: Callable[[bytes], Any] = _load_catboost,
    ) -> None:
        self.store_for = store_for
        self.capacity = capacity
        self.loader = loader
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0

    def served(self, card: ModelCard) -> ServedModel:
        """The card's model and how to call it: as the card says, or, for a card older than
        the interface fields, as the loaded model says."""
        model = self.model_for(card)
        interface = card.interface
        if interface is None:
            metadata = {str(k): str(v) for k, v in model.get_metadata().items()}
            interface = interface_of(model, metadata)
        return ServedModel(model, interface, card.model_file_name)

    def model_for(self, card: ModelCard) -> Any:
        with self._lock:
            if card.model_sha256 in self._models:
                self._models.move_to_end(card.model_sha256)
                return self._models[card.model_sha256]
        bucket, name = split_gs_uri(card.model_uri)
        data = self.store_for(bucket).read(name)
        actual = hashlib.sha256(data).hexdigest()
        if actual != card.model_sha256:
            raise PermanentError(
                "hash_mismatch",
                f"{card.model_uri} now holds bytes with sha256 {actual}, but card "
                f"{card.card_id} is for {card.model_sha256}: the object was replaced; "
                "nothing was predicted",
            )
        model = self.loader(data)
        self.loads += 1
        _log.info(
            "model loaded",
            extra={"model_uri": card.model_uri, "model_sha256": card.model_sha256},
        )
        with self._lock:
            self._models[card.model_sha256] = model
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)
        return model
