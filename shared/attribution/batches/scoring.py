"""Score checked rows with a loaded model, the way CatBoost's own Python classes would.

A points model returns what ``CatBoostRegressor.predict`` returns (the exponent applied for
Poisson and Tweedie); an over/under classifier returns the OVER class's column of what
``CatBoostClassifier.predict_proba`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from attribution.batches.rows import CheckedRows, ModelInput, check_rows
from attribution.errors import PermanentError
from attribution.model_card.interface import (
    CatBoostOutput,
    FeatureType,
    ModelInterface,
    PredictionType,
)
from attribution.model_card.loading import ServedModel


@dataclass(frozen=True)
class Scores:
    """One model's output on checked rows: points or an OVER probability, per row."""

    prediction_type: PredictionType
    values: np.ndarray

    @property
    def points(self) -> np.ndarray | None:
        return self.values if self.prediction_type is PredictionType.POINTS else None

    @property
    def over_probability(self) -> np.ndarray | None:
        return self.values if self.prediction_type is PredictionType.OVER_PROBABILITY else None


def score(served: ServedModel, features: ModelInput) -> Scores:
    interface = served.interface
    served.require_servable()
    assert interface.prediction_type is not None and interface.catboost_output is not None
    if len(features) == 0:
        return Scores(interface.prediction_type, np.empty(0, dtype=np.float64))
    output = interface.catboost_output
    raw = served.model.predict(_pool(interface, features), prediction_type=output.value)
    values = np.asarray(raw, dtype=np.float64)
    if output is CatBoostOutput.PROBABILITY:
        values = np.ascontiguousarray(values[:, interface.over_class_index])
    if values.shape != (len(features),):
        raise PermanentError(
            "unservable_model",
            f"model {served.name} returned {values.shape[1:] or 'no'} values per row, not one: "
            "it cannot be used for batches",
        )
    return Scores(interface.prediction_type, values)


def _pool(interface: ModelInterface, features: ModelInput) -> Any:
    if isinstance(features, np.ndarray):
        return features
    from catboost import Pool

    return Pool(
        features,
        cat_features=[f.index for f in interface.of_type(FeatureType.CATEGORICAL)],
        text_features=[f.index for f in interface.of_type(FeatureType.TEXT)] or None,
    )


def score_rows(served: ServedModel, table: pa.Table, game_date: date) -> tuple[CheckedRows, Scores]:
    """Check a batch's rows against the model's interface, then score the good ones."""
    checked = check_rows(table, interface=served.interface, game_date=game_date)
    return checked, score(served, checked.features)


def text_columns(*interfaces: ModelInterface) -> tuple[str, ...]:
    """The features whose values are text to any of the models, read as text from a CSV."""
    names = (f.name for i in interfaces for f in i.features if f.type is not FeatureType.NUMERIC)
    return tuple(dict.fromkeys(names))
