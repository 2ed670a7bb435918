"""The population prior of a whale's win-rate edge, estimated across the scored universe, for sizing.

`copytrader.copying.sizing` shrinks each whale's edge per resolved BUY toward a population mean μ with a Beta prior of
strength s pseudo-trades: δ_w = (s·μ + k − n·p̄)/(s + n). This module estimates (μ, s) from the eligible wallets
of one scoring run, so the shrinkage targets the population the wallets were drawn from rather than a fixed
"no skill" (DESIGN: skill is rare, so μ is near zero or negative and s is large; the estimate says how large).

Formula (normal-normal empirical Bayes on the edge, then matched to a Beta):
    y_i = k_i/n_i − p̄_i                  wallet i's edge per resolved BUY (wins k_i in n_i, mean entry price p̄_i)
    v_i = p̄_i (1 − p̄_i) / n_i            its sampling variance under no skill (binomial at the price paid)
    (μ, τ²) = DerSimonian–Laird(y, v)     the population mean and the between-wallet variance of the edge
    s = c̄ (1 − c̄) / τ² − 1               a Beta(s·c, s·(1 − c)) win rate has variance c(1 − c)/(s + 1); c̄ is the
                                          trade-weighted mean of p̄_i + μ (the prior centre of a typical wallet)
τ² = 0 (no spread beyond binomial noise) means full pooling: s = `max_strength`. s is kept in
[`min_strength`, `max_strength`]. Conventions: wallets with n_i ≥ 1 and 0 < p̄_i < 1 only; weights 1/v_i.

References: DerSimonian & Laird (1986), Controlled Clinical Trials 7:177-188; Efron & Morris (1975), JASA 70:311;
the Beta moment match as in `copytrader.stats.shrinkage.beta_binomial_prior`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from copytrader.stats.shrinkage import dersimonian_laird


@dataclass(frozen=True)
class PopulationPrior:
    edge: float  # μ, per resolved BUY
    strength: float  # s, pseudo-trades
    tau2: float  # between-wallet variance of the edge
    wallets: int  # how many wallets informed it


def population_prior(
    wins: Sequence[int],
    trials: Sequence[int],
    mean_price: Sequence[float],
    *,
    min_strength: float = 1.0,
    max_strength: float = 1000.0,
) -> PopulationPrior | None:
    """(μ, s) of the module docstring; None with fewer than two usable wallets."""
    k = np.asarray(wins, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    p = np.asarray(mean_price, dtype=np.float64)
    usable = (n >= 1) & (p > 0) & (p < 1) & np.isfinite(p) & (k >= 0) & (k <= n)
    k, n, p = k[usable], n[usable], p[usable]
    if k.size < 2:
        return None
    y = k / n - p
    v = p * (1.0 - p) / n
    fit = dersimonian_laird(y, v)
    centre = float(np.clip(np.average(p + fit.mu, weights=n), 1e-3, 1 - 1e-3))
    strength = max_strength if fit.tau2 <= 0 else centre * (1.0 - centre) / fit.tau2 - 1.0
    strength = float(np.clip(strength, min_strength, max_strength))
    return PopulationPrior(edge=fit.mu, strength=strength, tau2=fit.tau2, wallets=int(k.size))
