"""How far a day's spread over a profile's bins is from training's.

PSI (population stability index) is ``sum((a - e) * ln(a / e))`` over the bins, with ``e``
training's share and ``a`` the day's, a share of zero counted as ``ZERO_SHARE`` (else one
empty bin makes it infinite). Jensen-Shannon distance is the square root of the
Jensen-Shannon divergence in bits: 0 for the same spread, 1 for spreads with no bin in
common. The G statistic (``g_statistic``) says whether a day's counts differ from training's
shares by more than chance: with no change it follows a chi-square with one degree of freedom
fewer than the bins, whatever the bins' sizes (an empty bin adds nothing to it, where it adds
to PSI through the floor).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ZERO_SHARE = 1e-4


def _distribution(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Counts as shares, along the last axis (a row of zeros stays zeros)."""
    array = np.asarray(values, dtype=np.float64)
    total = array.sum(axis=-1, keepdims=True)
    return np.asarray(np.divide(array, total, out=np.zeros_like(array), where=total > 0))


def psi_per_row(expected: Sequence[float] | np.ndarray, actual: np.ndarray) -> np.ndarray:
    """PSI of each row of ``actual`` (shares or counts) against ``expected``."""
    e = np.maximum(_distribution(expected), ZERO_SHARE)
    a = np.maximum(_distribution(actual), ZERO_SHARE)
    return np.asarray(np.sum((a - e) * np.log(a / e), axis=-1))


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """PSI of ``actual`` against ``expected`` (shares or counts, in the same bin order)."""
    return float(psi_per_row(expected, np.asarray(actual, dtype=np.float64)))


def js_distance(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Jensen-Shannon distance (base 2) between two spreads over the same bins."""
    p_, q_ = _distribution(p), _distribution(q)
    m = (p_ + q_) / 2

    def kl(x: np.ndarray) -> float:
        present = x > 0
        return float(np.sum(x[present] * np.log2(x[present] / m[present])))

    return float(np.sqrt(max((kl(p_) + kl(q_)) / 2, 0.0)))


def g_per_row(expected: Sequence[float] | np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The G statistic of each row of ``counts`` against the shares ``expected``."""
    c = np.asarray(counts, dtype=np.float64)
    n = c.sum(axis=-1, keepdims=True)
    e = np.maximum(_distribution(expected), ZERO_SHARE)
    ratio = np.divide(c, n * e, out=np.ones_like(c), where=c > 0)
    return np.asarray(2 * np.sum(c * np.log(ratio), axis=-1))


def g_statistic(
    expected: Sequence[float] | np.ndarray, counts: Sequence[int] | np.ndarray
) -> float:
    """The likelihood-ratio (G) statistic of ``counts`` against the shares ``expected``: twice
    the sum of ``c ln(c / (n e))`` over the bins with counts, ``e`` floored at ``ZERO_SHARE``."""
    return float(g_per_row(expected, np.asarray(counts, dtype=np.float64)))
