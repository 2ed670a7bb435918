"""Empirical-Bayes shrinkage against published answers; Benjamini-Hochberg against its definition and a simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.stats.multiple_testing import benjamini_hochberg, bh_adjusted
from copytrader.stats.shrinkage import beta_binomial_prior, dersimonian_laird, james_stein

# BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): tpos, tneg, cpos, cneg
BCG = np.array(
    [
        [4, 119, 11, 128],
        [6, 300, 29, 274],
        [3, 228, 11, 209],
        [62, 13536, 248, 12619],
        [33, 5036, 47, 5761],
        [180, 1361, 372, 1079],
        [8, 2537, 10, 619],
        [505, 87886, 499, 87892],
        [29, 7470, 45, 7232],
        [17, 1699, 65, 1600],
        [186, 50448, 141, 27197],
        [5, 2493, 3, 2338],
        [27, 16886, 29, 17825],
    ],
    dtype=float,
)


def test_dersimonian_laird_matches_metafor_on_the_bcg_trials() -> None:
    """metafor `rma(yi, vi, method="DL")` on dat.bcg (log risk ratios) prints tau^2 = 0.3088, estimate -0.7141,
    se 0.1787 and Q(df = 12) = 152.2330 (Viechtbauer 2010, J. Stat. Software 36(3), and the package docs)."""
    tp, tn, cp, cn = BCG.T
    y = np.log((tp / (tp + tn)) / (cp / (cp + cn)))
    v = 1 / tp - 1 / (tp + tn) + 1 / cp - 1 / (cp + cn)
    eb = dersimonian_laird(y, v)
    assert eb.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert eb.mu == pytest.approx(-0.7141, abs=5e-5)
    assert eb.q_statistic == pytest.approx(152.2330, abs=5e-4)
    assert (1.0 / np.sum(1.0 / (v + eb.tau2))) ** 0.5 == pytest.approx(0.1787, abs=5e-5)
    # every posterior mean lies between its own estimate and the population mean
    assert np.all((eb.posterior_mean - eb.mu) * (y - eb.mu) >= 0)
    assert np.all(np.abs(eb.posterior_mean - eb.mu) <= np.abs(y - eb.mu) + 1e-15)
    assert np.allclose(eb.posterior_var, (1 - eb.shrinkage) * v)


def test_no_heterogeneity_means_full_pooling() -> None:
    rng = np.random.default_rng(3)
    v = rng.uniform(0.5, 2.0, 40)
    y = 0.2 + rng.normal(0, 1e-3, 40)  # far less spread than the sampling variances allow
    eb = dersimonian_laird(y, v)
    assert eb.tau2 == 0.0
    assert np.allclose(eb.posterior_mean, eb.mu)
    assert np.all(eb.shrinkage == 1.0)


def test_unusable_estimates_do_not_inform_the_population() -> None:
    eb = dersimonian_laird([0.1, np.nan, 0.3, 0.2], [0.01, 0.01, 0.0, 0.02])
    assert np.isnan(eb.posterior_mean[1]) and np.isnan(eb.posterior_mean[2])
    assert np.isfinite(eb.posterior_mean[[0, 3]]).all()
    assert np.isnan(dersimonian_laird([], []).mu)


def test_james_stein_reproduces_efron_morris_batting_averages() -> None:
    """Efron & Morris (1977), Scientific American 236(5): 18 players' averages after 45 at-bats, c = 0.212."""
    hits = np.array([18, 17, 16, 15, 14, 14, 13, 12, 11, 11, 10, 10, 10, 10, 10, 9, 8, 7])
    y = hits / 45
    ybar = y.mean()
    z, c = james_stein(y, ybar * (1 - ybar) / 45)
    published = [0.294, 0.289, 0.285, 0.280, 0.275, 0.275, 0.270, 0.265, 0.261, 0.261]
    published += [0.256] * 5 + [0.252, 0.247, 0.242]
    assert c == pytest.approx(0.212, abs=5e-4)
    assert z == pytest.approx(published, abs=1.5e-3)
    with pytest.raises(ValueError, match="k >= 4"):
        james_stein([0.1, 0.2, 0.3], 0.01)


def test_beta_binomial_prior_recovers_a_known_population() -> None:
    rng = np.random.default_rng(11)
    p = rng.beta(30, 20, size=4000)  # mean 0.6, strength 50
    n = rng.integers(20, 200, size=4000)
    k = rng.binomial(n, p)
    prior = beta_binomial_prior(k, n)
    assert prior.alpha / (prior.alpha + prior.beta) == pytest.approx(0.6, abs=0.01)
    assert prior.alpha + prior.beta == pytest.approx(50, rel=0.15)
    assert prior.posterior_mean([7], [10])[0] == pytest.approx((prior.alpha + 7) / (prior.alpha + prior.beta + 10))


def test_bh_step_up_on_a_worked_example() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.20, np.nan]
    # m = 5 tested: sorted 0.005, 0.01, 0.03, 0.04, 0.20 against 0.01, 0.02, 0.03, 0.04, 0.05 at q = 0.05
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True, True, True, False, False]
    assert benjamini_hochberg(p, 0.025).tolist() == [True, False, False, True, False, False]
    assert not benjamini_hochberg(p, 0.02).any()  # thresholds 0.004, 0.008, ...: nothing passes
    adjusted = bh_adjusted(p)
    assert adjusted[:5] == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.20])
    assert np.isnan(adjusted[5])
    assert not benjamini_hochberg([0.5, 0.9, 0.06], 0.05).any()


def test_bh_controls_the_false_discovery_rate_in_simulation() -> None:
    rng = np.random.default_rng(5)
    q, m, m1 = 0.10, 500, 25
    fdp = []
    for _ in range(300):
        z = rng.normal(size=m)
        z[:m1] += 3.0
        p = 0.5 * np.vectorize(__import__("math").erfc)(z / 2**0.5)
        rejected = benjamini_hochberg(p, q)
        false = rejected[m1:].sum()
        fdp.append(false / max(1, rejected.sum()))
    # E[FDP] <= q m0/m = 0.095; 300 replications put the standard error near 0.004
    assert np.mean(fdp) < q * (m - m1) / m + 0.015


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.floats(0.01, 0.5))
def test_bh_rejections_are_a_prefix_of_the_sorted_p_values(p: list[float], q: float) -> None:
    rejected = benjamini_hochberg(p, q)
    if rejected.any():
        assert max(np.array(p)[rejected]) <= min(np.array(p)[~rejected], default=1.0) or np.isclose(
            max(np.array(p)[rejected]), min(np.array(p)[~rejected], default=1.0)
        )
    assert np.all(benjamini_hochberg(p, min(0.99, 2 * q)) >= rejected)
