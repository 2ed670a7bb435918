"""The live day: markets open at `day_start`, stored books, and every wallet's fills replayed in time order.

Intents are drawn in bulk (`copytrader.sim.behaviour`) against impact-free quotes, then executed one by one in
time order against the book as moved by earlier fills (`ImpactLedger`): the YES logit shifts by
+-impact_coef sqrt(intended notional) one second after each fill, so a follower arriving 1.5-3 s after a whale
pays part of the whale's own impact. A skilled wallet re-checks its rule against the moved book and walks away
when the edge has gone; a SELL only happens when its BUY did.

Market ends: a share `share_after_day` of events ends 30 min to 3 days after the day (they stay open and
unresolved), the rest U(day_start + 1 h, day_end - 5 min). Books exist on a 1-minute grid from `day_start` to
2 h after the day (later times read the last minute).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from copytrader.sim import ids
from copytrader.sim.behaviour import Intents, belief, draw_intents, fill_sizes, skilled_edge
from copytrader.sim.config import SimConfig
from copytrader.sim.markets import EventTimes, MarketSet, build_markets
from copytrader.sim.prices import (
    BookShapes,
    ImpactLedger,
    PricePaths,
    draw_book_shapes,
    ou_paths,
    shares_cents,
    token_price_ticks,
    touch,
    touch_side,
)
from copytrader.sim.wallets import KINDS, WalletKind, WalletSet

LIVE_FIRST_MARKET_ID = 2_000_000
DAY_SECONDS = 86_400
GRID_SLACK_MINUTES = 120


@dataclass(frozen=True)
class LiveDay:
    """The live markets with their price model, books and impact, and the day's fills in time order.

    Fill columns: wallet index, market index, token (0 YES / 1 NO), side (0 BUY / 1 SELL), price in ticks,
    size in 0.01 shares, timestamp (epoch s), feed latency (ms), tx hash bytes (n, 32).
    """

    markets: MarketSet
    paths: PricePaths
    shapes: BookShapes
    impact: ImpactLedger
    wallet: np.ndarray
    market: np.ndarray
    token: np.ndarray
    side: np.ndarray
    price_ticks: np.ndarray
    size_cents: np.ndarray
    timestamp: np.ndarray
    latency_ms: np.ndarray
    tx: np.ndarray

    @property
    def n(self) -> int:
        return len(self.wallet)


def _event_times(config: SimConfig) -> EventTimes:
    start = int(config.day_start.timestamp())
    day_end = start + DAY_SECONDS

    def draw(rng: np.random.Generator, n_events: int) -> tuple[np.ndarray, np.ndarray]:
        after = rng.random(n_events) < config.share_after_day
        within = rng.uniform(start + 3600, day_end - 300, size=n_events)
        later = rng.uniform(day_end + 1800, day_end + 3 * DAY_SECONDS, size=n_events)
        end = np.floor(np.where(after, later, within)).astype(np.int64)
        return np.full(n_events, start, dtype=np.int64), end

    return draw


def _replay(
    config: SimConfig, wallets: WalletSet, paths: PricePaths, shapes: BookShapes, intents: Intents, impact: ImpactLedger
) -> tuple[Intents, np.ndarray]:
    """Execute intents in time order against impacted books; returns the re-quoted intents and the executed mask."""
    markets = paths.markets
    skilled = KINDS.index(WalletKind.SKILLED)
    z_live = intents.yes_logit.copy()
    bid_live = intents.bid.copy()
    ask_live = intents.ask.copy()
    done = np.zeros(intents.n, dtype=bool)
    minute = paths.minute(intents.market, intents.time)
    spread = shapes.spread[intents.market, minute]
    for i in np.lexsort((np.arange(intents.n), intents.time)):
        parent = intents.parent[i]
        if intents.sell[i] and not done[parent]:
            continue
        m, t = intents.market[i : i + 1], intents.time[i : i + 1]
        z = paths.yes_logit(m, t, impact.at(int(m[0]), float(t[0])))
        bid, ask = touch(z, markets.tick_n[m], spread[i : i + 1])
        if wallets.kind[intents.wallet[i]] == skilled:
            b = belief(
                z,
                markets.pi[m],
                wallets.skill[intents.wallet[i : i + 1]],
                intents.belief_eps[i : i + 1],
                config.skill.belief_noise_logit,
            )
            edge = skilled_edge(b, intents.token[i : i + 1], intents.sell[i : i + 1], bid, ask, markets.tick_n[m])
            if edge[0] <= (0.0 if intents.sell[i] else config.skill.edge_threshold):
                continue
        z_live[i], bid_live[i], ask_live[i] = z[0], bid[0], ask[0]
        done[i] = True
        buys_yes = (intents.token[i] == 0) != bool(intents.sell[i])
        notional = intents.notional[parent] * intents.fraction[i] if intents.sell[i] else intents.notional[i]
        impact.add(int(m[0]), int(t[0]), 1 if buys_yes else -1, float(notional))
    return replace(intents, yes_logit=z_live, bid=bid_live, ask=ask_live), done


def simulate_live_day(rng: np.random.Generator, config: SimConfig, wallets: WalletSet) -> LiveDay:
    start = int(config.day_start.timestamp())
    markets = build_markets(rng, config, config.n_markets_live, _event_times(config), LIVE_FIRST_MARKET_ID)
    n_minutes = DAY_SECONDS // 60 + GRID_SLACK_MINUTES
    paths = PricePaths(markets, ou_paths(rng, markets.n, n_minutes, config.prices), config.prices)
    shapes = draw_book_shapes(rng, markets.tick_n, n_minutes, config.prices)

    def quote(market: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = paths.yes_logit(market, t)
        bid, ask = touch(z, markets.tick_n[market], shapes.spread[market, paths.minute(market, t)])
        return z, bid, ask

    intents = draw_intents(rng, config, wallets, markets, quote, (start, start + DAY_SECONDS))
    impact = ImpactLedger(markets.n, config.prices)
    intents, done = _replay(config, wallets, paths, shapes, intents, impact)

    tick_n = markets.tick_n[intents.market]
    ticks = token_price_ticks(intents.token, intents.sell, intents.bid, intents.ask, tick_n)
    side = touch_side(intents.token, intents.sell)
    depth = shapes.depth_usd[intents.market, paths.minute(intents.market, intents.time), side, 0]
    touch_size = shares_cents(depth, ticks / tick_n) / 100.0
    size = fill_sizes(intents, ticks / tick_n, touch_size, float(config.min_order_size))

    executed = np.flatnonzero(done)
    executed = executed[np.lexsort((executed, intents.time[executed]))]
    low, high = config.feed_latency_s
    return LiveDay(
        markets=markets,
        paths=paths,
        shapes=shapes,
        impact=impact,
        wallet=intents.wallet[executed],
        market=intents.market[executed],
        token=intents.token[executed].astype(np.int8),
        side=intents.sell[executed].astype(np.int8),
        price_ticks=ticks[executed],
        size_cents=np.rint(size[executed] * 100).astype(np.int64),
        timestamp=intents.time[executed],
        latency_ms=np.rint(rng.uniform(low, high, size=len(executed)) * 1000).astype(np.int64),
        tx=ids.hash32_bytes(rng, len(executed)),
    )
