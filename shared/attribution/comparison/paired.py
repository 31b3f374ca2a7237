"""Paired statistics for a challenger scored beside the champion on the same predictions.

A pair is one prediction (game_date, player, line, sportsbook) that both models picked and
that was graded for both (a PASS or a push is not graded). With ``b`` = champion right and
challenger wrong, ``c`` = champion wrong and challenger right, only the ``b + c`` discordant
pairs tell the models apart: the exact McNemar test asks whether ``c`` differs from ``b``.
Pure Python and numpy (no scipy: the deployed function does not ship it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

_NORMAL = NormalDist()
_CORNISH_FISHER_DF = 1000  # above this many degrees of freedom the expansion is exact enough
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


# -- distributions ---------------------------------------------------------------------------


def binomial_half_cdf(k: int, m: int) -> float:
    """P[X <= k] for X ~ Binomial(m, 1/2).

    The largest term, P[X = k], is taken in log space by Loader's saddle-point method (the one
    behind R's ``dbinom``), whose error is absolute in the log, so relative in the term; the
    smaller terms below it follow as ratios. Good to about 1e-13 relative for any ``m`` (a tail
    below about 1e-308 comes out as 0.0, never as an overflow)."""
    if m < 0 or k < 0:
        raise ValueError(f"need 0 <= k and 0 <= m, not k={k}, m={m}")
    if k >= m:
        return 1.0
    if 2 * k > m:  # the terms below k are not all smaller: take the complement's tail
        return 1.0 - binomial_half_cdf(m - k - 1, m)
    total, term = 1.0, 1.0
    for i in range(k, 0, -1):
        term *= i / (m - i + 1)
        total += term
        if term < total * 1e-17:
            break
    return math.exp(_log_binomial_half_pmf(k, m) + math.log(total))


def _log_binomial_half_pmf(k: int, m: int) -> float:
    """log P[X = k], X ~ Binomial(m, 1/2), 0 <= k <= m (Loader 2000)."""
    if k in (0, m):
        return -m * math.log(2.0)
    half = m / 2
    log_c = (
        _stirling_error(m)
        - _stirling_error(k)
        - _stirling_error(m - k)
        - _deviance(k, half)
        - _deviance(m - k, half)
    )
    return log_c - 0.5 * math.log(2 * math.pi * k * (m - k) / m)


def _stirling_error(n: int) -> float:
    """log(n!) - log(sqrt(2 pi n) (n/e)^n), n >= 1."""
    if n <= 15:
        return math.log(math.factorial(n)) - (n + 0.5) * math.log(n) + n - _HALF_LOG_TWO_PI
    nn = float(n) * n
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * nn)) / nn) / nn) / nn) / n


def _deviance(x: float, mean: float) -> float:
    """x log(x / mean) + mean - x, without cancellation when x is near mean."""
    if abs(x - mean) >= 0.1 * (x + mean):
        return x * math.log(x / mean) + mean - x
    v = (x - mean) / (x + mean)
    total = (x - mean) * v
    power = 2 * x * v
    v2 = v * v
    for j in range(1, 1000):
        power *= v2
        following = total + power / (2 * j + 1)
        if following == total:
            break
        total = following
    return total


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: min(1, 2 P[X <= min(b, c)]), X ~ Binomial(b + c, 1/2).
    1.0 when there is no discordant pair."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, not b={b}, c={c}")
    if b + c == 0:
        return 1.0
    return min(1.0, 2.0 * binomial_half_cdf(min(b, c), b + c))


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (stdlib ``statistics.NormalDist``)."""
    _check_probability("probability", probability)
    return _NORMAL.inv_cdf(probability)


def student_t_quantile(probability: float, df: int) -> float:
    """The Student t quantile for integer ``df >= 1``, to about 1e-12.

    Up to 1000 degrees of freedom: Newton's method on the exact finite-series CDF (Abramowitz
    & Stegun 26.7.3-4), started below the root so that it climbs to it monotonically. Above:
    the Cornish-Fisher expansion in 1/df (A&S 26.7.5), whose error there is below 1e-12."""
    _check_probability("probability", probability)
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, not {df}")
    if probability < 0.5:
        return -student_t_quantile(1.0 - probability, df)
    if probability == 0.5:
        return 0.0
    if df == 1:
        return math.tan(math.pi * (probability - 0.5))
    if df == 2:
        return (2 * probability - 1) / math.sqrt(2 * probability * (1 - probability))
    z = _NORMAL.inv_cdf(probability)
    guess = _cornish_fisher(z, df)
    if df > _CORNISH_FISHER_DF:
        return guess
    target = 2 * probability - 1  # P[|T| <= t]
    t = guess if _t_central(guess, df) <= target else z  # the t quantile is never below z
    log_density = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    for _ in range(200):
        density = math.exp(log_density - (df + 1) / 2 * math.log1p(t * t / df))
        step = (_t_central(t, df) - target) / (2 * density)
        t -= step
        if abs(step) <= 1e-14 * max(1.0, abs(t)):
            break
    return t


def _cornish_fisher(z: float, df: int) -> float:
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df


def _t_central(t: float, df: int) -> float:
    """P[|T| <= t] for t >= 0 (A&S 26.7.3 for odd df, 26.7.4 for even)."""
    cos2 = df / (df + t * t)
    sin = t / math.sqrt(df + t * t)
    total, term = 1.0, 1.0
    if df % 2 == 0:
        for j in range(1, (df - 2) // 2 + 1):
            term *= (2 * j - 1) / (2 * j) * cos2
            total += term
        return sin * total
    theta = math.atan(t / math.sqrt(df))
    if df == 1:
        return 2 * theta / math.pi
    for j in range(1, (df - 3) // 2 + 1):
        term *= (2 * j) / (2 * j + 1) * cos2
        total += term
    return 2 / math.pi * (theta + sin * math.sqrt(cos2) * total)


def _check_probability(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, not {value}")


# -- inputs ----------------------------------------------------------------------------------


def _as_correct(name: str, values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, not of shape {array.shape}")
    if array.dtype != np.bool_:
        if array.size and not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name} must hold booleans (or 0/1)")
        array = array.astype(np.bool_)
    return array


@dataclass(frozen=True, eq=False)
class PairedPicks:
    """Picks graded for both models on the same predictions, one element per prediction."""

    champion_correct: npt.NDArray[np.bool_]
    challenger_correct: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        champion = _as_correct("champion_correct", self.champion_correct)
        challenger = _as_correct("challenger_correct", self.challenger_correct)
        if champion.shape != challenger.shape:
            raise ValueError(
                f"champion_correct has {champion.size} picks, challenger_correct {challenger.size}"
            )
        object.__setattr__(self, "champion_correct", champion)
        object.__setattr__(self, "challenger_correct", challenger)

    @classmethod
    def from_grades(
        cls, champion: Sequence[bool | None], challenger: Sequence[bool | None]
    ) -> PairedPicks:
        """Aligned grades per prediction, None where not graded (PASS or push): keeps only the
        predictions graded for both models."""
        if len(champion) != len(challenger):
            raise ValueError(f"{len(champion)} champion grades but {len(challenger)} challenger")
        both = [(a, b) for a, b in zip(champion, challenger, strict=True) if None not in (a, b)]
        return cls(
            np.array([a for a, _ in both], dtype=np.bool_),
            np.array([b for _, b in both], dtype=np.bool_),
        )

    @property
    def n(self) -> int:
        return int(self.champion_correct.size)

    @property
    def b(self) -> int:
        """Champion right, challenger wrong."""
        return int(np.count_nonzero(self.champion_correct & ~self.challenger_correct))

    @property
    def c(self) -> int:
        """Champion wrong, challenger right."""
        return int(np.count_nonzero(~self.champion_correct & self.challenger_correct))

    def hit_rates(self, *, confidence: float = 0.95) -> HitRateComparison:
        return hit_rates_from_counts(
            n=self.n,
            champion_hits=int(np.count_nonzero(self.champion_correct)),
            b=self.b,
            c=self.c,
            confidence=confidence,
        )


# -- hit rates -------------------------------------------------------------------------------


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _significant(value: float, digits: int = 6) -> float | None:
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


@dataclass(frozen=True)
class HitRateComparison:
    """Paired hit rates. Rates, difference and interval in percent / percentage points; the
    rates, difference and interval are None when there is no paired pick."""

    n: int
    champion_hits: int
    challenger_hits: int
    b: int  # champion right, challenger wrong
    c: int  # champion wrong, challenger right
    champion_hit_rate: float | None
    challenger_hit_rate: float | None
    difference: float | None  # challenger - champion
    difference_low: float | None
    difference_high: float | None
    confidence: float
    mcnemar_p: float

    def to_document(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "champion_hits": self.champion_hits,
            "challenger_hits": self.challenger_hits,
            "b": self.b,
            "c": self.c,
            "champion_hit_rate": _rounded(self.champion_hit_rate, 2),
            "challenger_hit_rate": _rounded(self.challenger_hit_rate, 2),
            "difference": _rounded(self.difference, 2),
            "difference_low": _rounded(self.difference_low, 2),
            "difference_high": _rounded(self.difference_high, 2),
            "confidence": self.confidence,
            "mcnemar_p": _significant(self.mcnemar_p),
        }


def paired_hit_rates(
    champion_correct: npt.ArrayLike,
    challenger_correct: npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> HitRateComparison:
    """Compare hit rates on the same graded picks (bool arrays, one element per pair)."""
    picks = PairedPicks(np.asarray(champion_correct), np.asarray(challenger_correct))
    return picks.hit_rates(confidence=confidence)


def hit_rates_from_counts(
    *, n: int, champion_hits: int, b: int, c: int, confidence: float = 0.95
) -> HitRateComparison:
    """The same comparison from counts (as a SQL ``COUNTIF`` would give them).

    The interval is the Wald interval for matched pairs: d = (c - b)/n and
    se = sqrt((b + c) - (c - b)^2 / n) / n, d +- z se, clipped to [-100, 100] points."""
    _check_probability("confidence", confidence)
    both = champion_hits - b  # both right
    if min(n, b, c, both) < 0 or both + b + c > n:
        raise ValueError(f"inconsistent counts: n={n}, champion_hits={champion_hits}, b={b}, c={c}")
    challenger_hits = both + c
    p_value = mcnemar_exact_p(b, c)
    if n == 0:
        return HitRateComparison(0, 0, 0, 0, 0, None, None, None, None, None, confidence, p_value)
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    d = (c - b) / n
    se = math.sqrt(max(0.0, (b + c) - (c - b) ** 2 / n)) / n
    return HitRateComparison(
        n=n,
        champion_hits=champion_hits,
        challenger_hits=challenger_hits,
        b=b,
        c=c,
        champion_hit_rate=100.0 * champion_hits / n,
        challenger_hit_rate=100.0 * challenger_hits / n,
        difference=100.0 * d,
        difference_low=max(-100.0, 100.0 * (d - z * se)),
        difference_high=min(100.0, 100.0 * (d + z * se)),
        confidence=confidence,
        mcnemar_p=p_value,
    )


# -- mean absolute error ---------------------------------------------------------------------


@dataclass(frozen=True)
class MaeComparison:
    """Paired MAE in points; difference = challenger - champion (negative: challenger better).
    The interval (Student t on the per-pair differences) is None below two pairs."""

    n: int
    champion_mae: float | None
    challenger_mae: float | None
    difference: float | None
    difference_low: float | None
    difference_high: float | None
    confidence: float

    def to_document(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "champion_mae": _rounded(self.champion_mae, 4),
            "challenger_mae": _rounded(self.challenger_mae, 4),
            "difference": _rounded(self.difference, 4),
            "difference_low": _rounded(self.difference_low, 4),
            "difference_high": _rounded(self.difference_high, 4),
            "confidence": self.confidence,
        }


def _abs_errors(name: str, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, not of shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    if (array < 0).any():
        raise ValueError(f"{name} must be >= 0 (absolute errors)")
    return array


def paired_mae(
    champion_abs_error: npt.ArrayLike,
    challenger_abs_error: npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> MaeComparison:
    """Compare MAE on the same predictions (absolute errors, one element per pair)."""
    _check_probability("confidence", confidence)
    champion = _abs_errors("champion_abs_error", champion_abs_error)
    challenger = _abs_errors("challenger_abs_error", challenger_abs_error)
    if champion.shape != challenger.shape:
        raise ValueError(f"{champion.size} champion errors but {challenger.size} challenger")
    n = int(champion.size)
    if n == 0:
        return MaeComparison(0, None, None, None, None, None, confidence)
    differences = challenger - champion
    mean = float(differences.mean())
    low: float | None = None
    high: float | None = None
    if n >= 2:
        half = (
            student_t_quantile(0.5 + confidence / 2, n - 1)
            * float(differences.std(ddof=1))
            / math.sqrt(n)
        )
        low, high = mean - half, mean + half
    return MaeComparison(
        n=n,
        champion_mae=float(champion.mean()),
        challenger_mae=float(challenger.mean()),
        difference=mean,
        difference_low=low,
        difference_high=high,
        confidence=confidence,
    )


# -- decision --------------------------------------------------------------------------------


class Verdict(StrEnum):
    CHALLENGER_BETTER = "challenger_better"
    CHALLENGER_WORSE = "challenger_worse"
    NOT_YET_DISTINGUISHABLE = "not_yet_distinguishable"


def verdict(hit: HitRateComparison, alpha: float = 0.05) -> Verdict:
    """Better or worse when McNemar is significant at ``alpha``; otherwise not yet."""
    _check_probability("alpha", alpha)
    if hit.mcnemar_p < alpha and hit.c > hit.b:
        return Verdict.CHALLENGER_BETTER
    if hit.mcnemar_p < alpha and hit.b > hit.c:
        return Verdict.CHALLENGER_WORSE
    return Verdict.NOT_YET_DISTINGUISHABLE


def picks_needed(
    comparison: HitRateComparison, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """How many more paired graded picks McNemar would need, at the current effect, to be
    significant at ``alpha`` with ``power``: Connor (1987),
    N = (z_{1-alpha/2} sqrt(psi) + z_{power} sqrt(psi - delta^2))^2 / delta^2 with
    psi = (b + c)/n, delta = (c - b)/n; returns max(0, ceil(N) - n).
    None when n == 0 or delta == 0: no number of picks would decide at no effect."""
    _check_probability("alpha", alpha)
    _check_probability("power", power)
    n, b, c = comparison.n, comparison.b, comparison.c
    if n == 0 or b == c:
        return None
    psi = (b + c) / n
    delta = (c - b) / n
    root = _NORMAL.inv_cdf(1 - alpha / 2) * math.sqrt(psi) + _NORMAL.inv_cdf(power) * math.sqrt(
        max(0.0, psi - delta * delta)
    )
    return max(0, math.ceil(root * root / (delta * delta)) - n)


@dataclass(frozen=True)
class Decision:
    """The verdict, the picks still needed (0 once decided) and the one-line text."""

    verdict: Verdict
    alpha: float
    power: float
    picks_needed: int | None
    text: str

    def to_document(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "alpha": self.alpha,
            "power": self.power,
            "picks_needed": self.picks_needed,
            "text": self.text,
        }


def decide(hit: HitRateComparison, *, alpha: float = 0.05, power: float = 0.8) -> Decision:
    outcome = verdict(hit, alpha)
    needed = picks_needed(hit, alpha, power)
    if outcome is not Verdict.NOT_YET_DISTINGUISHABLE:
        needed = 0
    return Decision(outcome, alpha, power, needed, _text(hit, outcome, needed))


def summary_line(hit: HitRateComparison, *, alpha: float = 0.05, power: float = 0.8) -> str:
    """One line for people, e.g. ``challenger better: 61.2% vs 55.0% on 412 paired picks
    (+6.2 pts, 95% CI +1.1 to +11.3; McNemar p=0.012)`` (challenger's rate first)."""
    return decide(hit, alpha=alpha, power=power).text


def _p_text(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _text(hit: HitRateComparison, outcome: Verdict, needed: int | None) -> str:
    label = outcome.value.replace("_", " ")
    if (
        hit.n == 0
        or hit.challenger_hit_rate is None
        or hit.champion_hit_rate is None
        or hit.difference is None
        or hit.difference_low is None
        or hit.difference_high is None
    ):
        return f"{label}: no paired graded picks yet"
    picks = "pick" if hit.n == 1 else "picks"
    line = (
        f"{label}: {hit.challenger_hit_rate:.1f}% vs {hit.champion_hit_rate:.1f}% "
        f"on {hit.n:,} paired {picks} ({hit.difference:+.1f} pts, "
        f"{100 * hit.confidence:g}% CI {hit.difference_low:+.1f} to {hit.difference_high:+.1f}; "
        f"McNemar {_p_text(hit.mcnemar_p)})"
    )
    if outcome is not Verdict.NOT_YET_DISTINGUISHABLE:
        return line
    if needed is None:
        return f"{line}; no difference seen, so no number of picks would decide at this effect"
    if needed == 0:
        return f"{line}; at this effect the picks in are about enough, a few more should decide"
    more = "pick" if needed == 1 else "picks"
    return f"{line}; about {needed:,} more graded {more} would decide at this effect"
