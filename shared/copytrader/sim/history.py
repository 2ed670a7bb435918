"""The resolved past: `history_days` of markets and every wallet's trades in them, built in bulk.

Same market, price and behaviour models as the live day, with two simplifications that do not change
what a scorer sees: fills do not move later prices (impact matters to a follower arriving seconds after a
fill, not to the filler's own price), and the book is drawn only where it is traded (spread and touch size
per fill instead of a stored book). Event ends are uniform over the history window; each market trades
for U(6, 30) h before its end (not before the window) and resolves before the live day starts.
Each lucky wallet's history is drawn `lucky_survivorship` times and only the draw with the best realised
P&L after fees is kept: survivorship, which lifts single lucky wallets but leaves their mean edge near 0.
The adversaries' fills (`copytrader.sim.adversaries`, none by default) are drawn last and merged in time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copytrader.sim import ids
from copytrader.sim.adversaries import AdversaryFills, adversary_fills, has_adversaries
from copytrader.sim.behaviour import Intents, draw_intents, fill_sizes
from copytrader.sim.config import SimConfig
from copytrader.sim.markets import EventTimes, MarketSet, build_markets
from copytrader.sim.prices import (
    PricePaths,
    draw_depth_usd,
    draw_spreads,
    ou_paths,
    shares_cents,
    token_price_ticks,
    touch,
)
from copytrader.sim.wallets import WalletSet

HISTORY_FIRST_MARKET_ID = 1_000_000


@dataclass(frozen=True)
class SimHistory:
    """Every historical fill as columns, in time order (ties broken by wallet, then market).

    wallet: index into `SimWorld.wallets`; market: index into `markets`; token: 0 YES / 1 NO;
    side: 0 BUY / 1 SELL; price: the fill price on the market's tick; size: shares (0.01 grid);
    timestamp: epoch seconds; won: the traded token paid 1; category: index into `SimConfig.categories`;
    fee_rate: the market's taker fee rate; tx: (n, 32) uint8 transaction hashes.
    """

    markets: MarketSet
    wallet: np.ndarray
    market: np.ndarray
    token: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    timestamp: np.ndarray
    won: np.ndarray
    category: np.ndarray
    fee_rate: np.ndarray
    tx: np.ndarray

    @property
    def n(self) -> int:
        return len(self.wallet)


def _event_times(config: SimConfig, start: int, stop: int) -> EventTimes:
    def draw(rng: np.random.Generator, n_events: int) -> tuple[np.ndarray, np.ndarray]:
        latest_end = stop - round(config.resolution_delay_min[1] * 60) - 60
        end = np.floor(rng.uniform(start + 3600, latest_end, size=n_events)).astype(np.int64)
        open_at = np.maximum(end - np.floor(rng.uniform(6.0, 30.0, size=n_events) * 3600).astype(np.int64), start)
        return open_at, end

    return draw


def realised_pnl(
    sell: np.ndarray, price: np.ndarray, size: np.ndarray, won: np.ndarray, fee_rate: np.ndarray
) -> np.ndarray:
    """P&L of each fill held to resolution, after the taker fee: size (won - price) for a BUY, size (price - won)
    for a SELL (the shares sold no longer pay out), minus size x rate x price x (1 - price)."""
    edge = np.where(sell, price - won, won - price)
    return np.asarray(size * (edge - fee_rate * price * (1.0 - price)))


def _survivors(intents: Intents, n_wallets: int, replicas: int, pnl: np.ndarray) -> np.ndarray:
    """Mask keeping each wallet's replica with the largest total P&L (a wallet with one replica keeps it)."""
    key = intents.wallet * replicas + intents.replica
    totals = np.bincount(key, weights=pnl, minlength=n_wallets * replicas)
    present = np.bincount(key, minlength=n_wallets * replicas) > 0
    best = np.argmax(np.where(present, totals, -np.inf).reshape(n_wallets, replicas), axis=1)
    return np.asarray(intents.replica == best[intents.wallet])


def build_history(rng: np.random.Generator, config: SimConfig, wallets: WalletSet) -> SimHistory:
    stop = int(config.day_start.timestamp())
    start = stop - config.history_days * 86400
    n = config.history_days * config.n_markets_per_history_day
    markets = build_markets(rng, config, n, _event_times(config, start, stop), HISTORY_FIRST_MARKET_ID)
    n_minutes = int((markets.end_at - markets.open_at).max() // 60) + 1
    paths = PricePaths(markets, ou_paths(rng, n, n_minutes, config.prices), config.prices)

    def quote(market: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = paths.yes_logit(market, t)
        bid, ask = touch(z, markets.tick_n[market], draw_spreads(rng, market.shape, config.prices))
        return z, bid, ask

    intents = draw_intents(rng, config, wallets, markets, quote, (start, stop), config.lucky_survivorship)
    tick_n = markets.tick_n[intents.market]
    price = token_price_ticks(intents.token, intents.sell, intents.bid, intents.ask, tick_n) / tick_n
    touch_size = shares_cents(draw_depth_usd(rng, (intents.n, 1), config.prices)[:, 0], price) / 100.0
    size = fill_sizes(intents, price, touch_size, float(config.min_order_size))
    won = np.where(intents.token == 0, markets.yes_wins[intents.market], ~markets.yes_wins[intents.market])
    rates = np.array([c.fee_rate for c in config.categories])[markets.category[intents.market]]
    pnl = realised_pnl(intents.sell, price, size, won, rates)
    keep = _survivors(intents, wallets.n, config.lucky_survivorship, pnl)

    order = np.flatnonzero(keep)
    order = order[np.lexsort((intents.market[order], intents.wallet[order], intents.time[order]))]
    market = intents.market[order]
    token = intents.token[order]
    history = SimHistory(
        markets=markets,
        wallet=intents.wallet[order],
        market=market,
        token=token.astype(np.int8),
        side=intents.sell[order].astype(np.int8),
        price=price[order],
        size=size[order],
        timestamp=intents.time[order],
        won=won[order],
        category=markets.category[market],
        fee_rate=rates[order],
        tx=ids.hash32_bytes(rng, len(order)),
    )
    if not has_adversaries(config):
        return history
    market_rates = np.array([c.fee_rate for c in config.categories])[markets.category]
    extra = adversary_fills(rng, config, wallets, markets, quote, realised_pnl, market_rates)
    return _with(history, extra, market_rates)


def _with(history: SimHistory, extra: AdversaryFills, market_rates: np.ndarray) -> SimHistory:
    """The history with the adversaries' BUYs added, in the same order (time, wallet, market)."""
    markets = history.markets
    columns = {
        "wallet": (history.wallet, extra.wallet),
        "market": (history.market, extra.market),
        "token": (history.token, extra.token.astype(np.int8)),
        "side": (history.side, np.zeros(extra.n, dtype=np.int8)),
        "price": (history.price, extra.price),
        "size": (history.size, extra.size),
        "timestamp": (history.timestamp, extra.time),
        "won": (history.won, extra.won),
        "category": (history.category, markets.category[extra.market]),
        "fee_rate": (history.fee_rate, market_rates[extra.market]),
        "tx": (history.tx, extra.tx),
    }
    joined = {name: np.concatenate(parts) for name, parts in columns.items()}
    order = np.lexsort((joined["market"], joined["wallet"], joined["timestamp"]))
    return SimHistory(markets=markets, **{name: column[order] for name, column in joined.items()})
