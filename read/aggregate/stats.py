"""Small pure estimators for the result tables: summaries, Welch and paired t, Holm, Wilson,
interpolation.

Each function takes plain numbers or 1-D sequences (one value per seed; per test item for
``paired_t``) and returns plain floats, so it can be checked by hand. None of them draws
random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import NamedTuple

import numpy as np


class TTest(NamedTuple):
    """A two-sided t test: statistic ``t``, degrees of freedom ``df`` (Welch–Satterthwaite for
    :func:`welch_t`, n − 1 for :func:`paired_t`) and ``p``; all nan where undefined."""

    t: float
    df: float
    p: float


_UNDEFINED = TTest(math.nan, math.nan, math.nan)


def mean_std(values: Sequence[float]) -> tuple[int, float, float]:
    """(n, mean, sample std with ddof=1); std is nan for n < 2, mean is nan for n = 0."""
    x = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else math.nan
    return n, mean, std


def welch_t_from_stats(mean1: float, std1: float, n1: int, mean2: float, std2: float, n2: int) -> TTest:
    """Welch's unequal-variance t test from summary statistics (two-sided).

    t = (m1 − m2) / sqrt(v1 + v2) with v_i = s_i² / n_i (s_i: sample std, ddof=1), and
    df = (v1 + v2)² / (v1² / (n1 − 1) + v2² / (n2 − 1)), p = 2·P(T_df > |t|).

    Undefined cases return nan rather than a misleading number: n_i < 2, a nan input, or
    v1 + v2 = 0 (both groups constant: t would be ±inf or 0/0).
    """
    if n1 < 2 or n2 < 2 or any(map(math.isnan, (mean1, std1, mean2, std2))):
        return _UNDEFINED
    v1, v2 = std1**2 / n1, std2**2 / n2
    if v1 + v2 == 0:
        return _UNDEFINED
    t = (mean1 - mean2) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    return _two_sided(t, df)


def welch_t(x: Sequence[float], y: Sequence[float]) -> TTest:
    """Welch's t test of mean(x) − mean(y) from per-seed values (same as scipy's
    ``ttest_ind(x, y, equal_var=False)``, with nan where that is undefined)."""
    n1, m1, s1 = mean_std(x)
    n2, m2, s2 = mean_std(y)
    return welch_t_from_stats(m1, s1, n1, m2, s2, n2)


def paired_t(differences: Sequence[float]) -> TTest:
    """Two-sided paired t test of mean(d) = 0 on per-pair differences ``d`` (the same as
    scipy's ``ttest_rel(x, y)`` when d = x − y), with df = n − 1. nan where undefined:
    fewer than 2 pairs, or every difference the same."""
    d = np.asarray(differences, dtype=np.float64)
    n = int(d.size)
    if n < 2 or np.isnan(d).any():
        return _UNDEFINED
    se = float(d.std(ddof=1)) / math.sqrt(n)
    if se == 0:
        return _UNDEFINED
    return _two_sided(float(d.mean()) / se, n - 1)


def _two_sided(t: float, df: float) -> TTest:
    """The test of statistic ``t`` on ``df`` degrees of freedom: p = 2·P(T_df > |t|)."""
    from scipy import stats

    return TTest(float(t), float(df), float(2 * stats.t.sf(abs(t), df)))


Z95 = NormalDist().inv_cdf(0.975)


def wilson_interval(acc: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``acc`` of ``n`` trials (95% by default).

    With c = z² / n: centre = (acc + c/2) / (1 + c), half-width = z / (1 + c) ·
    sqrt(acc(1 − acc)/n + z²/(4n²)). Unlike acc ± z·se it stays inside [0, 1] and does not
    collapse at 0 or 1, which matters for the low accuracies S0 has. n = 0 gives [0, 1].
    """
    if n < 1:
        return 0.0, 1.0
    c = z * z / n
    centre = (acc + c / 2) / (1 + c)
    half = z / (1 + c) * math.sqrt(acc * (1 - acc) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values for one family, in the input order.

    Sort the m finite p-values ascending, p_(1) <= ... <= p_(m); the adjusted value is
    p~_(i) = min(1, max_{j <= i} (m − j + 1)·p_(j)) (step-down, kept monotone). A p-value is
    significant at level a after correction iff p~ < a. nan entries are not part of the
    family (they count neither in m nor in the ranking) and stay nan.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    order = idx[np.argsort(p[idx], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        out[i] = min(1.0, running)
    return [float(v) for v in out]


def stars(p: float) -> str:
    """``"**"`` for p < .01, ``"*"`` for p < .05, else ``""`` (also for nan)."""
    if math.isnan(p):
        return ""
    return "**" if p < 0.01 else "*" if p < 0.05 else ""


def tokens_to_match(budgets: Sequence[float], scores: Sequence[float], target: float,
                    *, log: bool = True) -> tuple[float, str]:
    """Tokens a method needs to reach ``target``, interpolating its score between budgets.

    With ``log`` (paper Table 2) the score is taken as linear in log(budget) between two
    measured budgets: for the first segment b_i < b_{i+1} with s_i < target <= s_{i+1},
    log b* = log b_i + (target − s_i)/(s_{i+1} − s_i) · (log b_{i+1} − log b_i); without it,
    linear in the budget itself. No extrapolation beyond the measured budgets.

    Returns:
        ``(tokens, status)``: status ``"interpolated"``; ``"at_min"`` when the smallest
        budget already reaches the target (tokens = that budget, an upper bound); or
        ``"not_reached"`` (tokens = inf) when no measured budget reaches it.
    """
    pairs = sorted(zip(map(float, budgets), map(float, scores)))
    if not pairs:
        raise ValueError("tokens_to_match needs at least one (budget, score) pair")
    if pairs[0][1] >= target:
        return pairs[0][0], "at_min"
    for (b0, s0), (b1, s1) in zip(pairs, pairs[1:]):
        if s0 < target <= s1:
            frac = (target - s0) / (s1 - s0)
            if log:
                return float(math.exp(math.log(b0) + frac * (math.log(b1) - math.log(b0)))), "interpolated"
            return float(b0 + frac * (b1 - b0)), "interpolated"
    return math.inf, "not_reached"
