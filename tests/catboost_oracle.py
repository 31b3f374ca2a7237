"""What the user's own CatBoost class says about rows: the independent answer tests compare
the product's stored predictions with.

The rows are turned into the DataFrame a user would build by hand (numbers as floats, None
as NaN, categories as text) and scored with ``CatBoostRegressor.predict`` or
``CatBoostClassifier.predict_proba``, never with the product's own code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, CatBoostRegressor


def user_frame(model: Any, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    categorical = set(model.get_cat_feature_indices()) | set(model.get_text_feature_indices())
    columns: dict[str, list[Any]] = {}
    for index, name in enumerate(model.feature_names_):
        if index in categorical:
            columns[name] = [str(row[name]) for row in rows]
        else:
            columns[name] = [np.nan if row.get(name) is None else float(row[name]) for row in rows]
    return pd.DataFrame(columns)


def regressor_predictions(path: Path, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    model = CatBoostRegressor()
    model.load_model(str(path))
    return np.asarray(model.predict(user_frame(model, rows)), dtype=np.float64)


def over_probabilities(
    path: Path, rows: Sequence[Mapping[str, Any]], over_class: Any = "OVER"
) -> np.ndarray:
    model = CatBoostClassifier()
    model.load_model(str(path))
    column = list(model.classes_).index(over_class)
    return np.asarray(model.predict_proba(user_frame(model, rows))[:, column], dtype=np.float64)
