"""Read a model's interface off the loaded artifact, by the rules of CatBoost's own classes.

``CatBoostRegressor.predict`` applies the exponent for Poisson and Tweedie losses and
returns raw values otherwise; ``CatBoostClassifier.predict_proba`` gives one probability per
class, in the order of the model's class names. Anything else (multiclass, ranking, several
targets, survival, embedding features) is described, never guessed at: the interface says
the model is not servable, and why. Only what loads models imports this (it needs CatBoost).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attribution.model_card.interface import (
    CATEGORICAL_MISSING_KEY,
    OVER_CLASS_KEY,
    CatBoostOutput,
    FeatureType,
    ModelFeature,
    ModelInterface,
    PredictionType,
)


def interface_of(model: Any, metadata: Mapping[str, str]) -> ModelInterface:
    """The calling facts of a loaded ``catboost.CatBoost`` model and its metadata."""
    names = tuple(str(n) for n in (model.feature_names_ or ()))
    kinds = {i: FeatureType.CATEGORICAL for i in model.get_cat_feature_indices()}
    kinds |= {i: FeatureType.TEXT for i in model.get_text_feature_indices()}
    kinds |= {i: FeatureType.EMBEDDING for i in model.get_embedding_feature_indices()}
    features = tuple(
        ModelFeature(name=name, index=i, type=kinds.get(i, FeatureType.NUMERIC))
        for i, name in enumerate(names)
    )
    params = _json_object(metadata.get("params", ""))
    binarization = params.get("data_processing_options", {}).get("float_features_binarization")
    nan_mode = binarization.get("nan_mode") if isinstance(binarization, dict) else None
    missing_token = metadata.get(CATEGORICAL_MISSING_KEY)
    base: dict[str, Any] = {
        "features": features,
        "nan_mode": str(nan_mode) if nan_mode else None,
        "categorical_missing_value": missing_token if missing_token else None,
    }
    embedding = [f.name for f in features if f.type is FeatureType.EMBEDDING]
    if embedding:
        return _unservable(
            base,
            f"embedding features ({', '.join(embedding)}) cannot be sent in batch rows",
        )
    loss = _loss_type(params)
    return _by_loss(base, loss, metadata)


def _by_loss(base: dict[str, Any], loss: str | None, metadata: Mapping[str, str]) -> ModelInterface:
    from catboost import _catboost

    if loss is None:
        return _unservable(base, "the model does not record its loss function")
    if _catboost.is_multitarget_objective(loss) or loss in ("RMSEWithUncertainty", "MultiQuantile"):
        return _unservable(base, f"loss {loss} predicts several values per row, not one")
    if _catboost.is_groupwise_metric(loss) or _catboost.is_pairwise_metric(loss):
        return _unservable(base, f"loss {loss} ranks rows within groups; it predicts no points")
    if _catboost.is_survivalregression_objective(loss):
        return _unservable(base, f"loss {loss} models survival times, not points")
    if loss in ("MultiClass", "MultiClassOneVsAll"):
        return _unservable(base, f"loss {loss} is multiclass; an over/under model has two classes")
    if _catboost.is_classification_objective(loss):
        return _binary_classifier(base, metadata)
    if loss.startswith(("Poisson", "Tweedie")):
        output = CatBoostOutput.EXPONENT
    else:
        output = CatBoostOutput.RAW_FORMULA_VAL
    return ModelInterface(**base, prediction_type=PredictionType.POINTS, catboost_output=output)


def _binary_classifier(base: dict[str, Any], metadata: Mapping[str, str]) -> ModelInterface:
    class_params = _json_object(metadata.get("class_params", ""))
    raw_names = class_params.get("class_names")
    label_type = class_params.get("class_label_type")
    # CrossEntropy on probabilities records no class names: column 1 is the target's.
    names = tuple(_class_name(v) for v in raw_names) if raw_names else None
    if names is not None and len(names) != 2:
        return _unservable(base, f"the classifier has {len(names)} classes; over/under has two")
    declared = metadata.get(OVER_CLASS_KEY, "").strip()
    over: str | None
    if names is None:
        over = None  # probabilistic targets: column 1 is the probability of the target
    elif declared:
        matches = [n for n in names if n.lower() == declared.lower()]
        if not matches:
            return _unservable(
                base,
                f"metadata {OVER_CLASS_KEY}={declared!r} is not one of the classes {list(names)}",
                class_names=names,
            )
        over = matches[0]
    elif label_type == "Boolean":
        over = "true"
    elif set(names) == {"0", "1"}:
        over = "1"
    else:
        labelled = [n for n in names if n.upper() == "OVER"]
        if not labelled:
            return _unservable(
                base,
                f"classes {list(names)}: no class is named OVER; set model metadata "
                f"{OVER_CLASS_KEY} to the class that means the OVER hits",
                class_names=names,
            )
        over = labelled[0]
    return ModelInterface(
        **base,
        prediction_type=PredictionType.OVER_PROBABILITY,
        catboost_output=CatBoostOutput.PROBABILITY,
        class_names=names,
        over_class=over,
    )


def _class_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unservable(base: dict[str, Any], reason: str, **extra: Any) -> ModelInterface:
    return ModelInterface(**base, **extra, servable=False, unservable_reason=reason)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _loss_type(params: Mapping[str, Any]) -> str | None:
    loss = params.get("loss_function")
    if isinstance(loss, dict) and isinstance(loss.get("type"), str):
        return str(loss["type"])
    return None
