"""Calibrated edge: the null variance against brute force, and the test's size on simulated calibrated markets."""

from __future__ import annotations

import numpy as np
import pytest

from copytrader.scoring.edge import summarise, trade_edges
from copytrader.scoring.ledger import SECONDS_PER_DAY
from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.tape import TradeTape

DAY0 = 20_000 * SECONDS_PER_DAY


def world(
    wallet: np.ndarray,
    market: np.ndarray,
    outcome_token: np.ndarray,
    buy: np.ndarray,
    price: np.ndarray,
    t: np.ndarray,
    yes_wins: np.ndarray,
    events: np.ndarray | None = None,
) -> tuple[TradeTape, TokenFacts]:
    """Binary markets m with tokens 2m (YES) and 2m+1 (NO)."""
    n_markets = len(yes_wins)
    token = 2 * market + outcome_token
    order = np.lexsort((np.arange(len(wallet)), t, wallet))
    tape = TradeTape(
        wallets=tuple(f"0x{i:040x}" for i in range(int(wallet.max()) + 1)),
        tokens=tuple(str(i) for i in range(2 * n_markets)),
        conditions=tuple(f"0x{i:064x}" for i in range(n_markets)),
        wallet=wallet[order].astype(np.int64),
        token=token[order].astype(np.int64),
        condition=market[order].astype(np.int64),
        buy=buy[order],
        price=price[order],
        size=np.ones(len(wallet)),
        fee=np.zeros(len(wallet)),
        timestamp=t[order].astype(np.int64),
        legs=np.ones(len(wallet), dtype=np.int64),
        decision=np.ones(len(wallet), dtype=bool),
    )
    payout = np.empty(2 * n_markets)
    payout[0::2], payout[1::2] = yes_wins, 1 - yes_wins
    ev = np.repeat(np.arange(n_markets) if events is None else events, 2)
    facts = TokenFacts(
        known=np.ones(2 * n_markets, dtype=bool),
        outcome=np.tile([0, 1], n_markets).astype(np.int64),
        payout=payout,
        resolved_at=np.full(2 * n_markets, DAY0 + 100 * SECONDS_PER_DAY, dtype=np.int64),
        price_now=np.full(2 * n_markets, np.nan),
        event=ev.astype(np.int64),
        category=np.zeros(2 * n_markets, dtype=np.int64),
        fee_rate=np.full(2 * n_markets, 0.04),
        events=tuple(str(i) for i in range(int(ev.max()) + 1)),
        categories=("c",),
        mismatched_tokens=0,
    )
    return tape, facts


def test_win_rate_equal_to_price_is_no_edge() -> None:
    """Buying at 0.90 and winning 9 of 10 is calibrated, not skilled (REFERENCE section 4)."""
    n = 10
    tape, facts = world(
        wallet=np.zeros(n, dtype=int),
        market=np.arange(n),
        outcome_token=np.zeros(n, dtype=int),
        buy=np.ones(n, dtype=bool),
        price=np.full(n, 0.9),
        t=DAY0 + np.arange(n),
        yes_wins=np.array([1] * 9 + [0], dtype=float),
    )
    edges = trade_edges(tape, facts, slippage=0.0)
    s = summarise(tape, facts, edges, np.ones(n))
    assert s.mean[0] == pytest.approx(0.0, abs=1e-12)
    assert s.var_null[0] == pytest.approx(10 * 0.09 / 100)  # ten independent markets: n p (1 - p) / n^2
    assert edges.net == pytest.approx(edges.edge - 0.04 * 0.9 * 0.1)


def test_null_variance_equals_the_double_sum_over_each_market() -> None:
    rng = np.random.default_rng(4)
    n, markets = 60, 5
    market = rng.integers(0, markets, n)
    outcome_token = rng.integers(0, 2, n)
    buy = rng.random(n) < 0.6
    price = rng.uniform(0.05, 0.95, n).round(2)
    t = DAY0 + rng.permutation(n)
    weights = rng.uniform(0.2, 1.0, n)
    tape, facts = world(np.zeros(n, dtype=int), market, outcome_token, buy, price, t, np.ones(markets))
    edges = trade_edges(tape, facts, slippage=0.0)
    # the same weights in tape order
    order = np.lexsort((np.arange(n), t, np.zeros(n)))
    w = weights[order]
    s = summarise(tape, facts, edges, w)
    expected = 0.0
    for m in range(markets):
        idx = [i for i in range(n) if tape.condition[i] == m]
        total = 0.0
        for i in idx:
            for j in idx:
                later = i if (tape.timestamp[i], i) >= (tape.timestamp[j], j) else j
                v = edges.yes_price[later] * (1 - edges.yes_price[later])
                total += w[i] * edges.direction[i] * w[j] * edges.direction[j] * v
        expected += max(total, 0.0)
    assert s.var_null[0] * s.weight[0] ** 2 == pytest.approx(expected, rel=1e-10)


def test_directions_in_yes_terms() -> None:
    tape, facts = world(
        wallet=np.zeros(4, dtype=int),
        market=np.zeros(4, dtype=int),
        outcome_token=np.array([0, 1, 0, 1]),
        buy=np.array([True, True, False, False]),
        price=np.array([0.3, 0.6, 0.4, 0.5]),
        t=DAY0 + np.arange(4),
        yes_wins=np.array([1.0]),
    )
    e = trade_edges(tape, facts, slippage=0.0)
    assert e.direction.tolist() == [1, -1, -1, 1]  # buy YES, buy NO, sell YES, sell NO
    assert e.yes_price.tolist() == pytest.approx([0.3, 0.4, 0.4, 0.5])
    assert e.edge.tolist() == pytest.approx([0.7, -0.6, -0.6, 0.5])  # buy YES wins; buy NO loses; ...


def test_the_test_has_its_nominal_size_on_calibrated_martingale_markets() -> None:
    """No-skill wallets laddering into positions (many fills per market) at martingale prices: the clustered z is
    close to N(0, 1); the per-trade binomial variance, which treats fills of one market as independent, is not."""
    rng = np.random.default_rng(7)
    n_markets, n_wallets, steps = 400, 300, 20
    pi = rng.beta(2, 2, n_markets)
    yes = (rng.random(n_markets) < pi).astype(float)
    # price path: posterior P(Y = 1) after Gaussian signals with mean Y, a martingale ending near the outcome
    signals = rng.normal(yes[:, None], 1.5, (n_markets, steps))
    log_odds = np.log(pi / (1 - pi))[:, None] + np.cumsum((2 * signals - 1) / (2 * 1.5**2), axis=1)
    path = np.clip(1 / (1 + np.exp(-log_odds)), 0.01, 0.99)
    rows = []
    for w in range(n_wallets):
        for m in rng.choice(n_markets, size=15, replace=False):
            start = rng.integers(0, steps - 6)
            token = rng.integers(0, 2)
            for k in range(start, start + 6):  # six fills in the same direction: a ladder
                p_yes = path[m, k]
                rows.append((w, m, token, True, p_yes if token == 0 else 1 - p_yes, DAY0 + k * 3600 + m))
    arr = np.array(rows, dtype=float)
    tape, facts = world(
        arr[:, 0].astype(int),
        arr[:, 1].astype(int),
        arr[:, 2].astype(int),
        arr[:, 3].astype(bool),
        arr[:, 4],
        arr[:, 5].astype(np.int64),
        yes,
    )
    edges = trade_edges(tape, facts, slippage=0.0)
    s = summarise(tape, facts, edges, np.ones(tape.n))
    z = s.z
    assert abs(np.mean(z)) < 0.2
    assert 0.75 < np.var(z) < 1.3
    assert np.mean(s.p_value < 0.05) < 0.09
    # the naive per-trade variance sum p(1 - p) / n^2 ignores the ladders and rejects far too often
    naive = np.bincount(tape.wallet, weights=edges.yes_price * (1 - edges.yes_price)) / np.bincount(tape.wallet) ** 2
    naive_z = s.mean / np.sqrt(naive)
    assert np.var(naive_z) > 2.5


def test_cluster_robust_variance_groups_by_event() -> None:
    tape, facts = world(
        wallet=np.zeros(4, dtype=int),
        market=np.arange(4),
        outcome_token=np.zeros(4, dtype=int),
        buy=np.ones(4, dtype=bool),
        price=np.full(4, 0.5),
        t=DAY0 + np.arange(4),
        yes_wins=np.array([1.0, 1.0, 0.0, 0.0]),
        events=np.array([0, 0, 1, 1]),
    )
    s = summarise(tape, facts, trade_edges(tape, facts, slippage=0.0), np.ones(4))
    # edges +.5 +.5 -.5 -.5, mean 0; event sums +1 and -1; G/(G-1) * (1 + 1) / 16
    assert s.clusters[0] == 2 and s.markets[0] == 4
    assert s.var_robust[0] == pytest.approx(2 * 2 / 16)
    assert s.var[0] == pytest.approx(max(0.25, 4 * 0.25 / 16))
