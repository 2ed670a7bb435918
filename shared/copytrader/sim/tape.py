"""Per-market tapes of the simulated fills: cumulative traded notional and the last trade price as of any time, and
every fill as Data API rows indexed by wallet (`copytrader.sim.world` builds them)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from copytrader.sim.dataapi import Fills
from copytrader.sim.markets import MarketSet


class DataApiTape(NamedTuple):
    """Every fill (history and live day) as Data API rows, newest first, with an index per wallet."""

    rows: list[dict[str, object]]
    timestamps: np.ndarray  # non-increasing, aligned with rows
    by_wallet: dict[str, np.ndarray]  # wallet -> row indices, newest first


class Tape:
    """Per market: cumulative traded notional and last YES-equivalent trade price, as of any time."""

    def __init__(
        self, n_markets: int, market: np.ndarray, timestamp: np.ndarray, notional: np.ndarray, yes_price: np.ndarray
    ) -> None:
        order = np.lexsort((timestamp, market))
        self._t = timestamp[order]
        self._cum = np.concatenate([[0.0], np.cumsum(notional[order])])
        self._yes = yes_price[order]
        sorted_market = market[order]
        self._lo = np.searchsorted(sorted_market, np.arange(n_markets), side="left")
        self._hi = np.searchsorted(sorted_market, np.arange(n_markets), side="right")

    def at(self, i: int, t: float) -> tuple[float, float | None]:
        lo, hi = int(self._lo[i]), int(self._hi[i])
        j = lo + int(np.searchsorted(self._t[lo:hi], t, side="right"))
        if j == lo:
            return 0.0, None
        return float(self._cum[j] - self._cum[lo]), float(self._yes[j - 1])


def market_tape(markets: MarketSet, fills: Fills) -> Tape:
    yes_price = np.where(fills.token == 0, fills.price, 1.0 - fills.price)
    return Tape(markets.n, fills.market, fills.timestamp, fills.price * fills.size, yes_price)
