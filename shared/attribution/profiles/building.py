"""Make a model's training profile from its training rows, and keep it in the model.

The rows are read exactly as a batch reads its own (``batches.rows.check_features``) and the
predictions are the model's own, as a batch scores them (``batches.scoring.score``), so a day
that looks like training counts into the same shares. Call ``embed_profile(model, frame)``
after training and before ``save_model``; ``attribution profile embed`` does it for a saved
file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from attribution.batches.profile_counts import count_categories, feature_columns
from attribution.batches.rows import check_features, format_of, read_rows, unchecked_slate
from attribution.batches.scoring import score, text_columns
from attribution.model_card.interface import FeatureType, ModelInterface
from attribution.model_card.interface_reading import interface_of
from attribution.model_card.loading import ServedModel
from attribution.model_card.profile import (
    MAX_CATEGORIES,
    PREDICTION,
    PROFILE_METADATA_KEY,
    CategoryShares,
    NumericBins,
    ProfileError,
    TrainingProfile,
    check_size,
    numeric_bins,
    shares_of,
)

TrainingRows: TypeAlias = pd.DataFrame | pa.Table


def model_interface(model: Any) -> ModelInterface:
    metadata = {str(k): str(v) for k, v in model.get_metadata().items()}
    return interface_of(model, metadata)


def build_profile(model: Any, rows: TrainingRows) -> TrainingProfile:
    """The profile of ``rows`` (the model's training rows, as a DataFrame or Arrow table
    with a column per feature) and of the model's predictions on them."""
    interface = model_interface(model)
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
    absent = [f.name for f in interface.features if f.name not in table.column_names]
    if absent:
        raise ProfileError(
            f"the training rows lack the model's feature(s) {', '.join(absent)} (column "
            "names must match the model's exactly)"
        )
    checked = check_features(unchecked_slate(table), interface)
    if checked.good == 0:
        reason = checked.rejects[0].reason if checked.rejects else "there are no rows"
        raise ProfileError(f"no training row can be profiled: {reason}")
    columns = feature_columns(checked.features, interface)
    features: list[NumericBins | CategoryShares] = []
    for feature in interface.features:
        if feature.name not in columns:
            continue  # text and embedding features are not profiled
        values = columns[feature.name]
        if feature.type is FeatureType.CATEGORICAL:
            token = interface.categorical_missing_value
            features.append(category_shares(feature.name, values, token))
        else:
            features.append(numeric_bins(feature.name, values))
    prediction = None
    if interface.servable and interface.prediction_type is not None:
        served = ServedModel(model, interface, "the model")
        prediction = numeric_bins(PREDICTION, score(served, checked.features).values)
    return TrainingProfile(rows=checked.good, features=tuple(features), prediction=prediction)


def category_shares(
    name: str, labels: np.ndarray, missing_token: str | None = None
) -> CategoryShares:
    """The ``MAX_CATEGORIES`` commonest categories of ``labels`` (ties by name), the rest
    as other."""
    series = pd.Series(labels, dtype=object)
    missing = series.isna()
    if missing_token is not None:
        missing |= series == missing_token
    frequency = series[~missing].astype(str).value_counts()
    ranked = sorted(frequency.items(), key=lambda item: (-item[1], item[0]))
    top = tuple(str(category) for category, _ in ranked[:MAX_CATEGORIES])
    shares = CategoryShares(name=name, categories=top, shares=(), other_share=0, missing_share=0)
    counted = shares_of(count_categories(shares, series.to_numpy(), missing_token))
    return shares.model_copy(
        update={"shares": counted[:-2], "other_share": counted[-2], "missing_share": counted[-1]}
    )


def embed_profile(model: Any, rows: TrainingRows) -> TrainingProfile:
    """Profile ``rows`` and keep the profile in the model's metadata (save the model after).

    ProfileError when the profile is over the size limit, or no row can be profiled."""
    profile = build_profile(model, rows)
    model.get_metadata()[PROFILE_METADATA_KEY] = check_size(profile)
    return profile


def read_training_rows(path: Path, model: Any) -> pa.Table:
    """A CSV, JSONL or Parquet file of training rows, its categorical columns read as the
    text in the cells (as a batch reads them)."""
    interface = model_interface(model)
    return read_rows(
        path.read_bytes(),
        format_of(path.name),
        source=str(path),
        text_columns=text_columns(interface),
    )
