"""Inference on Sharpe ratios: Probabilistic Sharpe Ratio, minimum track record, expected maximum, Deflated Sharpe.

Conventions (quant/REFERENCE.md section 1; the Bailey & Lopez de Prado 2012/2014 convention that skfolio
implements):
- every Sharpe ratio here is **per period and not annualised**; T counts the same periods. Feeding an annualised
  SR saturates the DSR near 1. Annualised trial variances convert with V_period = V_annual / q.
- SR-hat = mean / std(ddof=1); skewness gamma3 and kurtosis gamma4 are **population** moments (ddof 0) and
  gamma4 is **non-excess** (3 for a normal).
- sigma(SR) = sqrt(1 - gamma3 SR + (gamma4 - 1)/4 SR^2) / sqrt(T - 1); where the radicand is <= 0 (extreme skew)
  the probability is undefined and NaN is returned, never a silent number.

Formulas:
    PSR(SR*)  = Phi[(SR - SR*) sqrt(T - 1) / sqrt(1 - gamma3 SR + (gamma4 - 1)/4 SR^2)]
    MinTRL    = 1 + [1 - gamma3 SR + (gamma4 - 1)/4 SR^2] (Phi^-1(1 - alpha) / (SR - SR*))^2
    E[max SR] ~ SR0 = mean + sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))), g = Euler-Mascheroni
    DSR       = PSR(SR0) with mean = 0 and V the cross-sectional variance of the N trials' Sharpe estimates.
References: Bailey & Lopez de Prado (2012), "The Sharpe Ratio Efficient Frontier", J. of Risk 15(2);
Bailey, Borwein, Lopez de Prado & Zhu (2014), Notices of the AMS 61(5) (false strategy theorem);
Bailey & Lopez de Prado (2014), "The Deflated Sharpe Ratio", J. Portfolio Management 40(5):94-107.
N = 1 gives Phi^-1(0) = -inf; SR0 is then the mean (skfolio's choice). Correlated trials inflate N: pass an
effective number of independent trials when one is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

EULER_GAMMA = 0.5772156649015329

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SharpeMoments:
    """Per-period Sharpe ratio of a series with the moments PSR needs (population skew, non-excess kurtosis)."""

    sharpe: float
    skew: float
    kurtosis: float
    n: int


def sharpe_moments(r: npt.ArrayLike) -> SharpeMoments:
    """SR = mean / std(ddof=1); gamma3 = m3 / m2^1.5, gamma4 = m4 / m2^2 with central moments m_k = mean((x - mean)^k).

    NaN entries are dropped. Fewer than two observations or zero dispersion give NaN moments.
    """
    x = np.asarray(r, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = int(x.size)
    nan = float("nan")
    if n < 2:
        return SharpeMoments(nan, nan, nan, n)
    d = x - x.mean()
    m2 = float(np.mean(d * d))
    if m2 == 0.0:
        return SharpeMoments(nan, nan, nan, n)
    sd = float(np.std(x, ddof=1))
    return SharpeMoments(
        sharpe=float(x.mean()) / sd,
        skew=float(np.mean(d**3)) / m2**1.5,
        kurtosis=float(np.mean(d**4)) / m2**2,
        n=n,
    )


def _radicand(sharpe: FloatArray, skew: FloatArray, kurtosis: FloatArray) -> FloatArray:
    return np.asarray(1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe, dtype=np.float64)


def psr_z(
    sharpe: npt.ArrayLike, benchmark: npt.ArrayLike, n: npt.ArrayLike, skew: npt.ArrayLike, kurtosis: npt.ArrayLike
) -> FloatArray:
    """z = (SR - SR*) sqrt(T - 1) / sqrt(1 - gamma3 SR + (gamma4 - 1)/4 SR^2), element-wise; NaN where undefined."""
    sr = np.asarray(sharpe, dtype=np.float64)
    radicand = _radicand(sr, np.asarray(skew, dtype=np.float64), np.asarray(kurtosis, dtype=np.float64))
    periods = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (sr - np.asarray(benchmark, dtype=np.float64)) * np.sqrt(periods - 1.0) / np.sqrt(radicand)
    return np.asarray(np.where((radicand > 0) & (periods > 1), z, np.nan), dtype=np.float64)


def probabilistic_sharpe_ratio(
    sharpe: npt.ArrayLike,
    benchmark: npt.ArrayLike,
    n: npt.ArrayLike,
    skew: npt.ArrayLike = 0.0,
    kurtosis: npt.ArrayLike = 3.0,
) -> FloatArray:
    """PSR(SR*) = Phi(psr_z): the probability that the true per-period Sharpe exceeds `benchmark` (element-wise)."""
    return np.asarray(ndtr(psr_z(sharpe, benchmark, n, skew, kurtosis)), dtype=np.float64)


def min_track_record_length(
    sharpe: float, benchmark: float, *, skew: float = 0.0, kurtosis: float = 3.0, alpha: float = 0.05
) -> float:
    """MinTRL = 1 + [1 - gamma3 SR + (gamma4 - 1)/4 SR^2] (Phi^-1(1 - alpha) / (SR - SR*))^2 periods.

    Infinite when SR <= SR* (no track record is long enough).
    """
    if sharpe <= benchmark:
        return math.inf
    radicand = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if radicand <= 0:
        return float("nan")
    return 1.0 + radicand * (float(ndtri(1.0 - alpha)) / (sharpe - benchmark)) ** 2


def expected_max_sharpe(n_trials: float, trial_variance: float, trial_mean: float = 0.0) -> float:
    """SR0 = mean + sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))); the mean itself when N <= 1."""
    if trial_variance < 0:
        raise ValueError(f"trial variance must be >= 0, got {trial_variance}")
    if n_trials <= 1:
        return trial_mean
    spread = (1.0 - EULER_GAMMA) * float(ndtri(1.0 - 1.0 / n_trials)) + EULER_GAMMA * float(
        ndtri(1.0 - 1.0 / (n_trials * math.e))
    )
    return trial_mean + math.sqrt(trial_variance) * spread


def deflated_sharpe_ratio(
    sharpe: npt.ArrayLike,
    n: npt.ArrayLike,
    skew: npt.ArrayLike,
    kurtosis: npt.ArrayLike,
    *,
    n_trials: float,
    trial_variance: float,
) -> FloatArray:
    """DSR = PSR(SR0), SR0 = expected_max_sharpe(N, V) with mean 0 (element-wise over candidates).

    `trial_variance` is the cross-sectional variance of the N trials' per-period Sharpe estimates (not the
    sampling variance of one of them). A candidate is accepted at 95% when DSR >= 0.95.
    """
    benchmark = expected_max_sharpe(n_trials, trial_variance)
    return probabilistic_sharpe_ratio(sharpe, benchmark, n, skew, kurtosis)
