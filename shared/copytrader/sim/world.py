"""The simulated world: ground truth, the live day's trades, books and market states, and the history.

`build_world(config)` is a pure function of the config: the seed feeds one `numpy.random.SeedSequence`, which
spawns independent streams for the wallets, the history and the live day (so changing `history_days` leaves
the live day unchanged). Everything that leaves the world as a contract (`Market`, `OrderBook`,
`WhaleTrade`) carries Decimal prices and sizes built from integer ticks and cents, never from floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

import numpy as np

from copytrader.model import Level, Market, OrderBook, OutcomeToken, Side, Source, WhaleTrade
from copytrader.sim.config import SimConfig
from copytrader.sim.dataapi import OUTCOMES, Fills, trade_rows
from copytrader.sim.gamma import GammaState, gamma_market
from copytrader.sim.history import SimHistory, build_history
from copytrader.sim.ids import hex_of
from copytrader.sim.live import DAY_SECONDS, LiveDay, simulate_live_day
from copytrader.sim.markets import MarketSet
from copytrader.sim.prices import touch, yes_levels
from copytrader.sim.tape import DataApiTape, market_tape
from copytrader.sim.wallets import SimWallet, WalletKind, WalletSet, build_wallets


class Resolution(NamedTuple):
    """A live market's resolution: payout per share of each token (1 for the winner, 0 for the loser)."""

    resolve_at: datetime
    condition_id: str
    payouts: dict[str, Decimal]


class Retag(NamedTuple):
    """From `at` on, Gamma files the market under another event and category (its fee schedule stays)."""

    at: datetime
    event_id: str
    category: str


@dataclass(frozen=True)
class MarketTruth:
    condition_id: str
    probability: float  # true probability that YES wins
    winning_token: str
    end_at: datetime
    resolve_at: datetime


def _utc(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _price_decimal(price: float) -> Decimal:
    """A float price known to lie on a tick of at least 0.0001, as its exact Decimal."""
    return Decimal(repr(round(price, 4)))


class SimWorld:
    """A seeded Polymarket whose truth is known. Build it with `build_world`.

    Public data: `wallets` (ground truth), `skilled_addresses`, `markets` (live markets at day start),
    `day_trades` (all wallets, time order), `resolutions` (live markets resolving during the day),
    `history` (columnar past fills) and the query methods below. Times are timezone-aware datetimes.
    """

    def __init__(self, config: SimConfig, wallets: WalletSet, live: LiveDay, history: SimHistory) -> None:
        self.config = config
        self.history = history
        self.wallets: tuple[SimWallet, ...] = wallets.public()
        self.skilled_addresses = frozenset(w.address for w in self.wallets if w.kind is WalletKind.SKILLED)
        self.day_start = config.day_start.astimezone(UTC)
        self.day_end = self.day_start + timedelta(seconds=DAY_SECONDS)
        self._addresses = wallets.address
        self._wallet_by_address = {w.address: w for w in self.wallets}
        self._live = live
        self._sets: tuple[MarketSet, MarketSet] = (history.markets, live.markets)
        self._by_condition: dict[str, tuple[int, int]] = {}
        self._by_token: dict[str, tuple[int, int, int]] = {}
        for s, markets in enumerate(self._sets):
            for i in range(markets.n):
                self._by_condition[markets.condition_id[i]] = (s, i)
                self._by_token[markets.yes_token[i]] = (s, i, 0)
                self._by_token[markets.no_token[i]] = (s, i, 1)
        self._history_fills = Fills(
            wallet=history.wallet,
            market=history.market,
            token=history.token,
            side=history.side,
            price=history.price,
            size=history.size,
            timestamp=history.timestamp,
            tx=history.tx,
        )
        self._live_fills = Fills(
            wallet=live.wallet,
            market=live.market,
            token=live.token,
            side=live.side,
            price=live.price_ticks / live.markets.tick_n[live.market],
            size=live.size_cents / 100.0,
            timestamp=live.timestamp,
            tx=live.tx,
        )
        self._tapes = (market_tape(history.markets, self._history_fills), market_tape(live.markets, self._live_fills))
        self._retags: dict[str, Retag] = {}
        self._shocks: dict[int, tuple[float, float]] = {}  # live market -> (from when, YES logit shift)
        self.day_trades: list[WhaleTrade] = self._whale_trades()
        self.resolutions: list[Resolution] = self._resolutions()
        self.markets: list[Market] = [self.market_at(c, self.day_start) for c in live.markets.condition_id]

    # ---- lookups -------------------------------------------------------------------------------------------

    def _condition(self, condition_id: str) -> tuple[int, int]:
        found = self._by_condition.get(condition_id.lower())
        if found is None:
            raise KeyError(f"unknown condition id {condition_id}")
        return found

    def has_token(self, token_id: str) -> bool:
        return token_id in self._by_token

    def has_book(self, token_id: str) -> bool:
        """True for the live day's tokens (history markets resolved before the day: no books)."""
        found = self._by_token.get(token_id)
        return found is not None and found[0] == 1

    def condition_of(self, token_id: str) -> str:
        """The condition id of a token (KeyError if unknown)."""
        s, i, _ = self._by_token[token_id]
        return self._sets[s].condition_id[i]

    @property
    def condition_ids(self) -> tuple[str, ...]:
        """Every market the world knows: history markets first, then the live day's."""
        return self._sets[0].condition_id + self._sets[1].condition_id

    @cached_property
    def gamma_ids(self) -> dict[str, str]:
        """Gamma market id -> condition id, for every market."""
        return {m.gamma_id[i]: m.condition_id[i] for m in self._sets for i in range(m.n)}

    @cached_property
    def slugs(self) -> dict[str, str]:
        """Gamma market slug -> condition id, for every market."""
        return {m.slug[i]: m.condition_id[i] for m in self._sets for i in range(m.n)}

    def token_ids(self, condition_id: str) -> tuple[str, str]:
        s, i = self._condition(condition_id)
        return self._sets[s].yes_token[i], self._sets[s].no_token[i]

    def truth(self, condition_id: str) -> MarketTruth:
        s, i = self._condition(condition_id)
        markets = self._sets[s]
        return MarketTruth(
            condition_id=markets.condition_id[i],
            probability=float(markets.pi[i]),
            winning_token=markets.token_id(i, 0 if markets.yes_wins[i] else 1),
            end_at=_utc(int(markets.end_at[i])),
            resolve_at=_utc(int(markets.resolve_at[i])),
        )

    def wallet(self, address: str) -> SimWallet | None:
        """Ground truth about a wallet (None for an address the world does not know)."""
        return self._wallet_by_address.get(address.lower())

    # ---- market state --------------------------------------------------------------------------------------

    def retag(self, condition_id: str, event_id: str, category: str, at: datetime) -> None:
        """From `at` on, describe the market under `event_id` and `category` (a name of `config.categories`), as
        Gamma does when a market is moved to another event or re-categorised; its fee schedule stays."""
        if category not in {c.name for c in self.config.categories}:
            raise ValueError(f"unknown category {category!r}")
        s, i = self._condition(condition_id)
        self._retags[self._sets[s].condition_id[i]] = Retag(at, event_id, category)

    def shock(self, token_id: str, at: datetime, drop_logit: float) -> None:
        """From `at` on, the token's price is lower by `drop_logit` in logit space (its market's books; the other
        token rises): a crash. The day's trades, drawn when the world was built, do not see it."""
        _, i, token = self._by_token[token_id]
        self._shocks[i] = (at.timestamp(), -drop_logit if token == 0 else drop_logit)

    def resolve_early(self, condition_id: str, at: datetime) -> None:
        """From `at` the market is ended and resolved, outcome unchanged (an event decided before its end date)."""
        s, i = self._condition(condition_id)
        self._sets[s].end_at[i] = self._sets[s].resolve_at[i] = int(at.timestamp())

    def tags(self, condition_id: str, at: datetime) -> tuple[str, str]:
        """(event id, category name) of the market as of `at`, re-tags applied."""
        s, i = self._condition(condition_id)
        markets = self._sets[s]
        retag = self._retags.get(markets.condition_id[i])
        if retag is not None and at >= retag.at:
            return retag.event_id, retag.category
        return markets.event_id[i], self.config.categories[int(markets.category[i])].name

    def is_closed(self, condition_id: str, at: datetime) -> bool:
        s, i = self._condition(condition_id)
        return bool(at.timestamp() >= self._sets[s].resolve_at[i])

    def market_at(self, condition_id: str, at: datetime) -> Market:
        """The market as Gamma/CLOB would describe it at `at`: stops accepting orders at its end, and is
        closed with 1/0 payouts from its resolution time on."""
        s, i = self._condition(condition_id)
        markets = self._sets[s]
        t = at.timestamp()
        closed = bool(t >= markets.resolve_at[i])
        ended = bool(t >= markets.end_at[i])  # UMA: proposed once ended, resolved once closed (as the Gamma payload)
        yes, no = markets.yes_token[i], markets.no_token[i]
        payouts = None
        if closed:
            yes_wins = bool(markets.yes_wins[i])
            payouts = {yes: Decimal(int(yes_wins)), no: Decimal(int(not yes_wins))}
        category = self.config.categories[int(markets.category[i])]
        event_id, category_name = self.tags(condition_id, at)
        return Market(
            condition_id=markets.condition_id[i],
            question=markets.question[i],
            slug=markets.slug[i],
            event_id=event_id,
            category=category_name,
            neg_risk=markets.neg_risk_market_id[i] is not None,
            neg_risk_market_id=markets.neg_risk_market_id[i],
            tokens=(OutcomeToken(token_id=yes, outcome=OUTCOMES[0]), OutcomeToken(token_id=no, outcome=OUTCOMES[1])),
            tick_size=Decimal(markets.tick[i]),
            min_order_size=Decimal(self.config.min_order_size),
            taker_fee_rate=Decimal(repr(category.fee_rate)),
            end_time=_utc(int(markets.end_at[i])),
            closed=closed,
            accepting_orders=not ended,
            payouts=payouts,
            uma_status=("resolved" if closed else "proposed") if ended else None,
            uma_statuses=("proposed",) if ended else (),
        )

    def last_trade_price(self, token_id: str, at: datetime) -> Decimal | None:
        """Price of the last fill in this token's market before `at`, expressed in this token."""
        s, i, token = self._by_token[token_id]
        last = self._tapes[s].at(i, at.timestamp())[1]
        if last is None:
            return None
        return _price_decimal(last if token == 0 else 1.0 - last)

    def gamma_market(self, condition_id: str, at: datetime) -> dict[str, object]:
        """The market as a Gamma `/markets` object at `at` (see `copytrader.sim.gamma`)."""
        s, i = self._condition(condition_id)
        markets = self._sets[s]
        t = at.timestamp()
        volume, last = self._tapes[s].at(i, t)
        closed = bool(t >= markets.resolve_at[i])
        best_bid = best_ask = None
        liquidity = 0.0
        if closed:
            prices = ("1", "0") if markets.yes_wins[i] else ("0", "1")
        elif s == 1:
            book = self.book(markets.yes_token[i], at)
            mid = book.mid if book.mid is not None else Decimal("0.5")
            prices = (str(mid), str(1 - mid))
            best_bid = float(book.bids[0].price) if book.bids else None
            best_ask = float(book.asks[0].price) if book.asks else None
            liquidity = float(sum(min(lv.price, 1 - lv.price) * lv.size for lv in (*book.bids, *book.asks)))
        else:
            p = _price_decimal(last) if last is not None else Decimal("0.5")
            prices = (str(p), str(1 - p))
        state = GammaState(
            at=at,
            accepting_orders=bool(t < markets.end_at[i]),
            ended=bool(t >= markets.end_at[i]),
            closed=closed,
            outcome_prices=prices,
            best_bid=best_bid,
            best_ask=best_ask,
            last_trade_price=None if last is None else round(last, 4),
            volume=volume,
            liquidity=liquidity,
        )
        return gamma_market(markets, i, self.config, state, tags=self.tags(condition_id, at))

    def history_markets_gamma(self) -> list[dict[str, object]]:
        """Gamma objects of every resolved history market (closed, outcomePrices "[\\"1\\", \\"0\\"]" style)."""
        return [self.gamma_market(c, self.day_start) for c in self._sets[0].condition_id]

    # ---- books ---------------------------------------------------------------------------------------------

    def book(self, token_id: str, at: datetime) -> OrderBook:
        """The CLOB book of a live-day token at `at` (best first). After the market's end it stays frozen at
        its last state; times outside the stored grid read its nearest minute. KeyError for other tokens."""
        found = self._by_token.get(token_id)
        if found is None or found[0] != 1:
            raise KeyError(f"no order book for token {token_id}")
        _, i, token = found
        live = self._live
        n = int(live.markets.tick_n[i])
        t = min(at.timestamp(), float(live.markets.end_at[i]))
        market, when = np.array([i]), np.array([t])
        z = live.paths.yes_logit(market, when, live.impact.at(i, t))
        since, shift = self._shocks.get(i, (math.inf, 0.0))
        z = z + shift if at.timestamp() >= since else z
        k = int(live.paths.minute(market, when)[0])
        bid, ask = touch(z, live.markets.tick_n[market], live.shapes.spread[i, k : k + 1])
        bids, asks = yes_levels(int(bid[0]), int(ask[0]), n, live.shapes.gaps[i, k], live.shapes.depth_usd[i, k])
        if token == 1:
            bids, asks = [(n - p, c) for p, c in asks], [(n - p, c) for p, c in bids]
        tick = Decimal(live.markets.tick[i])

        def levels(side: Sequence[tuple[int, int]]) -> tuple[Level, ...]:
            return tuple(Level(price=p * tick, size=Decimal(c).scaleb(-2)) for p, c in side)

        return OrderBook(token_id=token_id, bids=levels(bids), asks=levels(asks), timestamp=at, tick_size=tick,
                         min_order_size=Decimal(self.config.min_order_size))  # fmt: skip

    def mid(self, token_id: str, at: datetime) -> Decimal:
        """The CLOB midpoint (best bid + best ask) / 2 of a live-day token."""
        book = self.book(token_id, at)
        if book.mid is None:
            raise KeyError(f"one-sided book for token {token_id}")
        return book.mid

    # ---- trades --------------------------------------------------------------------------------------------

    def _whale_trades(self) -> list[WhaleTrade]:
        live = self._live
        markets = live.markets
        trades: list[WhaleTrade] = []
        for k in range(live.n):
            i, token = int(live.market[k]), int(live.token[k])
            timestamp = _utc(int(live.timestamp[k]))
            trades.append(
                WhaleTrade.create(
                    wallet=self._addresses[int(live.wallet[k])],
                    side=Side.SELL if live.side[k] else Side.BUY,
                    token_id=markets.token_id(i, token),
                    condition_id=markets.condition_id[i],
                    outcome=OUTCOMES[token],
                    outcome_index=token,
                    price=int(live.price_ticks[k]) * Decimal(markets.tick[i]),
                    size=Decimal(int(live.size_cents[k])).scaleb(-2),
                    timestamp=timestamp,
                    tx_hash=hex_of(live.tx[k]),
                    source=Source.SIM,
                    detected_at=timestamp + timedelta(milliseconds=int(live.latency_ms[k])),
                )
            )
        return trades

    def _resolutions(self) -> list[Resolution]:
        markets = self._live.markets
        end = self.day_end.timestamp()
        found = [
            Resolution(
                resolve_at=_utc(int(markets.resolve_at[i])),
                condition_id=markets.condition_id[i],
                payouts={
                    markets.yes_token[i]: Decimal(int(bool(markets.yes_wins[i]))),
                    markets.no_token[i]: Decimal(int(not markets.yes_wins[i])),
                },
            )
            for i in range(markets.n)
            if markets.resolve_at[i] < end
        ]
        return sorted(found, key=lambda r: (r.resolve_at, r.condition_id))

    def history_trade_rows(self) -> list[dict[str, object]]:
        """Every historical fill as a Data API `/trades` v1 row, newest first (as the API pages them)."""
        return list(reversed(trade_rows(self._history_fills, self._sets[0], self._addresses)))

    def day_trade_rows(self) -> list[dict[str, object]]:
        """The live day's fills as Data API `/trades` v1 rows, newest first."""
        return list(reversed(trade_rows(self._live_fills, self._sets[1], self._addresses)))

    @cached_property
    def data_api_tape(self) -> DataApiTape:
        """All fills as Data API rows, newest first, indexed by wallet (built on first use)."""
        rows = self.day_trade_rows() + self.history_trade_rows()
        wallet = np.concatenate([self._live_fills.wallet[::-1], self._history_fills.wallet[::-1]])
        timestamps = np.concatenate([self._live_fills.timestamp[::-1], self._history_fills.timestamp[::-1]])
        order = np.argsort(wallet, kind="stable")
        bounds = np.searchsorted(wallet[order], np.arange(len(self._addresses) + 1))
        by_wallet = {a: order[bounds[w] : bounds[w + 1]] for w, a in enumerate(self._addresses)}
        return DataApiTape(rows=rows, timestamps=timestamps, by_wallet=by_wallet)


def build_world(config: SimConfig) -> SimWorld:
    """Build the world for `config` (deterministic: the same config gives the same world, byte for byte)."""
    wallet_seed, history_seed, live_seed = np.random.SeedSequence(config.seed).spawn(3)
    wallets = build_wallets(np.random.default_rng(wallet_seed), config)
    history = build_history(np.random.default_rng(history_seed), config, wallets)
    live = simulate_live_day(np.random.default_rng(live_seed), config, wallets)
    return SimWorld(config, wallets, live, history)
