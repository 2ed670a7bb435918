"""Mid prices, books and price impact.

YES mid of market i at time t (all in logit space, parameters in `PriceParams`):

    z_t = logit(pi_i) + x_i[minute(t)] + I_i(t)
    logit(m_t) = (1 - w_t) z_t + w_t (+-L),   w_t = clip(1 - (end_i - t) / W, 0, 1)^2,   L = logit(final_mid)

- x is an Ornstein-Uhlenbeck mispricing sampled exactly on a 1-minute grid anchored at the market's open:
  x_{k+1} = phi x_k + sd sqrt(1 - phi^2) eps_k, phi = 2^(-1 / half_life), x_0 ~ N(0, sd^2) (stationary).
- I is the price impact of earlier fills (`ImpactLedger`): a fill at second s of notional N adds
  +-impact_coef sqrt(N) (sign: + when it buys YES or sells NO), visible from s + 1 on, decaying as
  2^(-(t - s) / impact_half_life_s).
- In the last W = info_window_min minutes information arrives: the mid moves toward final_mid (YES won) or
  1 - final_mid (NO won). After `end` (no more orders) the price is frozen at its value at `end`.
NO mid = 1 - YES mid. The book of a token is built in integer ticks around the mid: spread s ticks, YES best
bid = clip(round(m n - s / 2), 1, n - 1 - s), best ask = bid + s (n = ticks per unit), then `levels` levels
per side going away from the touch; the NO book is the mirror image (NO bid = 1 - YES ask, same sizes),
which is how Polymarket's matching engine crosses the two tokens of one condition.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from copytrader.sim.config import PriceParams
from copytrader.sim.markets import MarketSet


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p) - np.log1p(-p))


def ou_paths(rng: np.random.Generator, n: int, n_minutes: int, params: PriceParams) -> np.ndarray:
    """(n, n_minutes) stationary OU mispricing paths on a 1-minute grid (exact AR(1) discretisation)."""
    phi = 0.5 ** (1.0 / params.ou_half_life_min)
    shocks = rng.normal(0.0, params.ou_sd * math.sqrt(1.0 - phi * phi), size=(n_minutes, n))
    shocks[0] = rng.normal(0.0, params.ou_sd, size=n)
    for k in range(1, n_minutes):
        shocks[k] += phi * shocks[k - 1]
    return np.ascontiguousarray(shocks.T)


@dataclass(frozen=True)
class PricePaths:
    """The YES mid model of a `MarketSet` (without impact: callers add `ImpactLedger.at`)."""

    markets: MarketSet
    ou: np.ndarray  # (n_markets, n_minutes), minute 0 = the market's open_at
    params: PriceParams

    def minute(self, market: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Grid index of time t (clamped to the grid) for each market."""
        k = np.floor((t - self.markets.open_at[market]) / 60.0).astype(np.int64)
        return np.asarray(np.clip(k, 0, self.ou.shape[1] - 1))

    def yes_logit(self, market: np.ndarray, t: np.ndarray, impact: np.ndarray | float = 0.0) -> np.ndarray:
        """logit of the YES mid at t (t is clamped to the market's end: the price freezes when trading stops)."""
        end = self.markets.end_at[market]
        t_eff = np.minimum(t, end)
        z = logit(self.markets.pi[market]) + self.ou[market, self.minute(market, t_eff)] + impact
        window = self.params.info_window_min * 60.0
        w = np.clip(1.0 - (end - t_eff) / window, 0.0, 1.0) ** 2
        final = math.log(self.params.final_mid / (1.0 - self.params.final_mid))
        return np.asarray((1.0 - w) * z + w * np.where(self.markets.yes_wins[market], final, -final))


def touch(yes_logit: np.ndarray, tick_n: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YES best bid and best ask in ticks around the mid, inside [1, n - 1] and at least one tick apart."""
    spread = spread.astype(np.int64)
    bid = np.rint(sigmoid(yes_logit) * tick_n - spread / 2.0).astype(np.int64)
    bid = np.clip(bid, 1, tick_n - 1 - spread)
    return bid, bid + spread


def token_price_ticks(
    token: np.ndarray, sell: np.ndarray, bid: np.ndarray, ask: np.ndarray, tick_n: np.ndarray
) -> np.ndarray:
    """Taker price in ticks. BUY lifts the token's ask, SELL hits its bid;
    NO ask = n - YES bid, NO bid = n - YES ask."""
    yes = token == 0
    return np.where(sell, np.where(yes, bid, tick_n - ask), np.where(yes, ask, tick_n - bid))


def touch_side(token: np.ndarray, sell: np.ndarray) -> np.ndarray:
    """Which YES book side (0 bids, 1 asks) a taker consumes: BUY YES / SELL NO take YES asks, else YES bids."""
    return np.where((token == 0) != sell, 1, 0)


def draw_spreads(rng: np.random.Generator, shape: tuple[int, ...], params: PriceParams) -> np.ndarray:
    low, high = params.spread_ticks
    return rng.integers(low, high + 1, size=shape, dtype=np.int8)


def draw_depth_usd(rng: np.random.Generator, shape: tuple[int, ...], params: PriceParams) -> np.ndarray:
    """Resting notional per level in pUSD; the last axis is the level (0 = touch), growing away from the touch."""
    depth = np.arange(shape[-1]) * math.log(params.size_growth)
    return np.exp(math.log(params.touch_depth_usd_median) + depth + rng.normal(0.0, params.size_sigma, size=shape))


def shares_cents(depth_usd: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Shares (x 100) resting at a level of YES or NO price `price`: depth / min(p, 1 - p), at least one share.

    min(p, 1 - p) makes the count the same for a YES level and its NO mirror image, and makes books deep in
    shares near 0 and 1, as real books are (a captured book holds 3.1M shares at 0.01 and 157k at 0.99).
    """
    return np.asarray(np.maximum(np.rint(depth_usd / np.minimum(price, 1.0 - price) * 100.0), 100), dtype=np.int64)


@dataclass(frozen=True)
class BookShapes:
    """Book geometry per (market, minute): spread, level gaps and resting notional; side 0 = YES bids, 1 = YES asks."""

    spread: np.ndarray  # (n, T) int8 ticks
    gaps: np.ndarray  # (n, T, 2, levels) int16 ticks between consecutive levels (level 0 gap = 0)
    depth_usd: np.ndarray  # (n, T, 2, levels) float64 pUSD


def draw_book_shapes(rng: np.random.Generator, tick_n: np.ndarray, n_minutes: int, params: PriceParams) -> BookShapes:
    n = len(tick_n)
    shape = (n, n_minutes, 2, params.levels)
    spread = draw_spreads(rng, (n, n_minutes), params)
    gap_mean = np.where(tick_n >= 1000, params.gap_mean_ticks_001, params.gap_mean_ticks_01)
    gaps = 1 + rng.poisson(gap_mean[:, None, None, None], size=shape).astype(np.int16)
    gaps[..., 0] = 0
    return BookShapes(spread=spread, gaps=gaps, depth_usd=draw_depth_usd(rng, shape, params))


def yes_levels(
    bid: int, ask: int, tick_n: int, gaps: np.ndarray, depth_usd: np.ndarray
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """YES bid and ask levels as (price ticks, size cents), best first, prices kept inside [1, n - 1]."""
    sides = []
    for ticks, depth in ((bid - np.cumsum(gaps[0]), depth_usd[0]), (ask + np.cumsum(gaps[1]), depth_usd[1])):
        inside = (ticks >= 1) & (ticks <= tick_n - 1)
        ticks, depth = ticks[inside], depth[inside]
        sizes = shares_cents(depth, ticks / tick_n)
        sides.append([(int(p), int(c)) for p, c in zip(ticks, sizes, strict=True)])
    return sides[0], sides[1]


class ImpactLedger:
    """Cumulative, decaying price impact per market (logit units), fed in time order during the live day."""

    def __init__(self, n_markets: int, params: PriceParams) -> None:
        self._times: list[list[int]] = [[] for _ in range(n_markets)]
        self._levels: list[list[float]] = [[] for _ in range(n_markets)]
        self._half_life = params.impact_half_life_s
        self.coef = params.impact_coef

    def at(self, market: int, t: float) -> float:
        """Impact of all fills strictly before second t."""
        times = self._times[market]
        j = bisect_left(times, t) - 1
        if j < 0:
            return 0.0
        return float(self._levels[market][j] * 0.5 ** ((t - times[j]) / self._half_life))

    def add(self, market: int, t: int, yes_direction: int, notional: float) -> None:
        times, levels = self._times[market], self._levels[market]
        if times and t < times[-1]:
            raise ValueError("impacts must be added in time order")
        previous = levels[-1] * 0.5 ** ((t - times[-1]) / self._half_life) if times else 0.0
        times.append(t)
        levels.append(previous + yes_direction * self.coef * math.sqrt(notional))
