"""Sizing a copy: hierarchical Beta-posterior win probability, Kelly at the executable cost after fees, caps, rounding.

Win probability: whale shrunk toward the population, category shrunk toward the whale (Beta-Binomial)
    A wallet's resolved BUYs give n trades, k wins and a mean entry price p̄ (the break-even win rate); with no
    skill, k ~ Binomial(n, p̄). Population level: tracked whales' edge per trade has prior mean μ
    (`sizing.population_edge`, default 0 = no skill) with strength s pseudo-trades (`sizing.prior_strength`), i.e.
    the win rate's prior is Beta(s·(p̄ + μ), s·(1 − p̄ − μ)). Its posterior mean is (s·(p̄ + μ) + k)/(s + n), so the
    whale's posterior-mean edge per trade is
        δ_w = (s·μ + k − n·p̄)/(s + n),
    μ for an unproven wallet, approaching the raw edge k/n − p̄ as n grows (μ = 0 gives the no-skill prior).
    (μ, s) are the scorer's estimate for the run that wrote the profile (`prior_edge`, `prior_strength`:
    DerSimonian-Laird across the eligible wallets, `copytrader.scoring.population`), else the settings.
    Category level (when the profile carries a record for the market's category, with n_c trades, k_c wins, mean
    price p̄_c): the category's edge is shrunk toward the whale's edge on its OTHER trades (leave-category-out, so
    the category's own trades are counted once), with strength s_c (`sizing.category_prior_strength`):
        δ_w−c = (s·μ + (k − k_c) − (n·p̄ − n_c·p̄_c))/(s + n − n_c)
        δ_c   = (s_c·δ_w−c + k_c − n_c·p̄_c)/(s_c + n_c).
    A specialist (strong record in this category) gets a larger edge here than elsewhere, a wallet that is weak in
    the category a smaller one; with every trade in one category, δ_c is δ_w with s_c in place of s. This is the
    two-level Beta-Binomial model of Gelman et al., *Bayesian Data Analysis* (3rd ed., §5.3), with the
    hyperparameters fixed (empirical-Bayes style) instead of integrated; posterior mean = posterior-predictive
    P(next win) (quant/REFERENCE.md §4, §6 "for win rates, use a Beta–Binomial EB prior").
    For a fill at price p the copy's win probability is q = p + δ (δ_c when the category is known), kept in
    [0.0001, max_win_probability].

Kelly for a binary contract (Kelly 1956; Thorp 2006; quant/REFERENCE.md §4)
    A share costs c = VWAP + taker fee per share and pays 1. With belief q the growth-optimal
    fraction of bankroll is f* = (q − c)/(1 − c) for q > c, else 0. We stake m·λ·f* (λ = kelly_fraction,
    default 0.25; m = `probation_multiplier` for PROBATION whales, else 1), capped as below.
    c depends on the size through the book walk and the fee, so the size is the largest s on the 0.01-share
    grid with cost(s) ≤ m·λ·f*(c(s))·bankroll: cost(s) rises and f*(c(s)) falls with s, so the feasible sizes
    are a prefix and bisection finds s.

Caps and rounding (every mode)
    The order's worst-case cost (every share at the limit price plus the largest fee in range, rounded up to the
    pUSD micro-unit: what risk_check reserves) must fit the per-copy cap `max_trade_notional` and the room the
    score step saw under every exposure cap (`CopySignal.room`: market, event / neg-risk group, category, whale,
    total, cash), so sizing never produces an order risk_check would predictably reject (risk_check refuses a
    worst case above the per-copy cap, `copy_cap`). The stake (Kelly, fixed, proportional) is spent at the
    planned cost of the book walk; the caps hold at the limit, where the order may fill. Shares are floored to
    the 0.01 grid, the limit price to the tick; rounding only ever goes down, so the order never exceeds the
    Kelly size, and a size below the market's minimum is a skip (`below_min_size`, or `exposure_at_cap` when the
    room is what binds), never a round-up.

Other modes: `fixed` (a fixed pUSD notional) and `proportional` (a ratio of the whale's notional), with
the same multiplier, caps, room, book walk and rounding. SELL copies mirror an exit: sell the whale's fraction of
its part of our position (`CopySignal.sell_shares`), floored to the grid (never more than held).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from copytrader.copying.pricing import drift_limit_price, mode_stake, status_multiplier
from copytrader.model import CopySignal, Fill, OrderBook, Side, SizedOrder, WhaleProfile, risk_group_of
from copytrader.money import ONE, SIZE_STEP, ZERO, taker_fee
from copytrader.reasons import Reason
from copytrader.risk.affordability import shares_within_room, worst_case_cost
from copytrader.settings import Settings, SizingMode, SizingSettings

MIN_PROBABILITY = Decimal("0.0001")
_CENTRE_BOUND = Decimal("0.001")


def copy_idempotency_key(account: str, trade_key: str) -> str:
    """One copy per whale fill per account: blake2b-128("copy-v1" | account | trade key)."""
    material = "\x1f".join(("copy-v1", account, trade_key))
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


def population_of(whale: WhaleProfile, sizing: SizingSettings) -> tuple[Decimal, Decimal]:
    """(s, μ): the population prior the scorer estimated with this profile (copytrader.scoring.population), else
    the settings' (`sizing.prior_strength`, `sizing.population_edge`: no skill by default)."""
    if whale.prior_strength is not None and whale.prior_edge is not None:
        return whale.prior_strength, whale.prior_edge
    return sizing.prior_strength, sizing.population_edge


def whale_edge(whale: WhaleProfile, prior_strength: Decimal, population_edge: Decimal = ZERO) -> Decimal:
    """Posterior-mean edge per trade shrunk toward the population, δ_w = (s·μ + k − n·p̄)/(s + n)."""
    n = Decimal(whale.resolved_trades)
    k = Decimal(whale.wins)
    return (prior_strength * population_edge + k - n * whale.mean_entry_price) / (prior_strength + n)


def category_edge(whale: WhaleProfile, category: str, sizing: SizingSettings) -> Decimal:
    """The whale's posterior-mean edge in `category`, δ_c (module docstring); δ_w when there is no usable record.

    A record that claims more trades or wins than the whale's total (stale or inconsistent data) is shrunk toward
    the whale's overall edge δ_w instead of the leave-category-out one.
    """
    s, mu = population_of(whale, sizing)
    overall = whale_edge(whale, s, mu)
    record = whale.categories.get(category)
    if record is None or record.resolved_trades == 0:
        return overall
    n_c, k_c = Decimal(record.resolved_trades), Decimal(record.wins)
    paid_c = n_c * record.mean_entry_price
    n, k = Decimal(whale.resolved_trades), Decimal(whale.wins)
    paid = n * whale.mean_entry_price
    consistent = n_c <= n and k_c <= k
    centre = (s * mu + (k - k_c) - (paid - paid_c)) / (s + n - n_c) if consistent else overall
    s_c = sizing.category_prior_strength
    return (s_c * centre + k_c - paid_c) / (s_c + n_c)


def beta_posterior(
    whale: WhaleProfile, prior_strength: Decimal, population_edge: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """Posterior Beta(α, β) of the whale's win rate: α = s·c + k, β = s·(1 − c) + n − k, with prior centre
    c = p̄ + μ (kept inside [0.001, 0.999])."""
    centre = min(max(whale.mean_entry_price + population_edge, _CENTRE_BOUND), ONE - _CENTRE_BOUND)
    alpha = prior_strength * centre + whale.wins
    beta = prior_strength * (ONE - centre) + (whale.resolved_trades - whale.wins)
    return alpha, beta


def win_probability(
    whale: WhaleProfile,
    whale_price: Decimal,
    prior_strength: Decimal,
    cap: Decimal,
    population_edge: Decimal = ZERO,
) -> Decimal:
    """q = whale price + δ_w, kept inside [0.0001, cap]."""
    q = whale_price + whale_edge(whale, prior_strength, population_edge)
    return min(max(q, MIN_PROBABILITY), cap)


def copy_win_probability(whale: WhaleProfile, whale_price: Decimal, category: str, sizing: SizingSettings) -> Decimal:
    """q = whale price + δ_c (the category posterior when the profile has the category, else δ_w), in
    [0.0001, max_win_probability]."""
    q = whale_price + category_edge(whale, category, sizing)
    return min(max(q, MIN_PROBABILITY), sizing.max_win_probability)


def kelly_fraction(q: Decimal, cost: Decimal) -> Decimal:
    """Full-Kelly fraction of bankroll for a contract costing `cost` that pays 1 with probability q.

    f* = (q − c)/(1 − c) when q > c, else 0 (no bet). Equivalent to Kelly's (bp − (1−p))/b with net
    odds b = (1 − c)/c. Example (vectors.json kelly_binary_contract_yes): q=0.6, c=0.5 gives 0.2.
    """
    if not (ZERO < cost < ONE) or q <= cost:
        return ZERO
    return (q - cost) / (ONE - cost)


@dataclass(frozen=True)
class Plan:
    """A planned taker order: fills from a book walk, with fees and the resulting cost per share."""

    shares: Decimal
    fills: tuple[Fill, ...]
    notional: Decimal
    fee: Decimal

    @property
    def cost(self) -> Decimal:
        return self.notional + self.fee

    @property
    def cost_per_share(self) -> Decimal:
        return self.cost / self.shares if self.shares else ZERO

    @property
    def avg_price(self) -> Decimal:
        return self.notional / self.shares if self.shares else ZERO


def plan(book: OrderBook, side: Side, shares: Decimal, limit: Decimal, fee_rate: Decimal) -> Plan:
    """Walk the book for `shares` within `limit`; fees per fill with the venue's fee function."""
    fills = book.walk(side, shares, limit)
    filled, notional, fee = _costs([(f.price, f.shares) for f in fills], fee_rate)
    return Plan(shares=filled, fills=fills, notional=notional, fee=fee)


def _costs(takes: list[tuple[Decimal, Decimal]], fee_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(shares, notional, fee) of a walk's (price, shares) pairs, the fee per fill."""
    filled = sum((shares for _, shares in takes), ZERO)
    notional = sum((price * shares for price, shares in takes), ZERO)
    return filled, notional, sum((taker_fee(shares, price, fee_rate) for price, shares in takes), ZERO)


def _largest_affordable(
    book: OrderBook,
    limit: Decimal,
    fee_rate: Decimal,
    budget_at: Callable[[Decimal], Decimal],
    max_shares: Decimal | None = None,
) -> Plan:
    """Largest BUY on the 0.01 grid, at most `max_shares`, whose cost fits the budget at its own cost per share
    (bisection over the grid: the feasible sizes are a prefix)."""
    available = book.depth(Side.BUY, limit)
    if max_shares is not None:
        available = min(available, max_shares)
    hi = int((available / SIZE_STEP).to_integral_value(rounding=ROUND_FLOOR))
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        filled, notional, fee = _costs(book.takes(Side.BUY, mid * SIZE_STEP, limit), fee_rate)
        candidate = Plan(shares=filled, fills=(), notional=notional, fee=fee)  # its costs; fills only for the result
        if candidate.cost <= budget_at(candidate.cost_per_share):
            lo = mid
        else:
            hi = mid - 1
    return plan(book, Side.BUY, lo * SIZE_STEP, limit, fee_rate) if lo else Plan(ZERO, (), ZERO, ZERO)


def size_copy(signal: CopySignal, *, bankroll: Decimal, settings: Settings, account: str) -> SizedOrder:
    """Turn a COPY signal into one order (PLACE) or a SKIP with its reason (module docstring).

    The room under the exposure caps is `signal.room` (None: unknown, no room cap).
    """
    trade, market, book, whale = signal.trade, signal.market, signal.book, signal.whale
    assert trade is not None and market is not None and book is not None and whale is not None
    sizing, filters = settings.sizing, settings.filters
    common: dict[str, Any] = {
        "idempotency_key": copy_idempotency_key(account, trade.key),
        "trade_key": trade.key,
        "wallet": trade.wallet,
        "condition_id": market.condition_id,
        "event_id": market.event_id,
        "risk_group": risk_group_of(market),
        "category": market.category,
        "neg_risk": market.neg_risk,
        "token_id": trade.token_id,
        "side": trade.side,
        "order_type": settings.order_type,
        "bankroll": bankroll,
        "tick_size": market.tick_size,
        "min_order_size": market.min_order_size,
        "taker_fee_rate": market.taker_fee_rate,
    }
    limit = drift_limit_price(trade.side, trade.price, market.tick_size, filters)

    if trade.side is Side.SELL:
        return _size_exit(signal, limit, common)
    if book.best_ask is None:
        return SizedOrder(action="SKIP", reason=Reason.BELOW_MIN_SIZE, detail="no asks to buy from", **common)

    q = copy_win_probability(whale, trade.price, market.category, sizing)
    cap = sizing.max_trade_notional
    multiplier = status_multiplier(whale.status, sizing)
    rate = market.taker_fee_rate
    if sizing.mode is SizingMode.KELLY:
        min_plan = plan(book, Side.BUY, market.min_order_size, limit, rate)
        if min_plan.shares < market.min_order_size:
            return SizedOrder(
                action="SKIP", reason=Reason.BELOW_MIN_SIZE, detail="book too thin for min size", **common
            )
        edge = q - min_plan.cost_per_share
        if edge < sizing.min_edge:
            return SizedOrder(
                action="SKIP",
                reason=Reason.NO_EDGE,
                detail=f"q {q:.4f} - cost {min_plan.cost_per_share:.4f} = {edge:.4f} < {sizing.min_edge}",
                win_probability=q,
                **common,
            )
        fraction = multiplier * sizing.kelly_fraction

        def budget(cost_per_share: Decimal) -> Decimal:
            return fraction * kelly_fraction(q, cost_per_share) * bankroll

    else:
        stake = mode_stake(trade.notional, sizing)
        assert stake is not None
        amount = multiplier * stake

        def budget(cost_per_share: Decimal) -> Decimal:
            return amount

    # the per-copy cap and the room bound the worst case at the limit price (what risk_check reserves), not the
    # planned cost at the best ask: the order may fill up to the limit
    cap_shares = shares_within_room(cap, book.best_ask, limit, rate)
    room_shares = None if signal.room is None else shares_within_room(signal.room, book.best_ask, limit, rate)
    bound = cap_shares if room_shares is None else min(cap_shares, room_shares)
    chosen = _largest_affordable(book, limit, rate, budget, bound)
    full = kelly_fraction(q, chosen.cost_per_share) if chosen.shares else ZERO
    if chosen.shares < market.min_order_size:
        unbounded = _largest_affordable(book, limit, rate, budget, cap_shares) if room_shares is not None else chosen
        room_binds = unbounded.shares >= market.min_order_size
        return SizedOrder(
            action="SKIP",
            reason=Reason.EXPOSURE_AT_CAP if room_binds else Reason.BELOW_MIN_SIZE,
            detail=(
                f"room {signal.room} pUSD allows {chosen.shares} shares < market minimum {market.min_order_size}"
                if room_binds
                else f"sized {chosen.shares} shares < market minimum {market.min_order_size}"
            ),
            win_probability=q,
            kelly_full=full,
            **common,
        )
    return SizedOrder(
        action="PLACE",
        shares=chosen.shares,
        limit_price=limit,
        expected_avg_price=chosen.avg_price,
        expected_fee=chosen.fee,
        max_cost=worst_case_cost(chosen.shares, limit, rate, book.best_ask),
        win_probability=q,
        kelly_full=full,
        kelly_applied=chosen.cost / bankroll if bankroll else ZERO,
        **common,
    )


def _size_exit(signal: CopySignal, limit: Decimal, common: dict[str, Any]) -> SizedOrder:
    """Mirror a whale's SELL: sell the shares the score step chose (`sell_shares`: the whale's fraction of its part of
    our position, copytrader.copying.exits), else what we hold, floored to the size grid, within the limit."""
    assert signal.book is not None and signal.market is not None
    return sell_order(signal, limit, common, what="holding")


def sell_order(signal: CopySignal, limit: Decimal, common: dict[str, Any], *, what: str) -> SizedOrder:
    """The SELL of a COPY signal that leaves a position (a whale's SELL mirrored, an exit rule): `sell_shares` (else
    everything held) floored to the size grid, planned against the book within `limit`; a size under the market
    minimum is a skip (`what` names it in the detail), never a round-up. Its worst case costs nothing (max_cost 0)."""
    book, market = signal.book, signal.market
    assert book is not None and market is not None
    wanted = signal.held_shares if signal.sell_shares is None else min(signal.sell_shares, signal.held_shares)
    shares = (wanted / SIZE_STEP).to_integral_value(rounding=ROUND_FLOOR) * SIZE_STEP
    if shares < market.min_order_size:
        detail = f"{what} {shares} shares < market minimum {market.min_order_size}"
        return SizedOrder(action="SKIP", reason=Reason.BELOW_MIN_SIZE, detail=detail, **common)
    planned = plan(book, Side.SELL, shares, limit, market.taker_fee_rate)
    return SizedOrder(
        action="PLACE",
        shares=shares,
        limit_price=limit,
        expected_avg_price=planned.avg_price,
        expected_fee=planned.fee,
        max_cost=ZERO,
        **common,
    )


__all__ = [
    "Plan",
    "beta_posterior",
    "category_edge",
    "copy_idempotency_key",
    "copy_win_probability",
    "kelly_fraction",
    "plan",
    "sell_order",
    "size_copy",
    "whale_edge",
    "win_probability",
]
