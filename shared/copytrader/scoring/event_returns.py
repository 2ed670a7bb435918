"""One return per resolved event a wallet traded, and the moments of those returns for the Sharpe inference.

Why per event: the Probabilistic / Deflated Sharpe ratio assume T independent returns. A zero-filled daily P&L is
neither independent (the days of one event move together) nor informative about skill (one winning day among
quiet ones looks like a huge positive skew, which the PSR's skew term rewards: one winning day gave PSR ~ 0.975).
The independent unit is the event (`copytrader.scoring.event_keys`), so T counts events.

Per wallet and event g, over the wallet's scored trades i in g (decisions in markets decided 1/0 before the as-of
time, `copytrader.scoring.edge.trade_edges`), with s shares at price p, edge e (payout - p for a BUY, p - payout
for a SELL) and the wallet's own fee f in pUSD:
    r_g = sum_i (s_i e_i - f_i) / sum_i s_i c_i,     c = p for a BUY, 1 - p for a SELL (the capital at risk)
the event's return on the capital its trades put at risk. Per wallet: SR = mean(r) / std(r, ddof=1), population
skewness and non-excess kurtosis (the PSR convention, `copytrader.stats.sharpe_inference`), T = events; NaN with
fewer than two events or no dispersion. Whether the higher moments are used is the universe's call
(`MIN_EVENTS_FOR_MOMENTS` in `copytrader.scoring.universe`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from copytrader.scoring.edge import TradeEdges
from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.tape import TradeTape
from copytrader.stats.moments import grouped_central_moments

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EventMoments:
    """Per wallet (indexing `tape.wallets`): how many per-event returns, their Sharpe ratio, skew and kurtosis."""

    n: npt.NDArray[np.int64]
    sharpe: FloatArray
    skew: FloatArray
    kurtosis: FloatArray


def per_event_returns(
    tape: TradeTape, facts: TokenFacts, edges: TradeEdges
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """(wallet index, r_g) for every (wallet, event) with scored trades, grouped by wallet in ascending order."""
    idx = np.flatnonzero(edges.scored)
    events = max(1, len(facts.events))
    key = tape.wallet[idx] * events + facts.event[tape.token[idx]]
    unique, group = np.unique(key, return_inverse=True)
    size = tape.size[idx]
    capital = size * np.where(tape.buy[idx], tape.price[idx], 1.0 - tape.price[idx])
    pnl = size * edges.edge[idx] - tape.fee[idx]
    at_risk = np.bincount(group, weights=capital, minlength=unique.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.bincount(group, weights=pnl, minlength=unique.size) / at_risk
    return (unique // events).astype(np.int64), np.asarray(r, dtype=np.float64)


def event_moments(tape: TradeTape, facts: TokenFacts, edges: TradeEdges) -> EventMoments:
    """The module docstring's per-wallet SR, skew and kurtosis of the per-event returns."""
    wallets = len(tape.wallets)
    owner, r = per_event_returns(tape, facts, edges)
    good = np.isfinite(r)
    owner, r = owner[good], r[good]
    n = np.bincount(owner, minlength=wallets).astype(np.int64)
    c = grouped_central_moments(owner, r, n.astype(np.float64))
    mean, m2, m3, m4 = c.mean, c.m2, c.m3, c.m4
    with np.errstate(invalid="ignore", divide="ignore"):
        defined = (n >= 2) & (m2 > 1e-24 * np.maximum(1.0, mean * mean))
        sharpe = np.where(defined, mean / np.sqrt(m2 * n / (n - 1)), np.nan)
        skew = np.where(defined, m3 / m2**1.5, np.nan)
        kurt = np.where(defined, m4 / m2**2, np.nan)
    return EventMoments(n=n, sharpe=sharpe, skew=skew, kurtosis=kurt)
