"""The distances the drift check reports, held to SciPy and to the textbook formula, and
the chance allowance held to the chi-square quantile and to simulated days with no change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from attribution.profiles.distance import ZERO_SHARE, g_statistic, js_distance, psi
from attribution.verification.input_drift import chance_limit

counts = st.lists(st.integers(0, 10_000), min_size=2, max_size=12).filter(lambda c: sum(c) > 0)


@given(counts, st.data())
def test_psi_is_the_textbook_sum_over_floored_shares(
    expected: list[int], data: st.DataObject
) -> None:
    actual = data.draw(
        st.lists(st.integers(0, 10_000), min_size=len(expected), max_size=len(expected)).filter(
            lambda c: sum(c) > 0
        )
    )
    e = np.maximum(np.array(expected) / sum(expected), ZERO_SHARE)
    a = np.maximum(np.array(actual) / sum(actual), ZERO_SHARE)
    assert psi(expected, actual) == pytest.approx(float(np.sum((a - e) * np.log(a / e))), abs=1e-12)
    assert psi(expected, actual) >= 0
    assert psi(expected, expected) == pytest.approx(0.0, abs=1e-12)


@given(counts, st.data())
def test_js_distance_is_scipys_in_bits(p: list[int], data: st.DataObject) -> None:
    q = data.draw(
        st.lists(st.integers(0, 10_000), min_size=len(p), max_size=len(p)).filter(
            lambda c: sum(c) > 0
        )
    )
    assert js_distance(p, q) == pytest.approx(float(jensenshannon(p, q, base=2)), abs=1e-9)
    assert 0 <= js_distance(p, q) <= 1 + 1e-12


def test_spreads_with_no_bin_in_common_are_one_apart() -> None:
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)


@pytest.mark.parametrize("df", [1, 2, 4, 10, 31])
def test_the_chance_limit_is_the_chi_square_quantile_on_many_rows(df: int) -> None:
    assert chance_limit(df + 1, 10**9) == pytest.approx(stats.chi2.ppf(0.999, df), rel=0.05)


def test_the_chance_limit_allows_more_where_each_bin_expects_few_rows() -> None:
    assert chance_limit(32, 140) > chance_limit(32, 1400) > chance_limit(32, 10**9)
    assert chance_limit(1, 500) == chance_limit(11, 0) == float("inf")  # nothing to judge


unfloored = st.lists(st.integers(1, 1000), min_size=2, max_size=12)


@given(unfloored, st.data())
def test_the_g_statistic_is_scipys_likelihood_ratio(
    expected: list[int], data: st.DataObject
) -> None:
    observed = data.draw(
        st.lists(st.integers(0, 1000), min_size=len(expected), max_size=len(expected)).filter(
            lambda c: sum(c) > 0
        )
    )
    shares = np.array(expected) / sum(expected)
    scipy_g, _ = stats.power_divergence(
        observed, f_exp=shares * sum(observed), lambda_="log-likelihood"
    )
    assert g_statistic(expected, observed) == pytest.approx(float(scipy_g), rel=1e-9, abs=1e-9)


@settings(deadline=None, max_examples=5)
@given(st.integers(0, 2**31 - 1))
def test_days_drawn_from_training_are_almost_never_flagged(seed: int) -> None:
    """Slates of 140 rows from training's spread, over 10 bins and a missing one, and over
    30 categories with other and missing (many empty bins): flagged (PSI at 0.1 and G past
    the chance limit) on about 1 day in 1000 at most."""
    rng = np.random.default_rng(seed)
    for reference in (
        np.append(np.full(10, 0.097), 0.03),
        np.append(np.full(30, 0.032), [0.02, 0.02]),
    ):
        limit = chance_limit(len(reference), 140)
        days = rng.multinomial(140, reference, size=3000)
        flagged = [psi(reference, d) >= 0.1 and g_statistic(reference, d) >= limit for d in days]
        assert np.mean(flagged) <= 0.004
    # ...while a day with 30% of its rows moved to the top bin is flagged (nearly) always.
    reference = np.append(np.full(10, 0.097), 0.03)
    shifted = reference.copy()
    shifted[-2] += 0.3
    shifted[:9] -= 0.3 / 9
    moved = rng.multinomial(140, shifted, size=200)
    limit = chance_limit(11, 140)
    assert (
        np.mean([psi(reference, d) >= 0.1 and g_statistic(reference, d) >= limit for d in moved])
        > 0.95
    )
