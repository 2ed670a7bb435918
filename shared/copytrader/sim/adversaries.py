"""The adversaries of a selection procedure (issue 12, item 6): three kinds of null wallet, none with any skill,
each built to fool one weakness. All three trade only in the resolved history, and only BUYs held to resolution,
at the impact-free quotes of the moment (the ask, as every other kind pays; the hedgers at the mid), before a
market's last `PriceParams.info_window_min` (when prices converge to the outcome):

- hedged (`n_hedged`): two correlated legs inside one event. Per action (Poisson(`hedged_events_per_day` x days)
  per wallet) it picks a multi-market event and two distinct members A and B, and buys YES of A and NO of B at
  the same moment, at the mid (on the tick grid; as patient limit orders fill), so that each leg has no edge
  and no cost: whether hedgers are discovered is decided by the test's size under dependence, not by the spread
  they would pay as takers. The legs are positively dependent (A winning makes B lose): per market they look
  like two independent bets, per event they are one. Hedgers pick events at random, so several hedgers often
  share an event: dependence between wallets too.
- insider (`n_insiders`): one lucky event. It picks one event and buys the token that turned out to win in each
  of its markets, in U{`insider_fills`} fills spread over the members and their trading windows: a large,
  many-fill, one-fact record (we see it because it won: the "insider" whose information was luck).
- selected_lucky (`n_selected_lucky`): a leaderboard's survivor. Each one is the best, by P&L after fees realised
  before the simulated discovery named it (`SimConfig.named_at`), of `selected_draws` independent null bettors
  (Poisson(`selected_bets_per_day` x days) buys of a random token of a random market, over the whole history):
  what a P&L leaderboard shows, and why the history that picked a wallet cannot test it.

Notional per buy is lognormal(log median, `adversary_notional_sigma`); shares = notional / price, at least the
minimum order, on the 0.01-share grid. Drawn from the history's generator after every other draw, and only when
a count is positive: a world without adversaries is byte for byte the world it was before they existed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from copytrader.sim import ids
from copytrader.sim.config import SimConfig
from copytrader.sim.markets import MarketSet
from copytrader.sim.prices import sigmoid, token_price_ticks
from copytrader.sim.wallets import AdversaryKind, WalletSet

Quote = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
PnL = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class AdversaryFills:
    """BUY fills as columns (unsorted): wallet index, market index, token (0 YES / 1 NO), price, shares, time,
    whether the token won, and (n, 32) uint8 transaction hashes."""

    wallet: np.ndarray
    market: np.ndarray
    token: np.ndarray
    price: np.ndarray
    size: np.ndarray
    time: np.ndarray
    won: np.ndarray
    tx: np.ndarray

    @property
    def n(self) -> int:
        return len(self.wallet)


@dataclass(frozen=True)
class _Buys:
    """One kind's BUYs as columns, in the order `columns` gives them."""

    wallet: np.ndarray
    market: np.ndarray
    token: np.ndarray
    time: np.ndarray
    price: np.ndarray
    size: np.ndarray

    def columns(self) -> tuple[np.ndarray, ...]:
        return self.wallet, self.market, self.token, self.time, self.price, self.size

    def take(self, mask: np.ndarray) -> _Buys:
        return _Buys(*(column[mask] for column in self.columns()))


def has_adversaries(config: SimConfig) -> bool:
    return config.n_hedged + config.n_insiders + config.n_selected_lucky > 0


class _Draw:
    """The shared machinery: the generator, the config, the markets and their quotes."""

    def __init__(self, rng: np.random.Generator, config: SimConfig, markets: MarketSet, quote: Quote) -> None:
        self.rng, self.config, self.markets, self.quote = rng, config, markets, quote
        members: dict[str, list[int]] = {}
        for i, event in enumerate(markets.event_id):
            members.setdefault(event, []).append(i)
        self.events = [np.array(m, dtype=np.int64) for _, m in sorted(members.items())]

    def times(self, market: np.ndarray) -> np.ndarray:
        """Uniform times in each market's trading window, before its information window where possible."""
        lo = self.markets.open_at[market]
        hi = np.maximum(self.markets.end_at[market] - round(self.config.prices.info_window_min * 60), lo + 1)
        return np.asarray(lo + np.floor(self.rng.random(len(market)) * (hi - lo)).astype(np.int64))

    def buys(
        self,
        wallet: np.ndarray,
        market: np.ndarray,
        token: np.ndarray,
        time: np.ndarray,
        median: float,
        at_mid: bool = False,
    ) -> _Buys:
        """BUYs at the ask of the moment (or at the mid on the tick grid), lognormal notional around `median`."""
        z, bid, ask = self.quote(market, time)
        tick_n = self.markets.tick_n[market]
        if at_mid:
            yes_ticks = np.clip(np.round(sigmoid(z) * tick_n), 1, tick_n - 1)
            price = np.where(token == 0, yes_ticks, tick_n - yes_ticks) / tick_n
        else:
            price = token_price_ticks(token, np.zeros(len(market), dtype=bool), bid, ask, tick_n) / tick_n
        sigma = self.config.adversaries.notional_sigma
        notional = median * np.exp(self.rng.normal(0.0, sigma, size=len(market)))
        size = np.maximum(np.round(notional / price, 2), float(self.config.min_order_size))
        return _Buys(wallet, market, token, time, np.asarray(price, dtype=np.float64), size)

    def hedged(self, who: np.ndarray) -> _Buys:
        params = self.config.adversaries
        multi = [e for e in self.events if len(e) >= 2]
        counts = self.rng.poisson(params.hedged_events_per_day * self.config.history_days, size=len(who))
        wallet = np.repeat(who, counts) if multi else who[:0]
        a, b = np.empty(len(wallet), np.int64), np.empty(len(wallet), np.int64)
        for j, e in enumerate(self.rng.integers(0, max(len(multi), 1), size=len(wallet))):
            a[j], b[j] = self.rng.choice(multi[int(e)], size=2, replace=False)
        time = self.times(a)
        yes, no = np.zeros(len(a), np.int64), np.ones(len(b), np.int64)
        two = (np.concatenate([wallet, wallet]), np.concatenate([a, b]), np.concatenate([yes, no]))
        return self.buys(*two, np.concatenate([time, time + 1]), params.hedged_notional_median, at_mid=True)

    def insiders(self, who: np.ndarray) -> _Buys:
        low, high = self.config.adversaries.insider_fills
        wallets, markets = [who[:0]], [who[:0]]
        for w in who:
            members = self.events[int(self.rng.integers(0, len(self.events)))]
            fills = int(self.rng.integers(low, high + 1))
            wallets.append(np.full(fills, w, dtype=np.int64))
            markets.append(members[np.arange(fills) % len(members)])
        wallet, market = np.concatenate(wallets).astype(np.int64), np.concatenate(markets).astype(np.int64)
        token = np.where(self.markets.yes_wins[market], 0, 1).astype(np.int64)
        return self.buys(wallet, market, token, self.times(market), self.config.adversaries.insider_notional_median)

    def selected(self, who: np.ndarray, pnl: PnL, fee_rate: np.ndarray) -> _Buys:
        """Each wallet keeps the best of `selected_draws` null histories by P&L after fees realised before the
        discovery named it (`SimConfig.named_at`: what the leaderboard could see), all of that history kept."""
        params = self.config.adversaries
        draws = params.selected_draws
        per = self.rng.poisson(params.selected_bets_per_day * self.config.history_days, size=len(who) * draws)
        candidate = np.repeat(np.arange(len(who) * draws), per)
        market = self.rng.integers(0, self.markets.n, size=len(candidate)).astype(np.int64)
        token = self.rng.integers(0, 2, size=len(candidate)).astype(np.int64)
        buys = self.buys(who[candidate // draws], market, token, self.times(market), params.selected_notional_median)
        won = np.where(token == 0, self.markets.yes_wins[market], ~self.markets.yes_wins[market]).astype(np.float64)
        gain = pnl(np.zeros(len(candidate), dtype=bool), buys.price, buys.size, won, fee_rate[market])
        gain = np.where(self.markets.end_at[market] <= int(self.config.named_at.timestamp()), gain, 0.0)
        totals = np.bincount(candidate, weights=gain, minlength=len(who) * draws).reshape(len(who), draws)
        best = np.argmax(totals, axis=1) + np.arange(len(who)) * draws if len(who) else np.zeros(0, np.int64)
        return buys.take(np.isin(candidate, best))


def adversary_fills(
    rng: np.random.Generator,
    config: SimConfig,
    wallets: WalletSet,
    markets: MarketSet,
    quote: Quote,
    pnl: PnL,
    fee_rate: np.ndarray,
) -> AdversaryFills:
    """Every adversary's history fills (module docstring); `pnl` is the held-to-resolution P&L after fees of
    fills (copytrader.sim.history.realised_pnl), `fee_rate` the taker fee rate per market."""
    draw = _Draw(rng, config, markets, quote)
    parts = [
        draw.hedged(wallets.of_kind(AdversaryKind.HEDGED)),
        draw.insiders(wallets.of_kind(AdversaryKind.INSIDER)),
        draw.selected(wallets.of_kind(AdversaryKind.SELECTED_LUCKY), pnl, fee_rate),
    ]
    wallet, market, token, time, price, size = (np.concatenate([p.columns()[k] for p in parts]) for k in range(6))
    market, token = market.astype(np.int64), token.astype(np.int64)
    won = np.where(token == 0, markets.yes_wins[market], ~markets.yes_wins[market]).astype(bool)
    return AdversaryFills(
        wallet=wallet.astype(np.int64),
        market=market,
        token=token,
        price=price.astype(np.float64),
        size=size.astype(np.float64),
        time=time.astype(np.int64),
        won=won,
        tx=ids.hash32_bytes(rng, len(wallet)),
    )
