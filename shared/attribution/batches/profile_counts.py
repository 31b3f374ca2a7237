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

from attribution.batches.lineup import Role
from attribution.batches.request import BatchRequest
from attribution.batches.rows import ModelInput
from attribution.model_card.card import ModelCard
from attribution.model_card.interface import FeatureType, ModelInterface
from attribution.model_card.profile import PREDICTION, CategoryShares, NumericBins, TrainingProfile
from attribution.ports import Warehouse
from attribution.warehouse.tables import table_spec

PROFILE_COUNTS_TABLE = "input_profile_counts"


def feature_columns(features: ModelInput, interface: ModelInterface) -> dict[str, np.ndarray]:
    """Each numeric and categorical feature's values, as the model is fed them."""
    columns: dict[str, np.ndarray] = {}
    for feature in interface.features:
        if feature.type not in (FeatureType.NUMERIC, FeatureType.CATEGORICAL):
            continue
        if isinstance(features, np.ndarray):
            columns[feature.name] = features[:, feature.index]
        else:
            columns[feature.name] = features[feature.name].to_numpy()
    return columns


def count_categories(
    shares: CategoryShares, labels: np.ndarray, missing_token: str | None = None
) -> np.ndarray:
    """How many of ``labels`` are each of the profile's categories, then other, then missing
    (null, or the model's missing-category token)."""
    series = pd.Series(labels, dtype=object)
    missing = series.isna().to_numpy()
    if missing_token is not None:
        missing |= (series == missing_token).to_numpy()
    codes = pd.Index(shares.categories, dtype=object).get_indexer(pd.Index(series))
    known = codes >= 0
    counts = np.bincount(codes[known], minlength=len(shares.categories))
    other = int((~known & ~missing).sum())
    return np.append(counts, [other, int(missing.sum())]).astype(np.int64)


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
    columns = feature_columns(features, interface)
    for feature in profile.features:
        values = columns.get(feature.name)
        if values is None:
            continue
        if isinstance(feature, CategoryShares):
            counts = count_categories(feature, values, interface.categorical_missing_value)
        else:
            counts = feature.count(values)
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
