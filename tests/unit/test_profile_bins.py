"""The training profile's bins, held to plain NumPy and pandas: deciles by ``np.quantile``,
bins by ``np.digitize``, category shares by ``value_counts``; its JSON round trip and size
limit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.batches.profile_counts import count_categories
from attribution.model_card.profile import (
    MAX_PROFILE_BYTES,
    CategoryShares,
    NumericBins,
    ProfileError,
    TrainingProfile,
    check_size,
    numeric_bins,
    parse_profile,
)
from attribution.profiles.building import category_shares

numbers = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False) | st.just(float("nan")) | st.integers(0, 5).map(float),
    min_size=1,
    max_size=300,
)


@given(numbers, numbers)
def test_numeric_counts_are_numpys_digitize(training: list[float], day: list[float]) -> None:
    bins = numeric_bins("x", np.array(training))
    values = np.array(day)
    counts = bins.count(values)
    present = values[~np.isnan(values)]
    expected = np.bincount(
        np.digitize(present, np.array(bins.edges), right=True), minlength=len(bins.edges) + 1
    )
    assert counts.tolist() == [*expected.tolist(), int(np.isnan(values).sum())]
    assert counts.sum() == len(values)
    assert len(counts) == len(bins.reference) == len(bins.labels)


@given(numbers)
def test_numeric_bins_are_training_deciles_and_shares(training: list[float]) -> None:
    values = np.array(training)
    bins = numeric_bins("x", values)
    present = values[~np.isnan(values)]
    if len(present):
        assert bins.edges == pytest.approx(
            tuple(np.unique(np.quantile(present, np.arange(1, 10) / 10)))
        )
    assert bins.missing_share == pytest.approx(np.isnan(values).mean(), abs=1e-6)
    assert sum(bins.reference) == pytest.approx(1.0, abs=1e-5)
    if len(present):
        deciles = np.unique(np.quantile(present, np.arange(1, 10) / 10))
        in_bins = np.bincount(np.digitize(present, deciles, right=True), minlength=len(deciles) + 1)
        assert bins.shares == pytest.approx(tuple(in_bins / len(values)), abs=1e-6)


@given(numbers, st.floats(-2e6, 2e6, allow_nan=False))
def test_a_value_lands_in_the_bin_its_edges_say(training: list[float], value: float) -> None:
    bins = numeric_bins("x", np.array(training))
    counts = bins.count(np.array([value]))
    assert counts.sum() == 1
    landed = int(np.argmax(counts))
    edges = bins.edges
    low = edges[landed - 1] if landed > 0 else -np.inf
    high = edges[landed] if landed < len(edges) else np.inf
    assert low < value <= high, (landed, edges)


categories = st.lists(st.sampled_from(["LAL", "BOS", "NYK", "07", "", "missing"]) | st.none())


@given(categories, categories)
def test_category_counts_are_pandas_value_counts(
    training: list[str | None], day: list[str | None]
) -> None:
    token = "missing"
    profile = category_shares("team", np.array(training, dtype=object), token)
    counts = count_categories(profile, np.array(day, dtype=object), token)
    series = pd.Series(day, dtype=object)
    missing = series.isna() | (series == token)
    frequency = series[~missing].value_counts()
    assert counts[:-2].tolist() == [int(frequency.get(c, 0)) for c in profile.categories]
    assert counts[-1] == missing.sum()
    assert counts[-2] == (~missing).sum() - counts[:-2].sum()
    trained = pd.Series(training, dtype=object)
    kept = trained[~(trained.isna() | (trained == token))]
    shares = kept.value_counts() / len(trained) if len(trained) else kept.value_counts()
    for category, share in zip(profile.categories, profile.shares, strict=True):
        assert share == pytest.approx(shares[category], abs=1e-6)


def test_only_the_thirty_commonest_categories_are_kept() -> None:
    labels = np.array([f"team{i:02d}" for i in range(40) for _ in range(40 - i)], dtype=object)
    profile = category_shares("team", labels)
    assert profile.categories == tuple(f"team{i:02d}" for i in range(30))
    assert profile.other_share == pytest.approx(sum(range(1, 11)) / len(labels), abs=1e-6)
    assert not profile.complete


@settings(max_examples=50)
@given(numbers, categories)
def test_a_profile_round_trips_through_its_json(
    values: list[float], labels: list[str | None]
) -> None:
    profile = TrainingProfile(
        rows=len(values),
        features=(
            numeric_bins("minutes", np.array(values)),
            category_shares("team", np.array(labels, dtype=object)),
        ),
        prediction=numeric_bins("prediction", np.array(values)),
    )
    assert parse_profile(check_size(profile)) == profile


def test_a_profile_over_64_kb_is_refused_with_its_size() -> None:
    features = tuple(
        CategoryShares(
            name=f"code_{i}",
            categories=tuple(f"category-{j:04d}-{i}" for j in range(30)),
            shares=tuple(1 / 30 for _ in range(30)),
            other_share=0,
            missing_share=0,
        )
        for i in range(80)
    )
    profile = TrainingProfile(rows=1, features=features)
    with pytest.raises(ProfileError, match=rf"over the {MAX_PROFILE_BYTES}-byte limit"):
        check_size(profile)
    with pytest.raises(ProfileError, match="over the"):
        parse_profile(profile.compact_json())


@pytest.mark.parametrize(
    "text, reason",
    [
        ("not json", "not valid"),
        ('{"version": 9, "rows": 1, "features": []}', "version 9"),
        ('{"version": 1, "rows": 1, "features": [{"name": "x", "kind": "numeric", '
         '"edges": [2, 1], "shares": [0.5, 0.5, 0], "missing_share": 0}]}', "increasing"),
    ],
)  # fmt: skip
def test_a_malformed_profile_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ProfileError, match=reason):
        parse_profile(text)


def test_every_value_of_a_constant_feature_lands_in_one_bin() -> None:
    bins = numeric_bins("home_game", np.ones(100))
    assert bins.edges == (1.0,)
    assert bins.count(np.array([1.0, 1.0, 0.0, 2.0, np.nan])).tolist() == [3, 1, 1]
    assert isinstance(bins, NumericBins)
