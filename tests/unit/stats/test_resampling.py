"""Stationary-bootstrap resampling: the index recursion against arch's (quant/vectors.json and a transcribed loop),
closed-form bootstrap moments (Politis & Romano 1994, Lemma 1) and the law of the block layout.

Monte-Carlo checks use fixed seeds and bounds derived from the sampling error of the quantity checked (stated at
each test), so they are deterministic and not tuned to the seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from copytrader.stats.resampling import (
    _blocks_needed,
    _draw_blocks,
    stationary_block_sums,
    stationary_indices,
    stationary_resample_indices,
)
from tests.support.handbook import vector
from tests.support.random_series import Z_BOUND, ar1


def loop_recursion(n: int, p: float, starts: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """arch's stationary_bootstrap_sample_python, transcribed: the reference for the vectorised recursion."""
    out = starts.copy()
    for i in range(1, out.shape[0]):
        if uniforms[i] > p:
            out[i] = out[i - 1] + 1
            if out[i] == n:
                out[i] = 0
    return out


# ------------------------------------------------------------------------------------------ index recursion
def test_index_recursion_matches_arch_vector_exactly() -> None:
    v = vector("stationary_bootstrap_index_recursion")
    i = v["inputs"]
    got = stationary_indices(i["n"], i["p"], i["random_start_indices"], i["uniforms"])
    assert got.tolist() == v["expected"]["indices"]


def test_index_recursion_vectorised_over_reps_equals_the_loop() -> None:
    rng = np.random.default_rng(3)
    n, reps = 37, 50
    for p in (0.0, 0.05, 0.3, 1.0):
        starts = rng.integers(n, size=(reps, n))
        uniforms = rng.random((reps, n))
        uniforms[:, 5] = p  # a tie u == p starts a new block, as in arch (u > p continues)
        got = stationary_indices(n, p, starts, uniforms)
        want = np.stack([loop_recursion(n, p, s, u) for s, u in zip(starts, uniforms, strict=True)])
        assert np.array_equal(got, want)


def test_resample_indices_draw_in_archs_order() -> None:
    """Per resample, integers(n, size=n, dtype=int64) then random(n), then the recursion: arch 8.0.0's
    StationaryBootstrap.update_indices, so the same Generator gives arch's indices (the bench checks it
    against arch itself; tests do not import arch)."""
    n, block_size, reps = 40, 5.0, 25
    rng = np.random.default_rng(9)
    want = []
    for _ in range(reps):
        starts = rng.integers(n, size=n, dtype=np.int64)
        want.append(loop_recursion(n, 1 / block_size, starts, rng.random(n)))
    assert np.array_equal(stationary_resample_indices(n, block_size, reps, np.random.default_rng(9)), np.stack(want))


def test_resample_indices_shape_and_range() -> None:
    idx = stationary_resample_indices(23, 4.0, 30, np.random.default_rng(0))
    assert idx.shape == (30, 23)
    assert idx.dtype == np.int64
    assert idx.min() >= 0 and idx.max() < 23


# ------------------------------------------------------------------------------------------ law of the samplers
def politis_romano_moments(x: np.ndarray, block_size: float) -> tuple[float, float]:
    """E*[sqrt(N) Xbar*] = sqrt(N) xbar and Var*(sqrt(N) Xbar*) = C(0) + 2 sum_{i=1}^{N-1} b(i) C(i),
    b(i) = (1 - i/N)(1-p)^i + (i/N)(1-p)^(N-i), C(i) = N^-1 sum_{j<=N-i} (x_j - xbar)(x_{j+i} - xbar)
    (Politis & Romano 1994, Lemma 1; exact for the circular stationary bootstrap)."""
    n = x.size
    p = 1 / max(block_size, 1.0)
    d = x - x.mean()
    i = np.arange(1, n)
    c = np.array([d[: n - k] @ d[k:] / n for k in range(n)])
    b = (1 - i / n) * (1 - p) ** i + (i / n) * (1 - p) ** (n - i)
    return math.sqrt(n) * x.mean(), float(c[0] + 2 * np.sum(b * c[1:]))


def assert_moments_match(z: np.ndarray, mean: float, var: float, label: str) -> None:
    """z: R replicates of sqrt(N) Xbar*. SE of the mean = sqrt(var / R); SE of the sample variance =
    sqrt((m4 - s^4) / R), m4 the replicates' fourth central moment (delta method, no normality assumed)."""
    r = z.size
    s2 = z.var(ddof=1)
    m4 = np.mean((z - z.mean()) ** 4)
    se_mean, se_var = math.sqrt(var / r), math.sqrt((m4 - s2**2) / r)
    assert abs(z.mean() - mean) <= Z_BOUND * se_mean, f"{label}: mean {z.mean()} vs {mean} (se {se_mean})"
    assert abs(s2 - var) <= Z_BOUND * se_var, f"{label}: variance {s2} vs {var} (se {se_var})"


@pytest.mark.parametrize(("n", "block_size"), [(60, 4.0), (40, 30.0), (25, 1.0), (50, 2.5)])
def test_both_samplers_match_politis_romano_lemma_1(n: int, block_size: float) -> None:
    """Index-based and block-sum resampling reproduce the closed-form bootstrap mean and variance of the mean
    (incl. block_size > n/2 and the IID case), each within 5 Monte-Carlo standard errors at R = 20,000. The
    check has power: the variance at 2 x block_size lies more than 5 standard errors away."""
    rng = np.random.default_rng(n * 1000 + int(block_size * 10))
    x = ar1(rng, n, 0.6) + 0.5
    mean, var = politis_romano_moments(x, block_size)
    reps = 20_000
    by_index = x[stationary_resample_indices(n, block_size, reps, rng)].sum(axis=1) / math.sqrt(n)
    by_blocks = stationary_block_sums(x, block_size, reps, rng)[:, 0] / math.sqrt(n)
    assert_moments_match(by_index, mean, var, "indices")
    assert_moments_match(by_blocks, mean, var, "block sums")
    if block_size > 1:
        _, other = politis_romano_moments(x, 2 * block_size)
        se_var = var * math.sqrt(2 / reps)  # normal-theory SE, for the power statement only
        assert abs(other - var) > Z_BOUND * se_var


def test_block_sums_of_a_far_from_zero_constant_are_exact() -> None:
    """Centring before the prefix sums: every resample of a constant series sums to n c (to rounding of n c)."""
    c, n = 1e6 + 0.1, 500
    sums = stationary_block_sums(np.full((2, n), c), 7.0, 200, np.random.default_rng(0))
    assert np.allclose(sums, n * c, rtol=1e-15, atol=0)


def test_continuation_probability_of_resample_indices() -> None:
    """out[i] = out[i-1] + 1 (mod n) happens when the block continues (prob 1 - p) or a new block happens to
    start there (p / n); the indicators are iid across positions, so their mean has a binomial SE."""
    n, block_size, reps = 30, 6.0, 2000
    idx = stationary_resample_indices(n, block_size, reps, np.random.default_rng(11))
    follows = (idx[:, 1:] == (idx[:, :-1] + 1) % n).ravel()
    p = 1 / block_size
    q = (1 - p) + p / n
    assert abs(follows.mean() - q) <= Z_BOUND * math.sqrt(q * (1 - q) / follows.size)


@pytest.mark.parametrize("width", [None, 3], ids=["default-width", "forced-shortfall"])
def test_block_layout_is_geometric_with_mean_block_size(width: int | None) -> None:
    """Per resample of length n: lengths sum exactly to n; the number of blocks K has K - 1 ~ Binomial(n-1, p)
    (each later position starts a block with probability p); blocks are iid Geometric(p) before the truncation,
    checked on each row's first 5 blocks (they end before n except with probability < 1e-12 here, so the
    truncation does not bias them): mean 1/p = block_size, variance (1-p)/p^2. Starts are uniform on [0, n).
    A forced width of 3 blocks makes every row draw more blocks (the recursion): the law must not change."""
    n, block_size, rows = 200, 7.0, 4000
    p = 1 / block_size
    starts, lengths = _draw_blocks(np.full(rows, n, dtype=np.int64), n, p, np.random.default_rng(5), width)
    assert np.all(lengths.sum(axis=1) == n)
    used = lengths > 0
    assert np.all(used[:, :-1] >= used[:, 1:])  # blocks of length 0 only after the end
    blocks = used.sum(axis=1)
    mean_k, var_k = (n - 1) * p, (n - 1) * p * (1 - p)
    assert abs((blocks - 1).mean() - mean_k) <= Z_BOUND * math.sqrt(var_k / rows)
    first = lengths[:, :5].ravel()
    var_l = (1 - p) / p**2
    assert abs(first.mean() - block_size) <= Z_BOUND * math.sqrt(var_l / first.size)
    kurtosis = (p**2 - 9 * p + 9) / (1 - p)  # non-excess kurtosis of a geometric law
    assert abs(first.var() - var_l) <= Z_BOUND * var_l * math.sqrt((kurtosis - 1) / first.size)
    assert np.mean(first == 1) == pytest.approx(p, abs=Z_BOUND * math.sqrt(p * (1 - p) / first.size))
    s = starts[used]
    assert s.min() >= 0 and s.max() < n
    assert abs(s.mean() - (n - 1) / 2) <= Z_BOUND * math.sqrt((n**2 - 1) / 12 / s.size)


def test_blocks_needed_covers_the_iid_case_exactly() -> None:
    assert _blocks_needed(180, 1.0) == 180
    assert _blocks_needed(1, 0.5) == 1
