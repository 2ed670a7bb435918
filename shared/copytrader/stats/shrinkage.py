"""Shrinkage of many noisy per-wallet estimates toward their population (empirical Bayes).

Why: the wallet with the best raw edge is, more often than not, the luckiest one. Shrinking each estimate toward
the population mean by its own noise ranks wallets by what they are likely to earn next, not by what they did.

Normal-normal model with known sampling variances (quant/REFERENCE.md section 6):
    y_i | theta_i ~ N(theta_i, v_i),   theta_i ~ N(mu, tau^2)
DerSimonian & Laird (1986, Controlled Clinical Trials 7:177-188) moment estimator:
    w_i = 1/v_i,  ybar_w = sum w y / sum w,  Q = sum w_i (y_i - ybar_w)^2,
    tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))
    mu = sum y_i/(v_i + tau^2) / sum 1/(v_i + tau^2),  B_i = v_i / (v_i + tau^2)
    posterior mean theta_i = mu + (1 - B_i)(y_i - mu),  posterior variance (1 - B_i) v_i
The posterior variance treats mu and tau^2 as known (plug-in); it understates uncertainty when k is small
(Morris 1983, JASA 78:47-55). tau^2 = 0 shrinks everything to mu: "no wallet differs from the population".

James & Stein (1961) toward the grand mean, for k >= 4 estimates with a common known sampling variance sigma^2:
    z_i = ybar + c (y_i - ybar),  c = max(0, 1 - (k - 3) sigma^2 / sum (y_i - ybar)^2)   (positive part)
(Efron & Morris 1975, JASA 70:311-319; 1977, Scientific American 236(5), the batting-average example).

Nonparametric empirical Bayes (NPMLE of the prior; Kiefer & Wolfowitz 1956, EM of Laird 1978, JASA 73:805-811;
Jiang & Zhang 2009, Ann. Statist. 37:1647-1684; Koenker & Mizera 2014, JASA 109:674-685): when skill is sparse - a
few skilled wallets among many with none - a normal prior is the wrong shape: it shrinks the rare real edge to the
crowd. The NPMLE puts the prior on a grid t_1 < ... < t_m with weights g_j and maximises the marginal likelihood
    sum_i log sum_j g_j phi((y_i - t_j) / s_i) / s_i,      s_i = sqrt(v_i),
by the EM fixed point g_j <- mean_i [g_j f_ij / sum_k g_k f_ik] (each step raises the likelihood). The posterior of
theta_i is then discrete on the grid, proportional to g_j f_ij: its mean, sd and quantiles (linear interpolation of
the cumulative weights between grid points) are exact for that prior. Used this way for ranking and selecting
fund managers and the like by Gu & Koenker (2023), "Invidious comparisons", Econometrica 91(1):1-41.

Beta-binomial empirical Bayes for win counts k_i of n_i: fit Beta(alpha, beta) across wallets by the method of
moments on the pooled proportions, posterior mean (alpha + k_i) / (alpha + beta + n_i).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EmpiricalBayes:
    """The fitted population (mu, tau^2) and each estimate's shrinkage factor B and posterior moments."""

    mu: float
    tau2: float
    q_statistic: float
    shrinkage: FloatArray  # B_i = v_i / (v_i + tau^2): 1 means "all population", 0 "all own data"
    posterior_mean: FloatArray
    posterior_var: FloatArray


def dersimonian_laird(y: npt.ArrayLike, v: npt.ArrayLike) -> EmpiricalBayes:
    """Normal-normal empirical Bayes with the DerSimonian-Laird tau^2 (see the module docstring).

    Entries with a non-finite estimate or a non-positive / non-finite variance do not inform the population and
    get NaN posteriors. Needs at least two usable estimates; with fewer, tau^2 is 0 and mu the weighted mean.
    """
    estimates = np.asarray(y, dtype=np.float64)
    variances = np.asarray(v, dtype=np.float64)
    if estimates.shape != variances.shape:
        raise ValueError(f"y and v differ in shape: {estimates.shape} vs {variances.shape}")
    usable = np.isfinite(estimates) & np.isfinite(variances) & (variances > 0)
    ys, vs = estimates[usable], variances[usable]
    k = ys.size
    nan_all = np.full(estimates.shape, np.nan)
    if k == 0:
        return EmpiricalBayes(float("nan"), float("nan"), float("nan"), nan_all, nan_all.copy(), nan_all.copy())
    w = 1.0 / vs
    w_sum = float(w.sum())
    ybar = float(np.dot(w, ys) / w_sum)
    q = float(np.dot(w, np.square(ys - ybar)))
    tau2 = 0.0
    if k >= 2:
        tau2 = max(0.0, (q - (k - 1)) / (w_sum - float(np.square(w).sum()) / w_sum))
    wstar = 1.0 / (vs + tau2)
    mu = float(np.dot(wstar, ys) / wstar.sum())
    shrink = nan_all.copy()
    mean = nan_all.copy()
    var = nan_all.copy()
    b = vs / (vs + tau2)
    shrink[usable] = b
    mean[usable] = mu + (1.0 - b) * (ys - mu)
    var[usable] = (1.0 - b) * vs
    return EmpiricalBayes(mu=mu, tau2=tau2, q_statistic=q, shrinkage=shrink, posterior_mean=mean, posterior_var=var)


def james_stein(y: npt.ArrayLike, sigma2: float) -> tuple[FloatArray, float]:
    """Positive-part James-Stein toward the grand mean; returns (estimates, c). Needs k >= 4 and sigma2 > 0."""
    values = np.asarray(y, dtype=np.float64)
    k = values.size
    if k < 4:
        raise ValueError(f"James-Stein toward the estimated mean needs k >= 4 estimates, got {k}")
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be positive, got {sigma2}")
    ybar = float(values.mean())
    spread = float(np.square(values - ybar).sum())
    c = 0.0 if spread == 0 else max(0.0, 1.0 - (k - 3) * sigma2 / spread)
    return ybar + c * (values - ybar), c


@dataclass(frozen=True)
class BetaPrior:
    alpha: float
    beta: float

    def posterior_mean(self, wins: npt.ArrayLike, trials: npt.ArrayLike) -> FloatArray:
        """(alpha + k) / (alpha + beta + n)."""
        k = np.asarray(wins, dtype=np.float64)
        n = np.asarray(trials, dtype=np.float64)
        return np.asarray((self.alpha + k) / (self.alpha + self.beta + n), dtype=np.float64)


def beta_binomial_prior(wins: npt.ArrayLike, trials: npt.ArrayLike, *, max_strength: float = 1e6) -> BetaPrior:
    """Method-of-moments Beta(alpha, beta) across units with k_i wins in n_i trials (n_i > 0).

    With p_i = k_i / n_i, m = mean p, s^2 = var(p, ddof=1) and nbar the mean n: the between-unit variance is
    s^2 - m (1 - m) E[1/n] (binomial noise removed); alpha + beta = m (1 - m) / between - 1. When the observed
    spread is no larger than binomial noise the prior strength is capped at `max_strength` (full pooling).
    """
    k = np.asarray(wins, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    keep = n > 0
    k, n = k[keep], n[keep]
    if k.size < 2:
        raise ValueError("need at least two units with trials to fit a population prior")
    p = k / n
    m = float(p.mean())
    if m <= 0.0 or m >= 1.0:
        raise ValueError(f"pooled proportion {m} leaves no room for a Beta prior")
    between = float(p.var(ddof=1)) - m * (1.0 - m) * float(np.mean(1.0 / n))
    strength = max_strength if between <= 0 else min(max_strength, m * (1.0 - m) / between - 1.0)
    strength = max(strength, 1e-6)
    return BetaPrior(alpha=m * strength, beta=(1.0 - m) * strength)


@dataclass(frozen=True)
class DiscretePrior:
    """A prior on a grid: P(theta = grid[j]) = weights[j]; `loglik` of the data it was fitted to, per observation."""

    grid: FloatArray
    weights: FloatArray
    loglik: float
    iterations: int

    def _likelihood(self, y: FloatArray, v: FloatArray) -> FloatArray:
        s = np.sqrt(v)[:, None]
        z = (y[:, None] - self.grid[None, :]) / s
        # relative to each row's best grid point, so no row underflows to all zeros
        log_f = -0.5 * z * z - np.log(s)
        log_f -= log_f.max(axis=1, keepdims=True)
        return np.asarray(np.exp(log_f), dtype=np.float64)

    def posterior_weights(self, y: npt.ArrayLike, v: npt.ArrayLike) -> FloatArray:
        """(k, m): P(theta_i = grid[j] | y_i) for each observation."""
        ys, vs = np.asarray(y, dtype=np.float64), np.asarray(v, dtype=np.float64)
        joint = self._likelihood(ys, vs) * self.weights[None, :]
        return np.asarray(joint / joint.sum(axis=1, keepdims=True), dtype=np.float64)

    def posterior(self, y: npt.ArrayLike, v: npt.ArrayLike, lower: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Posterior mean, sd and the `lower` quantile (e.g. 0.05 for a one-sided 95% bound) of each theta_i."""
        post = self.posterior_weights(y, v)
        mean = post @ self.grid
        sd = np.sqrt(np.maximum(post @ (self.grid**2) - mean**2, 0.0))
        cumulative = np.cumsum(post, axis=1)
        j = np.argmax(cumulative >= lower, axis=1)
        previous = np.where(j > 0, cumulative[np.arange(len(j)), j - 1], 0.0)
        here = cumulative[np.arange(len(j)), j]
        left = self.grid[np.maximum(j - 1, 0)]
        fraction = np.where(here > previous, (lower - previous) / np.where(here > previous, here - previous, 1.0), 1.0)
        quantile = np.where(j > 0, left + fraction * (self.grid[j] - left), self.grid[0])
        return np.asarray(mean), np.asarray(sd), np.asarray(quantile, dtype=np.float64)


def npmle_prior(
    y: npt.ArrayLike,
    v: npt.ArrayLike,
    *,
    grid_size: int = 300,
    max_iter: int = 2000,
    tol: float = 1e-9,
) -> DiscretePrior:
    """Kiefer-Wolfowitz NPMLE of the prior of theta from y_i ~ N(theta_i, v_i), by EM on an even grid over
    [min y, max y] (see the module docstring). Stops when the mean log-likelihood gains less than `tol` per step.
    Non-finite entries and non-positive variances are ignored. Needs at least one usable estimate.
    """
    ys = np.asarray(y, dtype=np.float64)
    vs = np.asarray(v, dtype=np.float64)
    usable = np.isfinite(ys) & np.isfinite(vs) & (vs > 0)
    ys, vs = ys[usable], vs[usable]
    if ys.size == 0:
        raise ValueError("no usable estimates to fit a prior to")
    low, high = float(ys.min()), float(ys.max())
    if high - low < 1e-12:
        return DiscretePrior(np.array([low]), np.array([1.0]), 0.0, 0)
    grid = np.linspace(low, high, grid_size)
    s = np.sqrt(vs)[:, None]
    z = (ys[:, None] - grid[None, :]) / s
    log_f = -0.5 * z * z - np.log(s) - 0.5 * np.log(2 * np.pi)
    shift = log_f.max(axis=1, keepdims=True)
    f = np.exp(log_f - shift)
    g = np.full(grid_size, 1.0 / grid_size)
    previous = -np.inf
    iterations = 0
    loglik = previous
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        marginal = f @ g
        loglik = float(np.mean(np.log(marginal) + shift[:, 0]))
        g = g * (f.T @ (1.0 / marginal)) / ys.size
        if loglik - previous < tol:
            break
        previous = loglik
    g = g / g.sum()
    return DiscretePrior(grid=grid, weights=g, loglik=loglik, iterations=iterations)
