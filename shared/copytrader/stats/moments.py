"""Exponentially weighted moments with a half-life, reliability-weighted variance and Kish's effective n.

Conventions (quant/REFERENCE.md section 5):
- weights w_i = 0.5 ** (age_i / h), age measured back from the as-of time (the newest observation has age 0 when
  the as-of time is its time). With ages in observation counts this is pandas `ewm(halflife=h, adjust=True)`;
  with ages in days it is `ewm(halflife=timedelta, times=...)`.
- observations newer than the as-of time are an error, not a silently negative age (look-ahead).
- variance uses reliability weights: sum w (x - m)^2 / (V1 - V2 / V1), V1 = sum w, V2 = sum w^2 (the
  `np.cov(aweights=w, ddof=1)` estimator); frequency weights (divide by V1 - 1) are a different estimator.
- Kish (1965, Survey Sampling) effective sample size n_eff = V1^2 / V2, invariant to rescaling the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def halflife_weights(age: npt.ArrayLike, halflife: float) -> FloatArray:
    """w = 0.5 ** (age / halflife) for ages >= 0 (same unit as `halflife`)."""
    if not halflife > 0:
        raise ValueError(f"halflife must be positive, got {halflife}")
    ages = np.asarray(age, dtype=np.float64)
    if ages.size and np.nanmin(ages) < 0:
        raise ValueError("an observation is newer than the as-of time (negative age): look-ahead")
    return np.asarray(np.exp2(-ages / halflife), dtype=np.float64)


@dataclass(frozen=True)
class WeightedMoments:
    """Weighted mean, variances and evidence of one sample.

    mean = sum w x / V1; var_biased = sum w (x - mean)^2 / V1; var_unbiased = sum w (x - mean)^2 / (V1 - V2/V1);
    n_eff = V1^2 / V2. Undefined quantities (no weight; a single effective observation) are NaN.
    """

    mean: float
    var_biased: float
    var_unbiased: float
    n_eff: float
    weight_sum: float


def weighted_moments(x: npt.ArrayLike, w: npt.ArrayLike) -> WeightedMoments:
    """Reliability-weighted moments of `x` under weights `w` (non-negative, same shape)."""
    values = np.asarray(x, dtype=np.float64)
    weights = np.asarray(w, dtype=np.float64)
    if values.shape != weights.shape:
        raise ValueError(f"x and w differ in shape: {values.shape} vs {weights.shape}")
    if weights.size and np.min(weights) < 0:
        raise ValueError("weights must be non-negative")
    v1 = float(weights.sum())
    v2 = float(np.square(weights).sum())
    if v1 <= 0:
        nan = float("nan")
        return WeightedMoments(nan, nan, nan, 0.0, 0.0)
    mean = float(np.dot(weights, values) / v1)
    squares = float(np.dot(weights, np.square(values - mean)))
    denominator = v1 - v2 / v1
    return WeightedMoments(
        mean=mean,
        var_biased=squares / v1,
        var_unbiased=squares / denominator if denominator > 0 else float("nan"),
        n_eff=v1 * v1 / v2,
        weight_sum=v1,
    )


def ewma_moments(x: npt.ArrayLike, age: npt.ArrayLike, halflife: float) -> WeightedMoments:
    """Moments of `x` under half-life weights of their ages (see the module docstring)."""
    return weighted_moments(x, halflife_weights(age, halflife))


def kish_n_eff_infinite(halflife: float) -> float:
    """Kish n_eff of an infinite regular history, weights lambda^i, lambda = 0.5^(1/h): (1 + lambda)/(1 - lambda)."""
    lam: float = 0.5 ** (1.0 / halflife)
    return (1.0 + lam) / (1.0 - lam)


def grouped_weighted_sums(
    group: npt.NDArray[np.int64], x: FloatArray, w: FloatArray, groups: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-group V1 = sum w, V2 = sum w^2, sum w x and sum w x^2 (vectorised with bincount) for many samples
    at once; `weighted_moments` of group g follows from them (mean = Swx / V1, and so on)."""

    def total(values: FloatArray) -> FloatArray:
        return np.bincount(group, weights=values, minlength=groups).astype(np.float64)

    return total(w), total(w * w), total(w * x), total(w * x * x)


@dataclass(frozen=True)
class GroupedCentralMoments:
    """Per group: the mean and the population central moments m_k = sum (x - mean)^k / n, k = 2, 3, 4 (NaN for an
    empty group)."""

    mean: FloatArray
    m2: FloatArray
    m3: FloatArray
    m4: FloatArray


def grouped_central_moments(group: npt.NDArray[np.int64], x: FloatArray, n: FloatArray) -> GroupedCentralMoments:
    """Central moments of `x` per group in one pass of bincounts; `n` the groups' sizes (the number of groups is
    len(n)). The PSR's skew m3 / m2^1.5 and non-excess kurtosis m4 / m2^2 are built from these."""
    size = len(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(group, weights=x, minlength=size) / n
        d = x - mean[group]
        m2 = np.bincount(group, weights=d * d, minlength=size) / n
        m3 = np.bincount(group, weights=d**3, minlength=size) / n
        m4 = np.bincount(group, weights=d**4, minlength=size) / n
    return GroupedCentralMoments(mean, m2, m3, m4)
