"""How to call a model: its features and their types, missing values, and what it predicts.

The card carries these facts (``attribution.model_card.interface_reading`` reads them off a loaded
model), so a batch knows exactly what to feed the model and what the number it returns
means, and a model that cannot be served says so, and why.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator


class FeatureType(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"
    EMBEDDING = "embedding"


class PredictionType(StrEnum):
    POINTS = "points"
    OVER_PROBABILITY = "over_probability"


class CatBoostOutput(StrEnum):
    """The ``prediction_type`` a batch passes to CatBoost's ``predict``."""

    RAW_FORMULA_VAL = "RawFormulaVal"
    EXPONENT = "Exponent"
    PROBABILITY = "Probability"


class ModelFeature(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    index: int
    type: FeatureType


# The metadata keys a training script may set to say what the model cannot tell by itself.
OVER_CLASS_KEY = "over_class"
CATEGORICAL_MISSING_KEY = "cat_missing_value"


class ModelInterface(BaseModel):
    """The calling facts of one model; a card carries them as its own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: tuple[ModelFeature, ...] = ()
    nan_mode: str | None = None
    prediction_type: PredictionType | None = None
    catboost_output: CatBoostOutput | None = None
    class_names: tuple[str, ...] | None = None
    over_class: str | None = None
    categorical_missing_value: str | None = None
    servable: bool = True
    unservable_reason: str | None = None

    @model_validator(mode="after")
    def _interface_consistent(self) -> ModelInterface:
        if self.servable == (self.unservable_reason is not None):
            raise ValueError("unservable_reason is given exactly when servable is false")
        names = self.class_names
        if self.over_class is not None and names is not None and self.over_class not in names:
            raise ValueError(f"over_class {self.over_class!r} is not a class name")
        return self

    def of_type(self, kind: FeatureType) -> tuple[ModelFeature, ...]:
        return tuple(f for f in self.features if f.type is kind)

    @property
    def all_numeric(self) -> bool:
        return all(f.type is FeatureType.NUMERIC for f in self.features)

    @property
    def forbids_missing(self) -> bool:
        return self.nan_mode == "Forbidden"

    @property
    def over_class_index(self) -> int:
        """The probability column of the OVER class (1 when the model names no classes)."""
        if self.class_names is None or self.over_class is None:
            return 1
        return self.class_names.index(self.over_class)
