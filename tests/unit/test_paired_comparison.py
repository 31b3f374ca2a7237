"""Paired champion/challenger statistics, checked against scipy and against hand counts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from attribution.comparison.paired import (
    HitRateComparison,
    PairedPicks,
    Verdict,
    binomial_half_cdf,
    decide,
    hit_rates_from_counts,
    mcnemar_exact_p,
    paired_hit_rates,
    paired_mae,
    picks_needed,
    student_t_quantile,
    summary_line,
    verdict,
)

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scipy_mcnemar(b: int, c: int) -> float:
    """Exact McNemar is the two-sided exact binomial test on the discordant pairs."""
    return 1.0 if b + c == 0 else float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)


def json_ready(document: dict[str, object]) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(json.dumps(document, allow_nan=False))
    return loaded


# -- a hand-graded example -------------------------------------------------------------------

# (player, line, champion pick, challenger pick, actual points)
PICKS = [
    ("lebron-james", 25.5, "OVER", "OVER", 28),  # both right
    ("stephen-curry", 27.5, "OVER", "UNDER", 30),  # champion only (b)
    ("nikola-jokic", 24.5, "UNDER", "OVER", 31),  # challenger only (c)
    ("jayson-tatum", 26.5, "UNDER", "UNDER", 22),  # both right
    ("luka-doncic", 30.0, "OVER", "OVER", 30),  # push: graded for neither
    ("devin-booker", 24.5, "PASS", "OVER", 26),  # champion passed: not a pair
    ("anthony-edwards", 25.5, "OVER", "UNDER", 21),  # challenger only (c)
    ("kevin-durant", 27.5, "UNDER", "OVER", 29),  # challenger only (c)
    ("joel-embiid", 29.5, "OVER", "OVER", 25),  # both wrong
    ("tyrese-haliburton", 20.5, "UNDER", "OVER", 18),  # champion only (b)
    ("giannis-antetokounmpo", 30.5, "OVER", "OVER", 35),  # both right
]


def grade(pick: str, line: float, actual: float) -> bool | None:
    if pick == "PASS" or actual == line:
        return None
    return (actual > line) == (pick == "OVER")


def test_a_hand_graded_slate() -> None:
    champion = [grade(pick, line, actual) for _, line, pick, _, actual in PICKS]
    challenger = [grade(pick, line, actual) for _, line, _, pick, actual in PICKS]
    picks = PairedPicks.from_grades(champion, challenger)
    # By hand: 9 pairs (the push and the PASS drop out); the champion is right on LeBron,
    # Curry, Tatum, Haliburton, Giannis (5), the challenger on LeBron, Jokic, Tatum, Edwards,
    # Durant, Giannis (6); b = Curry, Haliburton; c = Jokic, Edwards, Durant.
    assert (picks.n, picks.b, picks.c) == (9, 2, 3)
    hit = picks.hit_rates()
    assert (hit.n, hit.champion_hits, hit.challenger_hits, hit.b, hit.c) == (9, 5, 6, 2, 3)
    assert hit.champion_hit_rate == pytest.approx(500 / 9)
    assert hit.challenger_hit_rate == pytest.approx(600 / 9)
    assert hit.difference == pytest.approx(100 / 9)
    # 2 P[X <= 2], X ~ Binomial(5, 1/2) = 2 (1 + 5 + 10) / 32 = 1
    assert hit.mcnemar_p == 1.0
    # d = 1/9, se = sqrt(5 - 1/9) / 9
    se = math.sqrt(5 - 1 / 9) / 9
    assert hit.difference_low == pytest.approx(100 * (1 / 9 - 1.959963984540054 * se))
    assert hit.difference_high == pytest.approx(100 * (1 / 9 + 1.959963984540054 * se))
    assert verdict(hit) is Verdict.NOT_YET_DISTINGUISHABLE
    assert hit == paired_hit_rates(picks.champion_correct, picks.challenger_correct)


def test_a_hand_computed_p_value() -> None:
    # b=1, c=9: 2 (C(10,0) + C(10,1)) / 2^10 = 22/1024
    assert mcnemar_exact_p(1, 9) == pytest.approx(22 / 1024, rel=1e-13)
    assert mcnemar_exact_p(0, 0) == 1.0
    assert mcnemar_exact_p(7, 7) == 1.0


def test_hand_mae_against_scipy_t() -> None:
    champion = np.array([3.0, 5.5, 1.0, 7.0, 2.5])
    challenger = np.array([2.0, 4.5, 2.0, 5.0, 2.5])
    mae = paired_mae(champion, challenger)
    differences = challenger - champion  # -1, -1, +1, -2, 0
    assert mae.n == 5
    assert mae.champion_mae == pytest.approx(3.8)
    assert mae.challenger_mae == pytest.approx(3.2)
    assert mae.difference == pytest.approx(-0.6)
    half = stats.t.ppf(0.975, 4) * differences.std(ddof=1) / math.sqrt(5)
    assert mae.difference_low == pytest.approx(-0.6 - half, rel=1e-10)
    assert mae.difference_high == pytest.approx(-0.6 + half, rel=1e-10)
    assert json_ready(mae.to_document()) == {
        "n": 5,
        "champion_mae": 3.8,
        "challenger_mae": 3.2,
        "difference": -0.6,
        "difference_low": round(-0.6 - half, 4),
        "difference_high": round(-0.6 + half, 4),
        "confidence": 0.95,
    }


def test_mae_below_two_pairs_has_no_interval() -> None:
    one = paired_mae([2.0], [1.0])
    assert (one.n, one.difference, one.difference_low, one.difference_high) == (1, -1.0, None, None)
    none = paired_mae([], [])
    assert none.to_document() == {
        "n": 0,
        "champion_mae": None,
        "challenger_mae": None,
        "difference": None,
        "difference_low": None,
        "difference_high": None,
        "confidence": 0.95,
    }


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="picks"):
        paired_hit_rates([True, False], [True])
    with pytest.raises(ValueError, match="booleans"):
        paired_hit_rates([0.5], [1])
    with pytest.raises(ValueError, match=">= 0"):
        paired_mae([-1.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        paired_mae([math.nan], [1.0])
    with pytest.raises(ValueError, match="inconsistent"):
        hit_rates_from_counts(n=3, champion_hits=1, b=2, c=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        picks_needed(hit_rates_from_counts(n=10, champion_hits=5, b=1, c=3), alpha=1.0)


# -- documents and text ----------------------------------------------------------------------


def test_documents_are_json_ready() -> None:
    hit = hit_rates_from_counts(n=412, champion_hits=227, b=30, c=55)
    document = json_ready(hit.to_document())
    assert set(document) == {
        "n",
        "champion_hits",
        "challenger_hits",
        "b",
        "c",
        "champion_hit_rate",
        "challenger_hit_rate",
        "difference",
        "difference_low",
        "difference_high",
        "confidence",
        "mcnemar_p",
    }
    assert document["challenger_hits"] == 252
    assert document["champion_hit_rate"] == 55.1
    assert document["difference"] == 6.07
    assert document["mcnemar_p"] == pytest.approx(scipy_mcnemar(30, 55), rel=1e-5)
    empty = json_ready(hit_rates_from_counts(n=0, champion_hits=0, b=0, c=0).to_document())
    assert empty["champion_hit_rate"] is None and empty["mcnemar_p"] == 1.0
    decision = json_ready(decide(hit).to_document())
    assert decision["verdict"] == "challenger_better"
    assert decision["picks_needed"] == 0
    assert set(decision) == {"verdict", "alpha", "power", "picks_needed", "text"}


def test_the_lines_people_read() -> None:
    better = hit_rates_from_counts(n=412, champion_hits=227, b=30, c=55)
    p = scipy_mcnemar(30, 55)
    low, high = better.difference_low, better.difference_high
    assert low is not None and high is not None
    assert summary_line(better) == (
        f"challenger better: 61.2% vs 55.1% on 412 paired picks (+6.1 pts, 95% CI "
        f"{low:+.1f} to {high:+.1f}; McNemar p={p:.3f})"
    )
    worse = hit_rates_from_counts(n=412, champion_hits=252, b=55, c=30)
    assert summary_line(worse).startswith("challenger worse: 55.1% vs 61.2% on 412 paired picks")
    close = hit_rates_from_counts(n=412, champion_hits=227, b=30, c=36)
    needed = picks_needed(close)
    assert needed is not None and needed > 1000
    assert summary_line(close).endswith(
        f"; about {needed:,} more graded picks would decide at this effect"
    )
    tied = hit_rates_from_counts(n=40, champion_hits=20, b=4, c=4)
    assert summary_line(tied).endswith("no number of picks would decide at this effect")
    assert summary_line(hit_rates_from_counts(n=0, champion_hits=0, b=0, c=0)) == (
        "not yet distinguishable: no paired graded picks yet"
    )


# -- against scipy ---------------------------------------------------------------------------


@PROPERTY
@given(b=st.integers(0, 3000), c=st.integers(0, 3000))
def test_mcnemar_matches_scipy(b: int, c: int) -> None:
    p = mcnemar_exact_p(b, c)
    assert 0.0 <= p <= 1.0
    assert math.isclose(p, scipy_mcnemar(b, c), rel_tol=1e-9, abs_tol=1e-300)
    assert p == mcnemar_exact_p(c, b)


@settings(max_examples=40, deadline=None)
@given(total=st.integers(50_000, 100_000), share=st.floats(0.45, 0.5))
def test_large_discordant_counts_do_not_overflow(total: int, share: float) -> None:
    b = int(total * share)
    c = total - b
    p = mcnemar_exact_p(b, c)
    assert math.isfinite(p) and 0.0 <= p <= 1.0
    assert math.isclose(p, scipy_mcnemar(b, c), rel_tol=1e-9, abs_tol=1e-300)


def test_extreme_tails() -> None:
    assert mcnemar_exact_p(0, 100_000) == 0.0  # 2^-99999 is below the smallest float
    assert mcnemar_exact_p(0, 1000) == pytest.approx(2.0**-999, rel=1e-12)
    assert binomial_half_cdf(3, 7) == pytest.approx(0.5, rel=1e-15)
    assert binomial_half_cdf(60_000, 100_000) == pytest.approx(
        stats.binom.cdf(60_000, 100_000, 0.5), rel=1e-12
    )


@pytest.mark.parametrize("df", [*range(1, 40), 50, 99, 250, 999, 1000, 1001, 5000, 10**6])
def test_t_quantile_matches_scipy(df: int) -> None:
    for probability in (0.6, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.025, 0.2):
        assert student_t_quantile(probability, df) == pytest.approx(
            stats.t.ppf(probability, df), rel=1e-9
        )


@PROPERTY
@given(
    pairs=st.lists(
        st.tuples(st.floats(0, 40, allow_nan=False), st.floats(0, 40, allow_nan=False)),
        min_size=2,
        max_size=300,
    ),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_mae_interval_matches_scipy_and_holds_the_difference(
    pairs: list[tuple[float, float]], confidence: float
) -> None:
    champion = np.array([p[0] for p in pairs])
    challenger = np.array([p[1] for p in pairs])
    mae = paired_mae(champion, challenger, confidence=confidence)
    differences = challenger - champion
    n = len(pairs)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * differences.std(ddof=1) / math.sqrt(n)
    assert mae.difference == pytest.approx(differences.mean(), abs=1e-9)
    assert mae.difference_low == pytest.approx(differences.mean() - half, abs=1e-9)
    assert mae.difference_high == pytest.approx(differences.mean() + half, abs=1e-9)
    assert mae.difference is not None
    assert mae.difference_low is not None and mae.difference_high is not None
    assert mae.difference_low <= mae.difference <= mae.difference_high
    swapped = paired_mae(challenger, champion, confidence=confidence)
    assert swapped.difference == pytest.approx(-differences.mean(), abs=1e-9)


def test_picks_needed_is_connors_formula() -> None:
    hit = hit_rates_from_counts(n=412, champion_hits=227, b=30, c=36)
    psi, delta = 66 / 412, 6 / 412
    z_a, z_b = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    total = (z_a * math.sqrt(psi) + z_b * math.sqrt(psi - delta**2)) ** 2 / delta**2
    assert picks_needed(hit) == math.ceil(total) - 412
    assert picks_needed(hit_rates_from_counts(n=10, champion_hits=5, b=2, c=2)) is None
    assert picks_needed(hit_rates_from_counts(n=0, champion_hits=0, b=0, c=0)) is None
    assert picks_needed(hit_rates_from_counts(n=5000, champion_hits=2500, b=100, c=300)) == 0


# -- properties ------------------------------------------------------------------------------


@st.composite
def paired_arrays(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Both right, champion only, challenger only, both wrong: counts, shuffled together."""
    cells = [draw(st.integers(0, 120)) for _ in range(4)]
    champion = np.repeat([True, True, False, False], cells)
    challenger = np.repeat([True, False, True, False], cells)
    order = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(sum(cells))
    return champion[order], challenger[order]


@PROPERTY
@given(arrays=paired_arrays(), alpha=st.sampled_from([0.01, 0.05, 0.1]))
def test_swapping_the_models_mirrors_everything(
    arrays: tuple[np.ndarray, np.ndarray], alpha: float
) -> None:
    champion, challenger = arrays
    hit = paired_hit_rates(champion, challenger)
    mirror = paired_hit_rates(challenger, champion)
    assert 0.0 <= hit.mcnemar_p <= 1.0
    assert hit.mcnemar_p == mirror.mcnemar_p
    assert (hit.b, hit.c) == (mirror.c, mirror.b)
    assert (hit.champion_hits, hit.challenger_hits) == (
        mirror.challenger_hits,
        mirror.champion_hits,
    )
    assert picks_needed(hit, alpha) == picks_needed(mirror, alpha)
    flips = {
        Verdict.CHALLENGER_BETTER: Verdict.CHALLENGER_WORSE,
        Verdict.CHALLENGER_WORSE: Verdict.CHALLENGER_BETTER,
        Verdict.NOT_YET_DISTINGUISHABLE: Verdict.NOT_YET_DISTINGUISHABLE,
    }
    assert verdict(mirror, alpha) is flips[verdict(hit, alpha)]
    if hit.n == 0:
        assert hit.difference is None and hit.difference_low is None
        return
    assert hit.difference is not None and mirror.difference is not None
    assert hit.difference_low is not None and hit.difference_high is not None
    assert mirror.difference_low is not None and mirror.difference_high is not None
    assert hit.difference == pytest.approx(-mirror.difference, abs=1e-9)
    assert hit.difference_low == pytest.approx(-mirror.difference_high, abs=1e-9)
    assert -100.0 <= hit.difference_low <= hit.difference <= hit.difference_high <= 100.0
    assert hit.challenger_hit_rate is not None and hit.champion_hit_rate is not None
    assert hit.difference == pytest.approx(hit.challenger_hit_rate - hit.champion_hit_rate)
    json_ready(hit.to_document())
    json_ready(decide(hit, alpha=alpha).to_document())


@PROPERTY
@given(
    b=st.integers(0, 200),
    c=st.integers(0, 200),
    both=st.integers(0, 200),
    neither=st.integers(0, 200),
    scales=st.lists(st.integers(1, 50), min_size=2, max_size=5),
)
def test_picks_needed_does_not_grow_with_more_picks_at_the_same_proportions(
    b: int, c: int, both: int, neither: int, scales: list[int]
) -> None:
    needed = []
    for k in sorted(set(scales)):
        n = k * (b + c + both + neither)
        hit = hit_rates_from_counts(n=n, champion_hits=k * (both + b), b=k * b, c=k * c)
        needed.append(picks_needed(hit))
    if n == 0 or b == c:
        assert needed == [None] * len(needed)
        return
    counts = [x for x in needed if x is not None]
    assert len(counts) == len(needed) and all(x >= 0 for x in counts)
    assert counts == sorted(counts, reverse=True)


@PROPERTY
@given(b=st.integers(0, 500), c=st.integers(0, 500), alpha=st.sampled_from([0.01, 0.05]))
def test_verdict_follows_the_exact_test(b: int, c: int, alpha: float) -> None:
    hit = hit_rates_from_counts(n=b + c + 10, champion_hits=b + 5, b=b, c=c)
    p = scipy_mcnemar(b, c)
    expected = Verdict.NOT_YET_DISTINGUISHABLE
    if p < alpha * (1 - 1e-9):
        expected = Verdict.CHALLENGER_BETTER if c > b else Verdict.CHALLENGER_WORSE
    if abs(p - alpha) > 1e-9 * alpha:
        assert verdict(hit, alpha) is expected
    decision = decide(hit, alpha=alpha)
    assert decision.text == summary_line(hit, alpha=alpha)
    assert decision.text.startswith(decision.verdict.value.replace("_", " "))
    if decision.verdict is not Verdict.NOT_YET_DISTINGUISHABLE:
        assert decision.picks_needed == 0


def test_a_comparison_is_a_value() -> None:
    hit = hit_rates_from_counts(n=10, champion_hits=5, b=1, c=2)
    assert isinstance(hit, HitRateComparison)
    with pytest.raises(AttributeError):
        hit.n = 11  # type: ignore[misc]
