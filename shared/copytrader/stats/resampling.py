"""Stationary-bootstrap resampling (Politis & Romano 1994): resample indices, and column sums of resamples
computed block by block.

The stationary bootstrap resamples blocks of Geometric(p) length, p = 1 / block_size, from uniform circular start
points, so a resample keeps the autocorrelation and volatility clustering of a wallet's daily P&L within blocks
(quant/REFERENCE.md sections 3 and 8).

Conventions:
- `block_size` is the expected block length b, p = 1/b (arch's convention: pass b, not p). b < 1 is read as
  b = 1 (every observation starts a new block, the IID bootstrap); b must be finite and positive.
- Indices wrap circularly, so every resample has marginally uniform indices and E*[Xbar*] = xbar exactly.
- A resample always has the sample's length n.

References: Politis & Romano (1994) JASA 89(428):1303-1313; reference implementation arch 8.0.0
(`arch.bootstrap.StationaryBootstrap`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CHUNK_ELEMENTS = 1 << 19  # rows x blocks per chunk of stationary_block_sums (int64 work arrays of 4 MB)
_TAIL_SD = 4.0  # blocks drawn per resample: mean + 4 sd of the number needed; rarer shortfalls draw more


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
