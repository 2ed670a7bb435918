"""The stationary bootstrap the whale scorer runs, against arch 8.0.0 (bench/requirements.txt), and its budget.

Like for like: the per-period Sharpe ratio of one AR(1) series (phi 0.3, n = 1,000 days), 1,000 resamples,
expected block length 10, best of several runs each.
- arch: `StationaryBootstrap(10, x, seed=np.random.default_rng(s)).apply(sharpe, 1000)` (its Cython index
  sampler, the statistic called once per resample); replicates only, no interval.
- ours: `sharpe_ci(x, reps=1000, block_size=10, ...)`, i.e. `stationary_block_sums` of (y, y^2) plus the
  percentile interval; slightly more work than arch's side.
Before timing, the bench checks that it compares like with like: our index sampler reproduces arch's indices
bit for bit from the same Generator, our block length equals arch's, and the bootstrap standard errors of the
Sharpe ratio from arch and from our block sums agree within Monte-Carlo error (20,000 resamples each).

Then the scorer's budget: `ratio_ci` (daily edge sums / daily trade counts) plus `sharpe_ci` (daily P&L), 1,000
resamples each with the block length estimated, per wallet series of 180 days, and that cost times 10,000 wallets
on one core.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np

from bench.figure import BenchmarkError, Figure
from copytrader.stats.block_length import optimal_block_length
from copytrader.stats.bootstrap import ratio_ci, sharpe_ci
from copytrader.stats.resampling import stationary_block_sums, stationary_resample_indices

N_DAYS, REPS, BLOCK, PHI = 1000, 1000, 10, 0.3
RUNS = 7
CHECK_REPS = 20_000
SCORER_DAYS, SCORER_WALLETS, UNIVERSE = 180, 200, 10_000


def ar1(rng: np.random.Generator, n: int, phi: float = PHI) -> np.ndarray:
    e = rng.standard_normal(n + 100)
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, e.size):
        x[t] = phi * x[t - 1] + e[t]
    return x[100:]


def sharpe(y: np.ndarray) -> float:
    return float(y.mean() / y.std(ddof=1))


def best_ms(run: Callable[[int], object], runs: int = RUNS) -> float:
    """Fastest of `runs` calls (seed = run number), after one warm-up call, in milliseconds."""
    run(10_000)
    times = []
    for seed in range(runs):
        started = time.perf_counter()
        run(seed)
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def our_sharpe_replicates(x: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """The replicates sharpe_ci computes (its formula, from the block sums of y and y^2)."""
    n, centre = x.size, float(x.mean())
    y = x - centre
    sums = stationary_block_sums(np.stack([y, y * y]), BLOCK, reps, rng)
    s1, s2 = sums[:, 0], sums[:, 1]
    return np.asarray((centre + s1 / n) / np.sqrt((s2 - s1 * s1 / n) / (n - 1)))


def sd_with_se(replicates: np.ndarray) -> tuple[float, float]:
    """Sample sd of the replicates and its standard error, sd sqrt((kurtosis - 1) / (4 R)) (delta method)."""
    d = replicates - replicates.mean()
    var = float(np.mean(d * d))
    kurtosis = float(np.mean(d**4)) / var**2
    sd = math.sqrt(var)
    return sd, sd * math.sqrt((kurtosis - 1) / (4 * replicates.size))


def check_like_for_like(x: np.ndarray, arch_bootstrap: type, arch_block_length: Callable[..., object]) -> str:
    ours_idx = stationary_resample_indices(x.size, BLOCK, 50, np.random.default_rng(3))
    sampler = arch_bootstrap(BLOCK, x, seed=np.random.default_rng(3))
    arch_idx = np.stack([sampler.update_indices() for _ in range(50)])
    if not np.array_equal(ours_idx, arch_idx):
        raise BenchmarkError("stationary_resample_indices differs from arch's StationaryBootstrap indices")

    theirs = arch_block_length(x)
    ours = optimal_block_length(x)
    got, want = (ours.stationary, ours.circular), tuple(float(theirs[c].iloc[0]) for c in ("stationary", "circular"))
    if not np.allclose(got, want, rtol=1e-9):
        raise BenchmarkError(f"optimal_block_length {got} differs from arch's {want}")

    arch_reps = arch_bootstrap(BLOCK, x, seed=np.random.default_rng(1)).apply(sharpe, CHECK_REPS).ravel()
    our_reps = our_sharpe_replicates(x, CHECK_REPS, np.random.default_rng(2))
    (sd_a, se_a), (sd_o, se_o) = sd_with_se(arch_reps), sd_with_se(our_reps)
    z = (sd_o - sd_a) / math.hypot(se_a, se_o)
    if abs(z) > 5:
        raise BenchmarkError(f"bootstrap SE of the Sharpe ratio: ours {sd_o:.5f}, arch {sd_a:.5f} (z = {z:.1f})")
    return f"SE ours {sd_o:.5f} vs arch {sd_a:.5f} (z = {z:+.2f}), indices and block length identical"


def scorer_wallets(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Daily P&L, daily edge sums and daily trade counts of 180-day wallets (~1,000 trades each)."""
    wallets = []
    for _ in range(SCORER_WALLETS):
        pnl = 5.0 + 100.0 * ar1(rng, SCORER_DAYS, rng.uniform(0.0, 0.5))
        trades = rng.poisson(1000 / SCORER_DAYS, SCORER_DAYS).astype(float)
        edge = 0.01 * trades + 0.2 * np.sqrt(trades) * ar1(rng, SCORER_DAYS, rng.uniform(0.0, 0.5))
        wallets.append((pnl, edge, trades))
    return wallets


def bootstrap(args: argparse.Namespace) -> list[Figure]:
    try:
        from arch.bootstrap import StationaryBootstrap
        from arch.bootstrap import optimal_block_length as arch_block_length
    except ImportError:
        print("bootstrap: skipped, arch is not installed (`make bench` installs bench/requirements.txt)")
        return []

    x = 0.05 + ar1(np.random.default_rng(args.seed), N_DAYS)
    checked = check_like_for_like(x, StationaryBootstrap, arch_block_length)

    def arch_run(seed: int) -> object:
        return StationaryBootstrap(BLOCK, x, seed=np.random.default_rng(seed)).apply(sharpe, REPS)

    def our_run(seed: int) -> object:
        return sharpe_ci(x, reps=REPS, level=0.95, rng=np.random.default_rng(seed), block_size=BLOCK)

    arch_ms, our_ms = best_ms(arch_run), best_ms(our_run)

    wallets = scorer_wallets(np.random.default_rng(args.seed))

    def scorer_run(seed: int) -> object:
        rng = np.random.default_rng(seed)
        for pnl, edge, trades in wallets:
            ratio_ci(edge, trades, reps=REPS, level=0.95, rng=rng)
            sharpe_ci(pnl, reps=REPS, level=0.95, rng=rng)
        return None

    per_series_ms = best_ms(scorer_run, runs=3) / SCORER_WALLETS
    same = f"Sharpe of one AR(1) series, n = {N_DAYS}, {REPS} resamples, block {BLOCK}, best of {RUNS}"
    return [
        Figure("stationary_bootstrap_speedup_vs_arch", arch_ms / our_ms, f"arch time / ours; {checked}"),
        Figure("stationary_bootstrap_ours_ms", our_ms, f"sharpe_ci (block sums + interval); {same}"),
        Figure("stationary_bootstrap_arch_ms", arch_ms, f"arch 8.0.0 StationaryBootstrap.apply; {same}"),
        Figure(
            "stationary_bootstrap_scorer_per_series_ms",
            per_series_ms,
            f"ratio_ci + sharpe_ci, {REPS} resamples each, block length estimated, one {SCORER_DAYS}-day wallet "
            f"(mean over {SCORER_WALLETS} wallets, best of 3)",
        ),
        Figure(
            "stationary_bootstrap_scorer_10k_series_s",
            per_series_ms * UNIVERSE / 1000,
            f"the line above x {UNIVERSE:,} wallets on one core",
        ),
    ]
