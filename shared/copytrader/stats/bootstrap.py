"""Stationary bootstrap (Politis & Romano 1994) with the automatic block length of Politis & White (2004).

Why: a wallet's daily P&L is autocorrelated and volatility-clustered; IID resampling destroys that and gives
intervals that are too narrow (quant/REFERENCE.md sections 3 and 8). The stationary bootstrap resamples blocks
of Geometric(p) length, p = 1 / block_size, from uniform circular start points.

Conventions:
- `block_size` is the expected block length b, p = 1/b (arch's convention: pass b, not p). b < 1 is read as
  b = 1 (every observation starts a new block, the IID bootstrap); b must be finite and positive.
- Indices wrap circularly, so every resample has marginally uniform indices and E*[Xbar*] = xbar exactly.
- A resample always has the sample's length n.
- Confidence intervals are percentile [q(a/2), q(1-a/2)] or basic [2t - q(1-a/2), 2t - q(a/2)] with
  `np.quantile(..., method="linear")` (Hyndman & Fan type 7, numpy's and arch's default), a = 1 - level.
- Resamples whose statistic is undefined (NaN or infinite: a zero denominator, a zero variance) are dropped
  before the quantiles and counted in `BootstrapCI.dropped`; with nothing left the bounds are NaN.

References: Politis & Romano (1994) JASA 89(428):1303-1313; Politis & White (2004) Econometric Reviews 23(1):53-70;
Patton, Politis & White (2009) Econometric Reviews 28(4):372-375; reference implementation arch 8.0.0
(`arch.bootstrap.StationaryBootstrap`, `arch.bootstrap.optimal_block_length`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_OBS_BLOCK_LENGTH = 4
"""Below this many observations `optimal_block_length` returns 1.0: arch's cap ceil(min(3 sqrt(n), n/3)) is
already <= 1 for n <= 3, and no autocorrelation can be estimated."""

_METHODS = ("percentile", "basic")
_EPS = float(np.finfo(np.float64).eps)
_CHUNK_ELEMENTS = 1 << 19  # rows x blocks per chunk of stationary_block_sums (int64 work arrays of 4 MB)
_TAIL_SD = 4.0  # blocks drawn per resample: mean + 4 sd of the number needed; rarer shortfalls draw more


# ------------------------------------------------------------------------------------------ block length
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


# ------------------------------------------------------------------------------------------ samplers
def _probability(block_size: float) -> float:
    """p = 1 / max(block_size, 1); block_size must be finite and positive."""
    if not (math.isfinite(block_size) and block_size > 0):
        raise ValueError(f"block_size must be finite and positive, got {block_size}")
    return 1.0 / max(float(block_size), 1.0)


def stationary_indices(n: int, p: float, starts: npt.ArrayLike, uniforms: npt.ArrayLike) -> IntArray:
    """The stationary-bootstrap index recursion of arch (`stationary_bootstrap_sample`), vectorised.

        out[0] = starts[0];   out[i] = (out[i-1] + 1) mod n  if uniforms[i] > p  else  starts[i]

    so a new block starts with probability p at each position (Politis & Romano 1994, circular version).
    `starts` and `uniforms` have the same shape, (m,) or (reps, m); the recursion runs along the last axis.
    Closed form used: with s(i) the last position <= i where a block starts (i = 0 or uniforms[i] <= p),
    out[i] = (starts[s(i)] + i - s(i)) mod n; s is a running maximum (np.maximum.accumulate), no loop over i.
    `starts` should lie in [0, n); they are reduced mod n.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    start = np.asarray(starts, dtype=np.int64)
    u = np.asarray(uniforms, dtype=np.float64)
    if start.shape != u.shape or start.ndim not in (1, 2):
        raise ValueError(f"starts and uniforms must share a shape (m,) or (reps, m); got {start.shape}, {u.shape}")
    m = start.shape[-1]
    if m == 0:
        return start.copy()
    position = np.arange(m, dtype=np.int64)
    new_block = u <= p
    new_block[..., 0] = True
    last_start = np.maximum.accumulate(np.where(new_block, position, 0), axis=-1)
    block_start = np.take_along_axis(start, last_start, axis=-1)
    return np.asarray((block_start + (position - last_start)) % n, dtype=np.int64)


def stationary_resample_indices(n: int, block_size: float, reps: int, rng: np.random.Generator) -> IntArray:
    """(reps, n) stationary-bootstrap indices, p = 1 / block_size (block_size < 1 read as 1).

    Draws per resample in arch 8.0.0's order, `rng.integers(n, size=n, dtype=np.int64)` then `rng.random(n)`,
    and applies `stationary_indices`; so, from the same Generator state, resample r equals the r-th
    `arch.bootstrap.StationaryBootstrap(block_size, x, seed=rng).update_indices()`. Costs O(reps n).
    """
    p = _probability(block_size)
    if n < 1 or reps < 0:
        raise ValueError(f"need n >= 1 and reps >= 0, got n={n}, reps={reps}")
    starts = np.empty((reps, n), dtype=np.int64)
    uniforms = np.empty((reps, n), dtype=np.float64)
    for r in range(reps):
        starts[r] = rng.integers(n, size=n, dtype=np.int64)
        uniforms[r] = rng.random(n)
    return stationary_indices(n, p, starts, uniforms)


def _blocks_needed(total: int, p: float) -> int:
    """Blocks to draw to cover `total` positions with high probability: the count needed is 1 + Bin(total-1, p)."""
    mean = (total - 1) * p
    sd = math.sqrt(mean * (1 - p))
    return int(max(1, min(total, 2 + math.ceil(mean + _TAIL_SD * sd))))


def _block_layout(
    total: int | IntArray, n: int, p: float, rng: np.random.Generator, shape: tuple[int, int]
) -> tuple[IntArray, IntArray, IntArray]:
    """shape = (rows, width) stationary-bootstrap blocks, each row truncated to cover at most `total` positions.

    Lengths L are iid Geometric(p) on {1, 2, ...}, drawn by inversion, L = 1 + floor(log(V) / log(1 - p)) with
    V = 1 - U uniform on (0, 1]: P(L > l) = P(V <= (1-p)^l) = (1-p)^l (p = 1 gives L = 1). Starts are iid uniform
    on [0, n) (`rng.integers`). The block that crosses the total is cut and later blocks get length 0. `total` is a
    number or a (rows, 1) array, at most n. Returns (starts, truncated lengths, drawn): drawn[r] is the sum of row
    r's lengths before truncation (each first capped at n, which changes no truncated layout); a row with
    drawn < total needs more blocks.
    """
    u = rng.random(shape)
    if p < 1.0:
        np.subtract(1.0, u, out=u)
        with np.errstate(divide="ignore"):
            np.log(u, out=u)
        np.divide(u, math.log1p(-p), out=u)  # >= 0, so the integer cast below is the floor
        np.minimum(u, n, out=u)
        lengths = u.astype(np.int64)
        lengths += 1
    else:
        lengths = np.ones(shape, dtype=np.int64)
    starts = rng.integers(n, size=shape, dtype=np.int64)
    ends = np.cumsum(lengths, axis=1)  # integer cumsum: several times faster than a float one
    drawn = ends[:, -1].copy()
    np.subtract(ends, lengths, out=lengths)  # where each block begins inside the resample
    np.minimum(lengths, total, out=lengths)
    np.minimum(ends, total, out=ends)
    np.subtract(ends, lengths, out=ends)
    return starts, ends, drawn


def _draw_blocks(
    totals: IntArray, n: int, p: float, rng: np.random.Generator, width: int | None = None
) -> tuple[IntArray, IntArray]:
    """Stationary-bootstrap blocks for rows that must cover `totals[r]` (<= n) positions each: (starts, lengths).

    `_block_layout` with `width` blocks per row (default `_blocks_needed`); rows still short draw further iid blocks
    (a recursion on what remains), so the law does not depend on `width` and each row's lengths sum exactly to
    totals[r]. Used for the rare short rows of `stationary_block_sums`, and by the tests to check the layout.
    """
    rows = totals.shape[0]
    width = width or _blocks_needed(int(totals.max(initial=1)), p)
    starts, lengths, drawn = _block_layout(totals[:, None], n, p, rng, (rows, width))
    short = np.flatnonzero(drawn < totals)
    if short.size:
        more_starts, more_lengths = _draw_blocks(totals[short] - drawn[short], n, p, rng)
        extra = more_lengths.shape[1]
        pad_starts = np.zeros((rows, extra), dtype=np.int64)
        pad_lengths = np.zeros((rows, extra), dtype=np.int64)
        pad_starts[short], pad_lengths[short] = more_starts, more_lengths
        starts = np.concatenate([starts, pad_starts], axis=1)
        lengths = np.concatenate([lengths, pad_lengths], axis=1)
    return starts, lengths


def _pack_pairs(rows: FloatArray) -> npt.NDArray[np.complex128]:
    """(k, m) reals -> (ceil(k/2), m) complex, rows 2i and 2i+1 as real and imaginary parts: one gather and one
    sum then serve two columns (complex addition is componentwise, so the sums are the same)."""
    k, m = rows.shape
    packed = np.zeros(((k + 1) // 2, m), dtype=np.complex128)
    packed.real[:] = rows[0::2]
    packed.imag[: k // 2] = rows[1::2]
    return packed


def _unpack_pairs(sums: npt.NDArray[np.complex128], k: int) -> FloatArray:
    """Inverse of `_pack_pairs` on (reps, ceil(k/2)) sums: (reps, k)."""
    out = np.empty((sums.shape[0], k))
    out[:, 0::2] = sums.real
    out[:, 1::2] = sums.imag[:, : k // 2]
    return out


def stationary_block_sums(columns: npt.ArrayLike, block_size: float, reps: int, rng: np.random.Generator) -> FloatArray:
    """Column sums of `reps` stationary-bootstrap resamples of a (k, n) array, computed block by block: (reps, k).

    Row j of `columns` is one per-period input of a statistic of the same series (e.g. x and x^2 for a Sharpe
    ratio, daily edge sums and daily trade counts for edge per trade); every row is resampled with the same
    indices. Equal in law to `columns[:, stationary_resample_indices(n, block_size, reps, rng)].sum(-1).T`:
    position 0 starts a block and each later position starts one with probability p = 1/block_size, so a
    resample is a run of iid Geometric(p) blocks from iid uniform circular starts, the last one truncated to make
    the length exactly n (`_block_layout`; a row that ran short draws more blocks, `_draw_blocks`). With P the
    prefix sums of the series concatenated with itself, a block (s, l) sums to P[s + l] - P[s]: s < n and l <= n
    after truncation, so s + l < 2n and a block of the whole length n (one complete wrap) sums to the total.
    p = 1 (block_size <= 1) is the IID bootstrap and sums n drawn observations directly.
    Columns are centred before the prefix sums and n * mean added back, which keeps the sums accurate for series
    far from 0. Cost O(reps (1 + n/block_size) k) instead of O(reps n k). A 1-D input is read as k = 1. The
    random stream differs from `stationary_resample_indices`'s (same law); same Generator state, same sums.
    """
    p = _probability(block_size)
    data = np.asarray(columns, dtype=np.float64)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or data.shape[1] < 1 or reps < 0:
        raise ValueError(f"columns must be (k, n) with n >= 1 and reps >= 0; got {data.shape}, reps={reps}")
    k, n = data.shape
    centre = data.mean(axis=1)
    centred = _pack_pairs(data - centre[:, None])
    prefix = np.zeros((centred.shape[0], 2 * n + 1), dtype=np.complex128)
    np.cumsum(np.concatenate([centred, centred], axis=1), axis=1, out=prefix[:, 1:])
    sums = np.zeros((reps, centred.shape[0]), dtype=np.complex128)
    width = _blocks_needed(n, p)
    chunk = max(1, _CHUNK_ELEMENTS // width)
    for lo in range(0, reps, chunk):
        rows = min(reps, lo + chunk) - lo
        part = sums[lo : lo + rows]
        if p == 1.0:
            picks = rng.integers(n, size=(rows, n), dtype=np.int64)
            for j, column in enumerate(centred):
                part[:, j] = np.take(column, picks).sum(axis=1)
            continue
        starts, lengths, drawn = _block_layout(n, n, p, rng, (rows, width))
        lengths += starts  # now the block ends
        for j, column in enumerate(prefix):  # 1-D gathers: much faster than fancy-indexing a 2-D array
            part[:, j] = np.take(column, lengths).sum(axis=1) - np.take(column, starts).sum(axis=1)
        short = np.flatnonzero(drawn < n)
        if short.size:  # rare (mean + 4 sd blocks drawn): continue those rows with fresh iid blocks
            more_starts, more_lengths = _draw_blocks(n - drawn[short], n, p, rng)
            more_lengths += more_starts
            for j, column in enumerate(prefix):
                part[short, j] += np.take(column, more_lengths).sum(axis=1) - np.take(column, more_starts).sum(axis=1)
    out = _unpack_pairs(sums, k)
    out += n * centre
    return out


# ------------------------------------------------------------------------------------------ intervals
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
    counted; a zero sample denominator gives a NaN estimate; empty or non-finite input gives NaN bounds, all reps
    dropped. Raises ValueError if the series differ in length.
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
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = sums[:, 0] / sums[:, 1]
    return ci_from_replicates(estimate, replicates, level, method, block_size=b)


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
