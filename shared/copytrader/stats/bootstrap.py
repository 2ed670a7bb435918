"""Stationary-bootstrap confidence intervals (Politis & Romano 1994) for a mean, a ratio of sums and a Sharpe
ratio, with the automatic block length of Politis & White (2004) when none is given.

Why: a wallet's daily P&L is autocorrelated and volatility-clustered; IID resampling destroys that and gives
intervals that are too narrow (quant/REFERENCE.md sections 3 and 8). The resamples come from
`copytrader.stats.resampling` (blocks of Geometric(p) length, p = 1 / block_size, from uniform circular start
points), the default block length from `copytrader.stats.block_length`.

Conventions:
- `block_size` is the expected block length b, p = 1/b (arch's convention: pass b, not p). b < 1 is read as
  b = 1 (every observation starts a new block, the IID bootstrap); b must be finite and positive.
- Confidence intervals are percentile [q(a/2), q(1-a/2)] or basic [2t - q(1-a/2), 2t - q(a/2)] with
  `np.quantile(..., method="linear")` (Hyndman & Fan type 7, numpy's and arch's default), a = 1 - level.
- Resamples whose statistic is undefined (NaN or infinite: a zero denominator, a zero variance) are dropped
  before the quantiles and counted in `BootstrapCI.dropped`; with nothing left the bounds are NaN.

References: Politis & Romano (1994) JASA 89(428):1303-1313; Politis & White (2004) Econometric Reviews 23(1):53-70;
Davison & Hinkley (1997) Bootstrap Methods and their Application, eq. 5.6; reference implementation arch 8.0.0
(`arch.bootstrap.StationaryBootstrap`, `arch.bootstrap.optimal_block_length`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from copytrader.stats.block_length import optimal_block_length
from copytrader.stats.resampling import stationary_block_sums

FloatArray = npt.NDArray[np.float64]

_METHODS = ("percentile", "basic")
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class BootstrapCI:
    """A bootstrap confidence interval and how it was made.

    `reps` resamples were drawn, `dropped` of them had an undefined statistic (NaN/inf) and were left out of the
    quantiles. `estimate` is the statistic on the sample (NaN when undefined there); `low`/`high` are NaN when
    no resample was usable. `block_size` is the expected block length used (NaN when not known).
    """

    estimate: float
    low: float
    high: float
    level: float
    method: str
    reps: int
    dropped: int
    block_size: float

    @property
    def defined(self) -> bool:
        """True when the estimate and both bounds are finite."""
        return all(math.isfinite(v) for v in (self.estimate, self.low, self.high))


def ci_from_replicates(
    estimate: float, replicates: npt.ArrayLike, level: float, method: str, *, block_size: float = math.nan
) -> BootstrapCI:
    """Percentile or basic interval from bootstrap replicates theta* of a statistic with sample value theta.

    a = 1 - level; q(.) = np.quantile(finite theta*, ., method="linear").
    percentile: [q(a/2), q(1 - a/2)];  basic: [2 theta - q(1 - a/2), 2 theta - q(a/2)] (Davison & Hinkley 1997,
    eq. 5.6; REFERENCE section 8). Non-finite replicates are dropped and counted. With none left, or a basic
    interval around an undefined estimate, the bounds are NaN. Raises ValueError for a level outside (0, 1) or
    an unknown method (caller errors, not data).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    theta = np.asarray(replicates, dtype=np.float64).ravel()
    finite = theta[np.isfinite(theta)]
    dropped = int(theta.size - finite.size)
    alpha = 1 - level
    if finite.size == 0:
        low = high = math.nan
    else:
        q_low, q_high = np.quantile(finite, [alpha / 2, 1 - alpha / 2], method="linear")
        if method == "percentile":
            low, high = float(q_low), float(q_high)
        else:
            low, high = float(2 * estimate - q_high), float(2 * estimate - q_low)
    return BootstrapCI(
        estimate=float(estimate),
        low=low,
        high=high,
        level=float(level),
        method=method,
        reps=int(theta.size),
        dropped=dropped,
        block_size=float(block_size),
    )


def _series(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64).ravel()


def _block(block_size: float | None, series: FloatArray) -> float:
    return optimal_block_length(series).stationary if block_size is None else float(block_size)


def _empty(level: float, method: str, reps: int, block_size: float) -> BootstrapCI:
    """No observation, or a non-finite one: the estimate and every resample are undefined (NaN, all dropped)."""
    return ci_from_replicates(math.nan, np.full(reps, math.nan), level, method, block_size=block_size)


def mean_ci(
    x: npt.ArrayLike,
    *,
    reps: int,
    level: float,
    rng: np.random.Generator,
    block_size: float | None = None,
    method: str = "percentile",
) -> BootstrapCI:
    """Stationary-bootstrap CI for the mean of a series: theta* = sum(x*) / n per resample.

    block_size None: `optimal_block_length(x).stationary`. Empty or non-finite x: NaN estimate and bounds, all
    reps dropped.
    Equivariant: mean_ci(c x + d) = c mean_ci(x) + d for c > 0 (same rng state and block_size).
    """
    series = _series(x)
    b = _block(block_size, series)
    if series.size == 0 or not np.all(np.isfinite(series)):
        return _empty(level, method, reps, b)
    sums = stationary_block_sums(series, b, reps, rng)[:, 0]
    return ci_from_replicates(float(series.mean()), sums / series.size, level, method, block_size=b)


def ratio_ci(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    *,
    reps: int,
    level: float,
    rng: np.random.Generator,
    block_size: float | None = None,
    method: str = "percentile",
) -> BootstrapCI:
    """Stationary-bootstrap CI for a ratio of sums, theta = sum(num) / sum(den), both series resampled together.

    E.g. edge per trade = daily edge sums / daily trade counts (a ratio estimator, not the mean of daily ratios).
    block_size None: `optimal_block_length(numerator).stationary`. Resamples with sum(den*) = 0 are dropped and
    counted: the block sums are centred prefix-sum differences, so a zero sum comes out as rounding noise
    (~1e-16 to 1e-12, whose ratio is any number at all); |sum(den*)| <= 128 n eps sum|den| is read as zero
    (`ratio_replicates`). A zero sample denominator gives a NaN estimate; empty or non-finite input gives NaN
    bounds, all reps dropped. Raises ValueError if the series differ in length.
    """
    num, den = _series(numerator), _series(denominator)
    if num.shape != den.shape:
        raise ValueError(f"numerator and denominator differ in length: {num.size} vs {den.size}")
    b = _block(block_size, num)
    if num.size == 0 or not (np.all(np.isfinite(num)) and np.all(np.isfinite(den))):
        return _empty(level, method, reps, b)
    sums = stationary_block_sums(np.stack([num, den]), b, reps, rng)
    den_sum = float(den.sum())
    estimate = float(num.sum()) / den_sum if den_sum != 0 else math.nan
    return ci_from_replicates(estimate, ratio_replicates(sums[:, 0], sums[:, 1], den), level, method, block_size=b)


def ratio_replicates(num_sums: FloatArray, den_sums: FloatArray, denominator: FloatArray) -> FloatArray:
    """sum(num*) / sum(den*) per resample, NaN where sum(den*) is zero up to the rounding of block sums of the
    series `denominator`: |sum(den*)| <= 128 n eps sum|den| (the prefix sums run over the centred series, whose
    absolute values add to at most 2 sum|den|; 64 times that n eps is the same margin `sharpe_ci` uses)."""
    n = denominator.size
    floor = 128 * n * _EPS * float(np.abs(denominator).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.abs(den_sums) > floor, num_sums / den_sums, np.nan)
    return np.asarray(out, dtype=np.float64)


def sharpe_ci(
    x: npt.ArrayLike,
    *,
    reps: int,
    level: float,
    rng: np.random.Generator,
    block_size: float | None = None,
    method: str = "percentile",
) -> BootstrapCI:
    """Stationary-bootstrap CI for the per-period Sharpe ratio mean(x) / std(x, ddof=1) (not annualised; scale
    both bounds by sqrt(periods per year) afterwards, a monotone map).

    Each resample's Sharpe comes from its block sums S1, S2 of y = x - mean(x) and y^2:
    mean* = mean(x) + S1/n, var* = (S2 - S1^2/n) / (n - 1). Block sums are differences of prefix sums, so their
    absolute rounding error is about n eps times the sample's scale Q = sum(y^2) + n mean(x)^2, whatever the
    resample. A resample's variance is therefore zero up to rounding when S2 - S1^2/n <= 64 n eps Q: its
    Sharpe is undefined, dropped and counted (e.g. one value repeated). The same rule on the sample makes the
    estimate NaN; n < 2 drops everything. Kept resamples have relative error below ~1/(128 n) in their Sharpe
    (far smaller unless a resample's spread is tiny next to the sample's). block_size None:
    `optimal_block_length(x).stationary`. Invariant to x -> c x, c > 0 (bit for bit when c is a power of 2).
    """
    series = _series(x)
    b = _block(block_size, series)
    n = series.size
    if n == 0 or not np.all(np.isfinite(series)):
        return _empty(level, method, reps, b)
    centre = float(series.mean())
    y = series - centre
    estimate, floor = _sharpe_and_floor(y, centre)
    sums = stationary_block_sums(np.stack([y, y * y]), b, reps, rng)
    return ci_from_replicates(
        estimate, sharpe_replicates(sums[:, 0], sums[:, 1], n, centre, floor), level, method, block_size=b
    )


def _sharpe_and_floor(y: FloatArray, centre: float) -> tuple[float, float]:
    n = y.size
    sample_ss = float(y @ y)
    floor = 64 * n * _EPS * (sample_ss + n * centre * centre)  # sums of squared deviations below it are 0
    estimate = centre / math.sqrt(sample_ss / (n - 1)) if n > 1 and sample_ss > floor else math.nan
    return estimate, floor


def sharpe_replicates(s1: FloatArray, s2: FloatArray, n: int, centre: float, floor: float) -> FloatArray:
    """Per-period Sharpe of each resample from its block sums s1 of y = x - centre and s2 of y^2 (see `sharpe_ci`):
    mean* = centre + s1/n, var* = (s2 - s1^2/n) / (n - 1), NaN where s2 - s1^2/n <= floor or n < 2. Lets a caller
    resample several statistics of one calendar with one set of blocks (`stationary_block_sums` on more columns).
    """
    ss = s2 - s1 * s1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((ss > floor) & (n > 1), (centre + s1 / n) / np.sqrt(ss / max(n - 1, 1)), np.nan)
    return np.asarray(out, dtype=np.float64)


def sharpe_estimate_and_floor(x: npt.ArrayLike) -> tuple[float, float, float]:
    """(per-period Sharpe of x, mean of x, the zero-variance floor `sharpe_replicates` needs) - sharpe_ci's rules."""
    series = _series(x)
    centre = float(series.mean()) if series.size else math.nan
    estimate, floor = _sharpe_and_floor(series - centre, centre)
    return estimate, centre, floor
