"""The sizing prior estimated across the scored universe (copytrader.scoring.population)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from copytrader.copying.sizing import category_edge, population_of, whale_edge
from copytrader.model import WhaleProfile, WhaleStatus
from copytrader.scoring.engine import profiles
from copytrader.scoring.population import population_prior
from copytrader.settings import SizingSettings
from tests.support.scored_worlds import scored_world


def _oracle(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """DerSimonian-Laird written out independently, then the Beta moment match of the module docstring."""
    y, v = k / n - p, p * (1 - p) / n
    w = 1 / v
    ybar = (w * y).sum() / w.sum()
    q = (w * (y - ybar) ** 2).sum()
    tau2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    ws = 1 / (v + tau2)
    mu = (ws * y).sum() / ws.sum()
    c = np.average(p + mu, weights=n)
    return mu, (c * (1 - c) / tau2 - 1) if tau2 > 0 else 1000.0


def test_recovers_a_planted_population_and_matches_an_independent_computation() -> None:
    rng = np.random.default_rng(11)
    wallets, mu_true, tau_true = 3000, -0.01, 0.04
    n = rng.integers(40, 400, wallets)
    p = rng.uniform(0.2, 0.8, wallets)
    edge = rng.normal(mu_true, tau_true, wallets)
    k = rng.binomial(n, np.clip(p + edge, 0.01, 0.99))

    prior = population_prior(k, n, p)

    assert prior is not None and prior.wallets == wallets
    mu, strength = _oracle(k.astype(float), n.astype(float), p)
    assert prior.edge == pytest.approx(mu, rel=1e-12) and prior.strength == pytest.approx(strength, rel=1e-12)
    assert prior.edge == pytest.approx(mu_true, abs=0.004)
    assert prior.tau2 == pytest.approx(tau_true**2, rel=0.15)
    centre = float(np.average(p + mu_true, weights=n))
    assert prior.strength == pytest.approx(centre * (1 - centre) / tau_true**2 - 1, rel=0.2)


def test_no_spread_beyond_binomial_noise_pools_fully_and_too_few_wallets_give_none() -> None:
    rng = np.random.default_rng(5)
    n = np.full(500, 200)
    p = np.full(500, 0.5)
    k = rng.binomial(n, p)  # nobody has skill: the spread is binomial noise
    prior = population_prior(k, n, p, max_strength=750.0)
    assert prior is not None and prior.edge == pytest.approx(0.0, abs=0.003)
    assert prior.strength == 750.0 or prior.tau2 < 1e-4
    assert population_prior([3], [5], [0.5]) is None
    assert population_prior([3, 9], [0, 0], [0.5, 0.5]) is None  # no trials: nothing to learn


def test_sizing_shrinks_toward_the_profiles_population_prior_when_it_has_one() -> None:
    sizing = SizingSettings()
    base = {"wallet": "0x" + "1" * 40, "status": WhaleStatus.ACTIVE, "resolved_trades": 50, "wins": 30}
    plain = WhaleProfile(**base, mean_entry_price=Decimal("0.5"))
    estimated = plain.model_copy(update={"prior_edge": Decimal("-0.02"), "prior_strength": Decimal(200)})

    assert population_of(plain, sizing) == (sizing.prior_strength, sizing.population_edge)
    assert population_of(estimated, sizing) == (Decimal(200), Decimal("-0.02"))
    # δ_w = (s·μ + k − n·p̄)/(s + n) = (200·(−0.02) + 30 − 25)/250 = 0.004
    assert category_edge(estimated, "sports", sizing) == Decimal("0.004")
    assert whale_edge(plain, sizing.prior_strength, sizing.population_edge) == Decimal(5) / (sizing.prior_strength + 50)


def test_every_profile_of_a_run_carries_the_runs_population_prior_over_its_eligible_wallets() -> None:
    _, run = scored_world(seed=7, wallets=60, skilled=4, days=30)
    chosen = [w.evidence for w in run.universe.wallets if w.eligible and w.evidence.scored_buys]
    expected = population_prior(
        [e.wins for e in chosen], [e.scored_buys for e in chosen], [e.breakeven_win_rate for e in chosen]
    )
    assert expected is not None and expected.wallets >= 10

    rows = profiles(run.universe)

    assert {(p.prior_edge, p.prior_strength) for p in rows} == {
        (
            Decimal(repr(expected.edge)).quantize(Decimal("0.000001")),
            Decimal(repr(expected.strength)).quantize(Decimal("0.001")),
        )
    }
