"""Calibrated-edge test per wallet, with Benjamini-Hochberg false-discovery control.

Win rate is not edge in a prediction market: a wallet that buys at 0.90 and wins 90% has none
(quant/REFERENCE.md §4). Under the null of no skill, each resolved BUY i at price p_i wins with
probability p_i, so a wallet's wins K follow a Poisson-binomial law with

    E[K] = Σ p_i,    Var[K] = Σ p_i (1 - p_i).

The test statistic is z = (K - E[K]) / sqrt(Var[K]) (normal approximation; Lyapunov CLT for
independent Bernoulli trials), one-sided p-value = 1 - Φ(z) = erfc(z/√2)/2. Across the universe of
candidate wallets the p-values go through the Benjamini-Hochberg step-up procedure at level q
(Benjamini & Hochberg 1995, JRSS B 57(1):289-300): sort p ascending, find the largest k with
p_(k) <= k q / m, and reject the k smallest. Expected false discoveries among the selected are then at
most q. "No wallet qualifies" is a possible, and common, answer.

Conventions: only BUYs of markets that resolved 1/0 count (SELLs realise a price, not an outcome;
50/50 resolutions carry no information about skill); wallets with fewer than `min_trades` such trades
are not tested (they stay candidates). Independence across a wallet's trades is assumed; trades in
correlated markets make the test anti-conservative, which the full scoring engine's clustered
bootstrap addresses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from copytrader.model import WhaleProfile, WhaleStatus


@dataclass(frozen=True)
class Evidence:
    wallet: str
    trades: int
    wins: int
    expected_wins: float
    variance: float

    @property
    def z(self) -> float:
        return (self.wins - self.expected_wins) / math.sqrt(self.variance) if self.variance > 0 else 0.0

    @property
    def p_value(self) -> float:
        return 0.5 * math.erfc(self.z / math.sqrt(2))

    @property
    def mean_price(self) -> float:
        return self.expected_wins / self.trades if self.trades else 0.5

    @property
    def edge(self) -> float:
        """Raw calibrated edge per trade: (K - Σp)/n."""
        return (self.wins - self.expected_wins) / self.trades if self.trades else 0.0


def evidence(
    wallets: list[str], wallet_index: npt.NDArray[np.int64], price: npt.NDArray[np.float64], won: npt.NDArray[np.bool_]
) -> list[Evidence]:
    """Per-wallet sums over resolved BUYs: trades, wins, Σp and Σp(1-p) (vectorised with bincount)."""
    m = len(wallets)
    trades = np.bincount(wallet_index, minlength=m)
    wins = np.bincount(wallet_index, weights=won.astype(np.float64), minlength=m)
    expected = np.bincount(wallet_index, weights=price, minlength=m)
    variance = np.bincount(wallet_index, weights=price * (1.0 - price), minlength=m)
    return [
        Evidence(wallets[i], int(trades[i]), int(wins[i]), float(expected[i]), float(variance[i]))
        for i in range(m)
        if trades[i] > 0
    ]


def benjamini_hochberg(p_values: list[float], q: float) -> list[bool]:
    """Which hypotheses the BH step-up procedure rejects at false-discovery rate q."""
    m = len(p_values)
    if m == 0:
        return []
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = 0
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= rank * q / m:
            cutoff = rank
    rejected = [False] * m
    for i in order[:cutoff]:
        rejected[i] = True
    return rejected


def select(items: list[Evidence], *, q: float = 0.10, min_trades: int = 20, top_n: int = 50) -> list[WhaleProfile]:
    """Wallets whose calibrated edge survives BH at level q, best z first, at most `top_n`, as ACTIVE profiles."""
    tested = [e for e in items if e.trades >= min_trades]
    rejected = benjamini_hochberg([e.p_value for e in tested], q)
    chosen = sorted((e for e, r in zip(tested, rejected, strict=True) if r), key=lambda e: -e.z)[:top_n]
    return [
        WhaleProfile(
            wallet=e.wallet,
            status=WhaleStatus.ACTIVE,
            score=Decimal(f"{e.z:.4f}"),
            resolved_trades=e.trades,
            wins=e.wins,
            mean_entry_price=Decimal(f"{e.mean_price:.6f}"),
            reasons=(f"calibrated edge {e.edge:+.4f}/trade over {e.trades} trades, z={e.z:.2f}, BH q={q}",),
        )
        for e in chosen
    ]
