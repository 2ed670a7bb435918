"""What each kind of wallet wants to trade, drawn in bulk against the (impact-free) quotes.

For every wallet of a kind, the number of actions in a window of d days is Poisson(rate x d). An action
picks a market with probability proportional to how long that market is tradable for the kind inside the
window, and a time uniformly within it; so a wallet's activity does not depend on how many markets exist.
Then, with the quote (YES mid logit, YES best bid/ask in ticks) at that time:

- skilled: belief b = sigmoid(z + s (logit(pi) - z) + sigma eps) with z the YES mid logit; buy the token with
  the larger value - ask if that exceeds `edge_threshold`, else do nothing (the action was only a look).
  They stop `stop_before_end_min` before the end, ahead of the information window.
- lucky: buy the cheaper token (the longshot) with probability `lucky_longshot_prob`, else the other one.
- noise, maker: buy either token with probability 1/2 (makers then mostly sell within minutes: round trips).
Desired notional is lognormal per kind. Each BUY is followed, with probability `sell_prob`, by a SELL of a
fraction of it after an exponential holding time, if the market still trades then; a skilled wallet only
sells when the token's best bid exceeds its own valuation.

History executes these intents at their quotes (`copytrader.sim.history`); the live day replays them in
time order against books moved by earlier fills (`copytrader.sim.live`), re-checking the skilled rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from copytrader.sim.config import SimConfig
from copytrader.sim.markets import MarketSet
from copytrader.sim.prices import logit, sigmoid, token_price_ticks
from copytrader.sim.wallets import BEHAVIOUR_KINDS, WalletKind, WalletSet, kind_params

Quoter = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""(market, time) -> (YES mid logit, YES best bid ticks, YES best ask ticks), without price impact."""


@dataclass(frozen=True)
class Intents:
    """Desired trades in columnar form. A SELL's `parent` is the index of the BUY it reduces (-1 for BUYs)."""

    wallet: np.ndarray
    market: np.ndarray
    token: np.ndarray  # 0 = YES, 1 = NO
    sell: np.ndarray  # bool
    time: np.ndarray  # epoch seconds, int64
    notional: np.ndarray  # desired pUSD for a BUY
    fraction: np.ndarray  # share of the parent position a SELL gives up
    belief_eps: np.ndarray  # the skilled wallet's estimation noise draw
    parent: np.ndarray
    yes_logit: np.ndarray  # impact-free quote at `time`
    bid: np.ndarray
    ask: np.ndarray
    replica: np.ndarray  # which of a wallet's independent draws this belongs to (see `draw_intents`)

    @property
    def n(self) -> int:
        return len(self.wallet)

    def take(self, index: np.ndarray) -> Intents:
        return Intents(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Intents], rebase: bool) -> Intents:
        """Stack parts; with `rebase`, each part's parents index that part and are shifted by its offset."""
        offsets = np.cumsum([0] + [p.n for p in parts[:-1]]) if rebase else np.zeros(len(parts), dtype=np.int64)
        columns = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Intents)}
        shift = np.repeat(offsets, [p.n for p in parts])
        columns["parent"] = np.where(columns["parent"] >= 0, columns["parent"] + shift, -1)
        return Intents(**columns)


def belief(yes_logit: np.ndarray, pi: np.ndarray, skill: np.ndarray, eps: np.ndarray, noise: float) -> np.ndarray:
    """The skilled wallet's probability that YES wins."""
    return sigmoid(yes_logit + skill * (logit(pi) - yes_logit) + noise * eps)


def token_value(b: np.ndarray, token: np.ndarray) -> np.ndarray:
    return np.where(token == 0, b, 1.0 - b)


def skilled_edge(
    b: np.ndarray, token: np.ndarray, sell: np.ndarray, bid: np.ndarray, ask: np.ndarray, tick_n: np.ndarray
) -> np.ndarray:
    """Perceived edge per share: value - ask for a BUY, bid - value for a SELL."""
    price = token_price_ticks(token, sell, bid, ask, tick_n) / tick_n
    value = token_value(b, token)
    return np.asarray(np.where(sell, price - value, value - price))


def _tradable(
    config: SimConfig, markets: MarketSet, kind: WalletKind, start: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per market, the [lo, hi) seconds in which wallets of this kind trade it inside the window."""
    stop = round(config.skill.stop_before_end_min * 60) if kind is WalletKind.SKILLED else 0
    lo = np.maximum(markets.open_at, start)
    hi = np.maximum(np.minimum(markets.end_at - stop, end), lo)
    return lo, hi


def _choose_tokens(
    rng: np.random.Generator,
    config: SimConfig,
    kind: WalletKind,
    markets: MarketSet,
    wallets: WalletSet,
    wallet: np.ndarray,
    market: np.ndarray,
    quote: tuple[np.ndarray, np.ndarray, np.ndarray],
    eps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which token each action buys, and whether it trades at all (only skilled wallets ever pass)."""
    z, bid, ask = quote
    n = len(wallet)
    tick_n = markets.tick_n[market]
    if kind is WalletKind.SKILLED:
        b = belief(z, markets.pi[market], wallets.skill[wallet], eps, config.skill.belief_noise_logit)
        no_sell, yes = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        edge_yes = skilled_edge(b, yes, no_sell, bid, ask, tick_n)
        edge_no = skilled_edge(b, yes + 1, no_sell, bid, ask, tick_n)
        return np.where(edge_yes >= edge_no, 0, 1), np.maximum(edge_yes, edge_no) > config.skill.edge_threshold
    if kind is WalletKind.LUCKY:
        cheaper = np.where(ask > tick_n - bid, 1, 0)
        token = np.where(rng.random(n) < config.lucky_longshot_prob, cheaper, 1 - cheaper)
        return token, np.ones(n, dtype=bool)
    return rng.integers(0, 2, size=n), np.ones(n, dtype=bool)


def _buys(
    rng: np.random.Generator,
    config: SimConfig,
    wallets: WalletSet,
    markets: MarketSet,
    quote: Quoter,
    kind: WalletKind,
    tradable: tuple[np.ndarray, np.ndarray],
    days: float,
    replicas: int,
) -> Intents:
    params = kind_params(config, kind)
    lo, hi = tradable
    length = (hi - lo).astype(np.float64)
    members = np.repeat(wallets.of_kind(kind), replicas)
    member_replica = np.tile(np.arange(replicas), len(members) // replicas)
    counts = rng.poisson(wallets.rate[members] * days) if length.sum() > 0 else np.zeros(len(members), np.int64)
    wallet = np.repeat(members, counts)
    n = len(wallet)
    market = rng.choice(markets.n, size=n, p=length / length.sum()) if n else np.zeros(0, dtype=np.int64)
    time = lo[market] + np.floor(rng.random(n) * length[market]).astype(np.int64)
    notional = params.notional_median * np.exp(rng.normal(0.0, params.notional_sigma, size=n))
    eps = rng.normal(size=n)
    z, bid, ask = quote(market, time)
    token, trades = _choose_tokens(rng, config, kind, markets, wallets, wallet, market, (z, bid, ask), eps)
    return Intents(
        wallet=wallet,
        market=market,
        token=token,
        sell=np.zeros(n, dtype=bool),
        time=time,
        notional=notional,
        fraction=np.zeros(n),
        belief_eps=eps,
        parent=np.full(n, -1),
        yes_logit=z,
        bid=bid,
        ask=ask,
        replica=np.repeat(member_replica, counts),
    ).take(np.flatnonzero(trades))


def _exits(
    rng: np.random.Generator,
    config: SimConfig,
    wallets: WalletSet,
    markets: MarketSet,
    quote: Quoter,
    kind: WalletKind,
    buys: Intents,
    hi: np.ndarray,
) -> Intents:
    """SELLs reducing some of `buys` (their `parent`s index `buys`)."""
    params = kind_params(config, kind)
    m = buys.n
    wants_exit = rng.random(m) < params.sell_prob
    exit_time = buys.time + 1 + np.floor(rng.exponential(params.hold_mean_min * 60.0, size=m)).astype(np.int64)
    fraction = rng.uniform(*params.sell_fraction, size=m)
    exits = np.flatnonzero(wants_exit & (exit_time < hi[buys.market]))
    z, bid, ask = quote(buys.market[exits], exit_time[exits])
    sells = Intents(
        wallet=buys.wallet[exits],
        market=buys.market[exits],
        token=buys.token[exits],
        sell=np.ones(len(exits), dtype=bool),
        time=exit_time[exits],
        notional=np.zeros(len(exits)),
        fraction=fraction[exits],
        belief_eps=buys.belief_eps[exits],
        parent=exits,
        yes_logit=z,
        bid=bid,
        ask=ask,
        replica=buys.replica[exits],
    )
    if kind is not WalletKind.SKILLED:
        return sells
    b = belief(
        z, markets.pi[sells.market], wallets.skill[sells.wallet], sells.belief_eps, config.skill.belief_noise_logit
    )
    edge = skilled_edge(b, sells.token, sells.sell, bid, ask, markets.tick_n[sells.market])
    return sells.take(np.flatnonzero(edge > 0))


def fill_sizes(intents: Intents, price: np.ndarray, touch_size: np.ndarray, min_order: float) -> np.ndarray:
    """Shares per fill: a BUY takes min(notional / price, touch) but at least the minimum order; a SELL gives
    up `fraction` of its parent BUY (all of it when the rest would be under the minimum), at most the touch."""
    buy_size = np.maximum(np.minimum(intents.notional / np.maximum(price, 1e-9), touch_size), min_order)
    size: np.ndarray = np.round(buy_size, 2)
    sells = np.flatnonzero(intents.sell)
    held = size[intents.parent[sells]]
    part = np.round(held * intents.fraction[sells], 2)
    part = np.where((part < min_order) | (held - part < min_order), held, part)
    size[sells] = np.minimum(part, np.maximum(np.floor(touch_size[sells] * 100) / 100, min_order))
    return size


def draw_intents(
    rng: np.random.Generator,
    config: SimConfig,
    wallets: WalletSet,
    markets: MarketSet,
    quote: Quoter,
    window: tuple[int, int],
    lucky_replicas: int = 1,
) -> Intents:
    """All wallets' intents in the window [start, end) (epoch seconds), grouped by kind, not sorted.

    Each lucky wallet gets `lucky_replicas` independent sets of intents (column `replica`) so that the caller
    can keep the one that turned out best: survivorship, the way lucky gamblers reach a leaderboard.
    """
    days = (window[1] - window[0]) / 86400.0
    parts = []
    for kind in BEHAVIOUR_KINDS:
        tradable = _tradable(config, markets, kind, *window)
        replicas = lucky_replicas if kind is WalletKind.LUCKY else 1
        buys = _buys(rng, config, wallets, markets, quote, kind, tradable, days, replicas)
        sells = _exits(rng, config, wallets, markets, quote, kind, buys, tradable[1])
        parts.append(Intents.concat([buys, sells], rebase=False))
    return Intents.concat(parts, rebase=True)
