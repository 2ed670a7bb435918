"""Stationary bootstrap and block length: known answers (quant/vectors.json), closed-form bootstrap moments
(Politis & Romano 1994, Lemma 1), the law of the block layout, CI coverage, degenerate input and invariances.

Monte-Carlo checks use fixed seeds and bounds derived from the sampling error of the quantity checked (stated at
each test), so they are deterministic and not tuned to the seed.
"""

from __future__ import annotations

import math
from dataclasses import astuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from copytrader.stats.bootstrap import (
    BlockLength,
    BootstrapCI,
    _blocks_needed,
    _draw_blocks,
    ci_from_replicates,
    mean_ci,
    optimal_block_length,
    ratio_ci,
    sharpe_ci,
    stationary_block_sums,
    stationary_indices,
    stationary_resample_indices,
)
from tests.support.handbook import vector

Z_BOUND = 5.0  # Monte-Carlo checks: |estimate - truth| <= 5 standard errors


def ar1(rng: np.random.Generator, n: int, phi: float, burn: int = 100) -> np.ndarray:
    """x_t = phi x_{t-1} + e_t, e ~ N(0, 1), after `burn` discarded steps."""
    return np.asarray(lfilter([1.0], [1.0, -phi], rng.standard_normal(n + burn))[burn:])


def arch_test_series() -> np.ndarray:
    """The series of arch's test_block_length, as vectors.json describes it (RandomState(0), AR(1) 0.3)."""
    e = np.random.RandomState(0).standard_normal(10100)
    y = e  # the same array: the recursion runs in place, as in the vector's description
    for i in range(1, 10100):
        y[i] = 0.3 * y[i - 1] + e[i]
    return y[100:]


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


# ------------------------------------------------------------------------------------------ block length
def test_block_length_reproduces_arch_vector() -> None:
    v = vector("optimal_block_length_politis_white")
    got = optimal_block_length(arch_test_series())
    rel = v["tolerance"]["rel"]
    assert got.stationary == pytest.approx(v["expected"]["stationary"], rel=rel)
    assert got.circular == pytest.approx(v["expected"]["circular"], rel=rel)


def test_population_block_length_of_ar1_closed_form() -> None:
    """The vector's population values follow from gamma(k) = phi^|k| / (1 - phi^2) with D_SB = 2 g0^2."""
    v = vector("optimal_block_length_ar1_population")
    phi, n = v["inputs"]["phi"], v["inputs"]["n"]
    k = np.arange(1, 2000)
    gamma0, gamma = 1 / (1 - phi**2), phi**k / (1 - phi**2)
    big_g = 2 * np.sum(k * gamma)
    g0 = gamma0 + 2 * np.sum(gamma)
    b_sb = (2 * big_g**2 / (2 * g0**2)) ** (1 / 3) * n ** (1 / 3)
    b_cb = (2 * big_g**2 / (4 / 3 * g0**2)) ** (1 / 3) * n ** (1 / 3)
    assert b_sb == pytest.approx(v["expected"]["b_SB"], abs=1e-9)
    assert b_cb == pytest.approx(v["expected"]["b_CB"], abs=1e-9)


def test_block_length_estimator_lands_near_ar1_population() -> None:
    """40 AR(1) phi = 0.3 series of n = 10,000: each estimate's sd is ~1.4 (8% of 16.3), so the mean of 40 has a
    standard error of ~0.22; the mean must lie within 5% of the population value (the estimator's finite-sample
    bias is about -2.5% here; the arch vector's single series gives 13.6, -16%, which is within one-draw noise).
    b_CB / b_SB = (3/2)^(1/3) holds exactly for every uncapped estimate (D_CB = (2/3) D_SB)."""
    population = vector("optimal_block_length_ar1_population")["expected"]
    rng = np.random.default_rng(20260101)
    estimates = [optimal_block_length(ar1(rng, 10_000, 0.3)) for _ in range(40)]
    sb = np.array([b.stationary for b in estimates])
    cb = np.array([b.circular for b in estimates])
    assert sb.mean() == pytest.approx(population["b_SB"], rel=0.05)
    assert cb.mean() == pytest.approx(population["b_CB"], rel=0.05)
    assert np.allclose(cb / sb, 1.5 ** (1 / 3), rtol=1e-12)
    assert np.all(np.abs(sb / population["b_SB"] - 1) < 0.35)


@pytest.mark.parametrize(
    "x",
    [
        [],
        [1.0],
        [1.0, 2.0],
        [3.0, 1.0, 2.0],
        [5.0] * 50,
        [0.1] * 1000,  # the mean of a constant float series need not equal it exactly
        [1.0, float("nan"), 2.0, 3.0, 4.0],
        [1.0, float("inf"), 2.0, 3.0, 4.0],
        [0.0] * 49 + [1.0],
        [1.0, -1.0] * 100,  # strongly negative autocorrelation
    ],
    ids=["empty", "n1", "n2", "n3", "constant", "constant-0.1", "nan", "inf", "one-spike", "alternating"],
)
def test_block_length_is_defined_for_degenerate_input(x: list[float]) -> None:
    got = optimal_block_length(x)
    assert math.isfinite(got.stationary) and math.isfinite(got.circular)
    assert got.stationary >= 1.0 and got.circular >= 1.0
    n = len(x)
    if n < 4 or not np.all(np.isfinite(x)) or len(set(x)) == 1:
        assert got == BlockLength(1.0, 1.0)
    else:
        b_max = math.ceil(min(3 * math.sqrt(n), n / 3))
        assert got.stationary <= b_max and got.circular <= b_max


def test_white_noise_block_length_is_one_not_below() -> None:
    """No dependence: G ~ 0 gives a raw estimate below 1 (arch returns it); ours is raised to 1."""
    x = np.random.default_rng(1).standard_normal(2000)
    assert optimal_block_length(x).stationary == pytest.approx(1.0, abs=0.6)
    assert optimal_block_length(x).stationary >= 1.0


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


# ------------------------------------------------------------------------------------------ intervals
def test_ci_from_replicates_percentile_and_basic() -> None:
    theta = np.array([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0, np.inf])
    pct = ci_from_replicates(2.5, theta, 0.5, "percentile")
    q_lo, q_hi = np.quantile([1.0, 2.0, 3.0, 4.0, 5.0], [0.25, 0.75], method="linear")
    assert (pct.low, pct.high) == (q_lo, q_hi) == (2.0, 4.0)
    assert (pct.reps, pct.dropped) == (7, 2)
    basic = ci_from_replicates(2.5, theta, 0.5, "basic")
    assert (basic.low, basic.high) == (2 * 2.5 - 4.0, 2 * 2.5 - 2.0)
    none = ci_from_replicates(1.0, [np.nan, np.inf], 0.9, "percentile")
    assert math.isnan(none.low) and math.isnan(none.high) and none.dropped == 2 and not none.defined
    with pytest.raises(ValueError):
        ci_from_replicates(1.0, theta, 1.0, "percentile")
    with pytest.raises(ValueError):
        ci_from_replicates(1.0, theta, 0.9, "bca")


def test_coverage_on_ar1_data() -> None:
    """300 AR(1) phi = 0.3 series of n = 2,000 days, 90% percentile intervals from 400 resamples each with the
    estimated block length. Coverage must lie within 3.5 binomial standard errors (sqrt(0.09 / 300) = 0.017) of
    0.90. The stationary bootstrap undercovers slightly at finite n (about 0.86 at n = 250 and 0.88 at 3,000
    for all three statistics here; arch 8.0.0's own conf_int gives the same on identical series)."""
    rng = np.random.default_rng(777)
    n, sims, level, reps, phi = 2000, 300, 0.9, 400, 0.3
    true_sr = 0.05  # x = 0.05 + AR(1) scaled to unit variance
    scale = math.sqrt(1 - phi**2)
    hits = {"mean": 0, "sharpe": 0, "ratio": 0}
    for _ in range(sims):
        x = true_sr + ar1(rng, n, phi) * scale
        hits["mean"] += (c := mean_ci(x, reps=reps, level=level, rng=rng)).low <= true_sr <= c.high
        hits["sharpe"] += (c := sharpe_ci(x, reps=reps, level=level, rng=rng)).low <= true_sr <= c.high
        trades = 1.0 + rng.poisson(4, n)
        edge = 0.02 * trades + 0.1 * np.sqrt(trades) * ar1(rng, n, phi)  # E[edge sum] / E[trades] = 0.02
        hits["ratio"] += (c := ratio_ci(edge, trades, reps=reps, level=level, rng=rng)).low <= 0.02 <= c.high
    band = 3.5 * math.sqrt(level * (1 - level) / sims)
    for name, hit in hits.items():
        assert abs(hit / sims - level) <= band, f"{name}: coverage {hit / sims:.3f}"


# ------------------------------------------------------------------------------------------ degenerate input
RNG = np.random.default_rng


def test_constant_series() -> None:
    x = np.full(60, 0.1)
    m = mean_ci(x, reps=200, level=0.9, rng=RNG(0))
    assert m.low == pytest.approx(0.1, rel=1e-12) and m.high == pytest.approx(0.1, rel=1e-12)
    assert m.dropped == 0 and m.block_size == 1.0
    s = sharpe_ci(x, reps=200, level=0.9, rng=RNG(0))
    assert math.isnan(s.estimate) and math.isnan(s.low) and s.dropped == 200 and not s.defined
    r = ratio_ci(x, np.full(60, 2.0), reps=200, level=0.9, rng=RNG(0))
    assert r.estimate == pytest.approx(0.05) and r.low == pytest.approx(0.05) and r.dropped == 0


def test_one_and_two_observations() -> None:
    one = mean_ci([3.0], reps=100, level=0.9, rng=RNG(0))
    assert (one.estimate, one.low, one.high, one.dropped) == (3.0, 3.0, 3.0, 0)
    s1 = sharpe_ci([3.0], reps=100, level=0.9, rng=RNG(0))
    assert math.isnan(s1.estimate) and s1.dropped == 100
    two = mean_ci([1.0, 2.0], reps=100, level=0.9, rng=RNG(0))
    assert (two.low, two.high, two.block_size) == (1.0, 2.0, 1.0)
    # n = 2, block 1 (IID): a resample repeats one value with probability 1/2, zero variance, dropped
    reps = 2000
    s2 = sharpe_ci([1.0, 2.0], reps=reps, level=0.9, rng=RNG(0))
    assert abs(s2.dropped - reps / 2) <= Z_BOUND * math.sqrt(reps / 4)
    assert s2.estimate == pytest.approx(1.5 / math.sqrt(0.5))
    assert s2.low == pytest.approx(s2.estimate) and s2.high == pytest.approx(s2.estimate)


def test_zero_denominators() -> None:
    zeros = ratio_ci([1.0, -2.0, 0.5], [0.0, 0.0, 0.0], reps=100, level=0.9, rng=RNG(0))
    assert math.isnan(zeros.estimate) and zeros.dropped == 100 and math.isnan(zeros.high)
    # trades on 2 of 10 days, IID resampling: a resample misses both with probability (8/10)^10 = 0.107
    num, den = np.zeros(10), np.zeros(10)
    num[[2, 7]], den[[2, 7]] = [0.3, -0.1], [3.0, 1.0]
    reps = 4000
    sparse = ratio_ci(num, den, reps=reps, level=0.9, rng=RNG(1), block_size=1.0)
    q = 0.8**10
    assert abs(sparse.dropped - reps * q) <= Z_BOUND * math.sqrt(reps * q * (1 - q))
    assert sparse.estimate == pytest.approx(0.2 / 4.0) and sparse.defined


def test_empty_and_non_finite_input_give_results_not_exceptions() -> None:
    for ci in (
        mean_ci([], reps=50, level=0.9, rng=RNG(0)),
        sharpe_ci([], reps=50, level=0.9, rng=RNG(0)),
        ratio_ci([], [], reps=50, level=0.9, rng=RNG(0)),
        mean_ci([1.0, np.nan, 2.0, 3.0, 4.0], reps=50, level=0.9, rng=RNG(0)),
        sharpe_ci([1.0, np.inf, 2.0, 3.0, 4.0], reps=50, level=0.9, rng=RNG(0)),
    ):
        assert isinstance(ci, BootstrapCI)
        assert ci.reps == 50 and 0 <= ci.dropped <= 50 and ci.block_size == 1.0


def test_bad_arguments_are_errors() -> None:
    with pytest.raises(ValueError):
        stationary_block_sums([1.0, 2.0], 0.0, 10, RNG(0))
    with pytest.raises(ValueError):
        stationary_block_sums([1.0, 2.0], float("nan"), 10, RNG(0))
    with pytest.raises(ValueError):
        ratio_ci([1.0, 2.0], [1.0], reps=10, level=0.9, rng=RNG(0))


# ------------------------------------------------------------------------------------------ properties
series = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False), min_size=5, max_size=80
).filter(lambda v: np.ptp(v) > 1e-3 * max(1.0, float(np.max(np.abs(v)))))
blocks = st.floats(min_value=0.5, max_value=40.0)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
scales = st.floats(min_value=1e-3, max_value=1e3)


@settings(max_examples=40, deadline=None)
@given(x=series, k=st.integers(min_value=-20, max_value=20), b=blocks, seed=seeds)
def test_power_of_two_scaling_is_exact(x: list[float], k: int, b: float, seed: int) -> None:
    """x -> 2^k x commutes with every floating-point step: mean CI scales by 2^k, Sharpe CI is identical."""
    arr, c = np.array(x), 2.0**k
    for method in ("percentile", "basic"):
        m1 = mean_ci(arr, reps=60, level=0.9, rng=RNG(seed), block_size=b, method=method)
        m2 = mean_ci(c * arr, reps=60, level=0.9, rng=RNG(seed), block_size=b, method=method)
        assert (m2.estimate, m2.low, m2.high) == (c * m1.estimate, c * m1.low, c * m1.high)
        s1 = sharpe_ci(arr, reps=60, level=0.9, rng=RNG(seed), block_size=b, method=method)
        s2 = sharpe_ci(c * arr, reps=60, level=0.9, rng=RNG(seed), block_size=b, method=method)
        assert s1 == s2 or (s1.dropped == s2.dropped == 60 and math.isnan(s1.estimate) == math.isnan(s2.estimate))


@settings(max_examples=25, deadline=None)
@given(c=scales, d=st.floats(min_value=-10, max_value=10), seed=seeds)
def test_any_positive_scaling_on_ar1_series(c: float, d: float, seed: int) -> None:
    """Arbitrary c > 0 (and a shift d for the mean) on an ordinary series: equal up to rounding, block length
    estimated on both sides."""
    x = 0.1 + ar1(RNG(seed), 180, 0.3)
    m1 = mean_ci(x, reps=100, level=0.9, rng=RNG(seed))
    m2 = mean_ci(c * x + d, reps=100, level=0.9, rng=RNG(seed))
    assert m2.block_size == pytest.approx(m1.block_size, rel=1e-12)
    assert m2.low == pytest.approx(c * m1.low + d, rel=1e-9, abs=1e-9 * c)
    assert m2.high == pytest.approx(c * m1.high + d, rel=1e-9, abs=1e-9 * c)
    s1 = sharpe_ci(x, reps=100, level=0.9, rng=RNG(seed))
    s2 = sharpe_ci(c * x, reps=100, level=0.9, rng=RNG(seed))
    assert (s2.low, s2.high, s2.dropped) == pytest.approx((s1.low, s1.high, s1.dropped), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(x=series, c=scales)
def test_block_length_is_scale_invariant(x: list[float], c: float) -> None:
    a, b = optimal_block_length(x), optimal_block_length(c * np.array(x))
    assert b.stationary == pytest.approx(a.stationary, rel=1e-9)
    assert b.circular == pytest.approx(a.circular, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(x=series, seed=seeds, reps=st.integers(min_value=1, max_value=50), b=st.one_of(st.none(), blocks))
def test_same_seed_same_answer_and_shapes(x: list[float], seed: int, reps: int, b: float | None) -> None:
    arr = np.array(x)
    for f in (mean_ci, sharpe_ci):
        first = astuple(f(arr, reps=reps, level=0.8, rng=RNG(seed), block_size=b))
        again = astuple(f(arr, reps=reps, level=0.8, rng=RNG(seed), block_size=b))
        assert first == again or str(first) == str(again)  # str: NaN fields compare equal
    cols = np.stack([arr, arr**2, np.ones_like(arr)])
    sums = stationary_block_sums(cols, b or 3.0, reps, RNG(seed))
    assert sums.shape == (reps, 3)
    assert np.array_equal(sums, stationary_block_sums(cols, b or 3.0, reps, RNG(seed)))
    assert np.allclose(sums[:, 2], arr.size)  # every resample has length n
    idx = stationary_resample_indices(arr.size, b or 3.0, reps, RNG(seed))
    assert idx.shape == (reps, arr.size) and idx.min() >= 0 and idx.max() < arr.size
