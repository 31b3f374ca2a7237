"""Count a batch's checked rows, and a model's scores on them, into the bins of the training
profile its card carries: one row per model, feature and bin in ``input_profile_counts``,
which the verifier sums per day (nothing re-reads a batch's input).

The values counted are exactly the model's input (``CheckedRows.features``), so a profile
built from training rows read the same way (``attribution.profiles``) counts like a batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.batches.lineup import Role
from attribution.batches.request import BatchRequest
from attribution.batches.rows import ModelInput
from attribution.model_card.card import ModelCard
from attribution.model_card.interface import FeatureType, ModelFeature, ModelInterface
from attribution.model_card.profile import PREDICTION, CategoryShares, NumericBins, TrainingProfile
from attribution.ports import Warehouse
from attribution.warehouse.tables import table_spec

PROFILE_COUNTS_TABLE = "input_profile_counts"
PROFILED_TYPES = (FeatureType.NUMERIC, FeatureType.CATEGORICAL)


def feature_column(features: ModelInput, feature: ModelFeature) -> np.ndarray:
    """One feature's values, as the model is fed them."""
    if isinstance(features, np.ndarray):
        return features[:, feature.index]
    return features[feature.name].to_numpy()


def feature_columns(features: ModelInput, interface: ModelInterface) -> dict[str, np.ndarray]:
    """Each numeric and categorical feature's values, as the model is fed them."""
    return {
        feature.name: feature_column(features, feature)
        for feature in interface.features
        if feature.type in PROFILED_TYPES
    }


def _labels(features: ModelInput, feature: ModelFeature) -> np.ndarray | pa.Array:
    """A feature's values for ``count_categories``: a DataFrame's column as Arrow (pandas keeps
    text in Arrow, so this copies nothing), a matrix's as it is fed."""
    if isinstance(features, pd.DataFrame):
        return pa.array(features[feature.name], from_pandas=True)
    return feature_column(features, feature)


def count_categories(
    shares: CategoryShares, labels: np.ndarray | pa.Array, missing_token: str | None = None
) -> np.ndarray:
    """How many of ``labels`` are each of the profile's categories, then other, then missing
    (null, or the model's missing-category token). Counted in Arrow: a value that is not text
    is no category."""
    values = labels if isinstance(labels, pa.Array) else pa.array(labels, from_pandas=True)
    missing = values.is_null().to_numpy(zero_copy_only=False)
    counts = np.zeros(len(shares.categories), dtype=np.int64)
    known = np.zeros(len(values), dtype=bool)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        if missing_token is not None:
            token = pc.fill_null(pc.equal(values, missing_token), False)
            missing |= token.to_numpy(zero_copy_only=False)
        categories = pa.array(shares.categories, type=values.type)
        codes = pc.index_in(values, value_set=categories)
        known = codes.is_valid().to_numpy(zero_copy_only=False)
        found = codes.drop_null().to_numpy()
        counts = np.bincount(found, minlength=len(shares.categories)).astype(np.int64)
    other = int(np.count_nonzero(~known & ~missing))
    return np.append(counts, [other, int(np.count_nonzero(missing))]).astype(np.int64)


@dataclass(frozen=True)
class BinCounts:
    """One profiled quantity's counts in one batch, in its profile's bin order."""

    profile: NumericBins | CategoryShares
    counts: np.ndarray
    is_prediction: bool = False


def bin_counts(
    profile: TrainingProfile,
    interface: ModelInterface,
    features: ModelInput,
    predictions: np.ndarray | None,
) -> Iterator[BinCounts]:
    """The counts of every profiled feature the model is fed, then of its predictions."""
    fed = {f.name: f for f in interface.features if f.type in PROFILED_TYPES}
    token = interface.categorical_missing_value
    for feature in profile.features:
        model_feature = fed.get(feature.name)
        if model_feature is None:
            continue
        if isinstance(feature, CategoryShares):
            counts = count_categories(feature, _labels(features, model_feature), token)
        else:
            counts = feature.count(feature_column(features, model_feature))
        yield BinCounts(feature, counts)
    if profile.prediction is not None and predictions is not None:
        yield BinCounts(profile.prediction, profile.prediction.count(predictions), True)


def profile_count_rows(
    request: BatchRequest,
    card: ModelCard,
    *,
    role: Role,
    interface: ModelInterface,
    features: ModelInput,
    predictions: np.ndarray,
    created_at: datetime,
) -> pa.Table | None:
    """The batch's rows for ``input_profile_counts`` (None when the card has no profile):
    every bin of every profiled feature, counted or not, so a day's sum has every bin."""
    profile = card.training_profile
    if profile is None:
        return None
    prefix = f"{request.batch_id}:{card.model_sha256[:16]}"
    columns: dict[str, list[object]] = {
        name: []
        for name in ("count_id", "feature", "feature_kind", "bin_index", "bin_label", "row_count")
    }
    for counted in bin_counts(profile, interface, features, predictions):
        name = PREDICTION if counted.is_prediction else counted.profile.name
        kind = PREDICTION if counted.is_prediction else counted.profile.kind
        for index, (label, count) in enumerate(
            zip(counted.profile.labels, counted.counts.tolist(), strict=True)
        ):
            columns["count_id"].append(f"{prefix}:{kind}:{name}:{index}")
            columns["feature"].append(name)
            columns["feature_kind"].append(kind)
            columns["bin_index"].append(index)
            columns["bin_label"].append(label)
            columns["row_count"].append(count)
    n = len(columns["count_id"])
    constant = {
        "batch_id": request.batch_id,
        "system_id": request.system_id,
        "game_date": request.game_date,
        "model_sha256": card.model_sha256,
        "model_card_id": card.card_id,
        "model_role": role.value,
        "created_at": created_at,
    }
    data = {**{name: [value] * n for name, value in constant.items()}, **columns}
    return pa.Table.from_pydict(data, schema=table_spec(PROFILE_COUNTS_TABLE).arrow_schema)


def write_profile_counts(
    warehouse: Warehouse,
    request: BatchRequest,
    card: ModelCard,
    *,
    role: Role,
    interface: ModelInterface,
    features: ModelInput,
    predictions: np.ndarray,
    created_at: datetime,
) -> None:
    """Keep the batch's counts for the card's profile, once (a redelivery adds nothing)."""
    rows = profile_count_rows(
        request,
        card,
        role=role,
        interface=interface,
        features=features,
        predictions=predictions,
        created_at=created_at,
    )
    if rows is None:
        return
    warehouse.insert_new_rows(
        PROFILE_COUNTS_TABLE,
        rows,
        key=["count_id"],
        scope={
            "batch_id": request.batch_id,
            "game_date": request.game_date,
            "model_sha256": card.model_sha256,
        },
        unique_keys=True,
    )
