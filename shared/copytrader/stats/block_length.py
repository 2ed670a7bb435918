"""Automatic block length for the stationary and circular block bootstraps: Politis & White (2004) with the
Patton, Politis & White (2009) correction.

Why: a block bootstrap keeps a series' dependence only within its blocks, and its intervals are only as good as
the block length. Politis & White's rule estimates, from the series' own autocovariances, the expected block
length that minimises the asymptotic mean squared error of the bootstrap estimate of the variance of the
sample mean.

Conventions:
- The result is the expected block length b (not p = 1/b), arch's convention, ready to pass as `block_size` to
  `copytrader.stats.resampling` and `copytrader.stats.bootstrap`.
- Both lengths lie in [1, ceil(min(3 sqrt(n), n/3))]; degenerate input (too short, non-finite, constant) gives 1.0,
  the IID bootstrap; neither an exception nor a NaN ever comes out.

References: Politis & White (2004) Econometric Reviews 23(1):53-70; Patton, Politis & White (2009) Econometric
Reviews 28(4):372-375; reference implementation arch 8.0.0 (`arch.bootstrap.optimal_block_length`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MIN_OBS_BLOCK_LENGTH = 4
"""Below this many observations `optimal_block_length` returns 1.0: arch's cap ceil(min(3 sqrt(n), n/3)) is
already <= 1 for n <= 3, and no autocorrelation can be estimated."""


@dataclass(frozen=True)
class BlockLength:
    """Estimated optimal expected block lengths: `stationary` (stationary bootstrap), `circular` (circular
    block bootstrap). Both lie in [1, ceil(min(3 sqrt(n), n/3))] (1.0 for degenerate input)."""

    stationary: float
    circular: float


def optimal_block_length(x: npt.ArrayLike) -> BlockLength:
    """Politis & White (2004) automatic block length with the Patton, Politis & White (2009) correction.

    With eps = x - mean(x), autocovariances g(k) = n^-1 sum_{t} eps_t eps_{t+k} (full-sample mean and divisor n,
    all available pairs: arch's convention, not Patton's MATLAB common-sample one) and a flat-top window
    lambda(t) = 1 for |t| <= 1/2, 2(1 - |t|) for 1/2 < |t| <= 1:

        G = sum_{|k|<=M} lambda(k/M) |k| g(k),   g0 = sum_{|k|<=M} lambda(k/M) g(k)
        b_SB = (2 G^2 / D_SB)^(1/3) n^(1/3),  D_SB = 2 g0^2     (the 2009 correction)
        b_CB = (2 G^2 / D_CB)^(1/3) n^(1/3),  D_CB = (4/3) g0^2

    Bandwidth M = 2 max(m_hat, 1), capped at m_max = ceil(sqrt n) + K_N, where m_hat is the first lag that starts
    a run of K_N = max(5, int(log10 n)) autocorrelations all inside +-c sqrt(log10(n)/n), c = 2; with no such
    run M = m_max. The autocorrelation at lag k is |sum eps_{t} eps_{t+k}| / sqrt(sum eps_{k+1..}^2 sum
    eps_{..n-k-2}^2), exactly as arch 8.0.0 computes it (lags m_hat .. m_hat + K_N - 1 must be insignificant).
    Both lengths are capped at b_max = ceil(min(3 sqrt n, n/3)).

    Reproduces `arch.bootstrap.optimal_block_length` 8.0.0 (to floating-point summation order) for ordinary
    input, with these documented deviations, so that neither an exception nor a NaN ever comes out:
    - n < MIN_OBS_BLOCK_LENGTH (4), any non-finite value, or a constant series (g(0) = 0): BlockLength(1, 1);
    - a result below 1 (no detectable dependence, G ~ 0) is raised to 1.0 (arch returns it unclamped; a mean
      block shorter than one observation is the IID bootstrap anyway);
    - an undefined ratio (G = g0 = 0) gives 1.0.
    """
    values = np.asarray(x, dtype=np.float64).ravel()
    n = values.size
    if n < MIN_OBS_BLOCK_LENGTH or not np.all(np.isfinite(values)) or np.all(values == values[0]):
        return BlockLength(1.0, 1.0)
    eps = values - values.mean()
    b_max = math.ceil(min(3 * math.sqrt(n), n / 3))
    kn = max(5, int(math.log10(n)))
    m_max = math.ceil(math.sqrt(n)) + kn
    cv = 2 * math.sqrt(math.log10(n) / n)

    lags = np.arange(m_max + 1)
    # cross[i] = eps[i:] @ eps[:n-i] for i = 0..m_max (0 once i >= n), one strided matrix-vector product
    padded = np.concatenate([eps, np.zeros(m_max)])
    cross = np.lib.stride_tricks.sliding_window_view(padded, n)[: m_max + 1] @ eps
    acv = cross / n
    # arch's normalisers: v1 = eps[i+1:] @ eps[i+1:], v2 = eps[:-(i+1)] @ eps[:-(i+1)]
    csq = np.concatenate([[0.0], np.cumsum(eps * eps)])
    v1 = csq[n] - csq[np.minimum(lags + 1, n)]
    v2 = csq[np.maximum(n - lags - 1, 0)]
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_acorr = np.abs(cross) / np.sqrt(v1 * v2)
    insignificant = abs_acorr[:m_max] < cv  # NaN (an empty normaliser) counts as significant, as in arch
    runs = np.lib.stride_tricks.sliding_window_view(insignificant, kn).all(axis=1)
    first = np.flatnonzero(runs)
    m = min(2 * max(int(first[0]), 1), m_max) if first.size else m_max

    k = np.arange(1, m + 1)
    lam = np.where(k / m <= 0.5, 1.0, 2 * (1 - k / m))
    g = float(np.sum(2 * lam * k * acv[1 : m + 1]))
    lr_acv = float(acv[0] + np.sum(2 * lam * acv[1 : m + 1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.float64(g * g) / np.float64(lr_acv * lr_acv)  # 2 G^2 / D_SB; D_CB = (2/3) D_SB
    b_sb = float(np.cbrt(ratio * n))
    b_cb = float(np.cbrt(1.5 * ratio * n))
    return BlockLength(_clamp_block(b_sb, b_max), _clamp_block(b_cb, b_max))


def _clamp_block(b: float, b_max: float) -> float:
    if math.isnan(b):
        return 1.0
    return float(max(1.0, min(b, b_max)))
