"""Sizing a copy: Beta-posterior win probability, Kelly at the executable cost after fees, caps, rounding.

Win probability (Beta-Binomial, shrunk toward no skill)
    A wallet's resolved BUYs give n trades, k wins and a mean entry price p̄; with no skill,
    k ~ Binomial(n, p̄). The prior is Beta(s·p̄, s·(1-p̄)), centred on no skill with strength s
    pseudo-trades (`sizing.prior_strength`); the posterior mean win rate is (s·p̄ + k)/(s + n), so the
    whale's edge per trade is
        δ = (s·p̄ + k)/(s + n) − p̄ = (k − n·p̄)/(s + n),
    which is 0 for an unproven wallet and approaches the raw edge (k/n − p̄) as n grows.
    For a fill at price p the copy's win probability is q = p + δ, capped at `max_win_probability`.
    (Posterior mean = posterior-predictive P(next win); quant/REFERENCE.md §4.)

Kelly for a binary contract (Kelly 1956; Thorp 2006; quant/REFERENCE.md §4)
    A share costs c = VWAP + taker fee per share and pays 1. With belief q the growth-optimal
    fraction of bankroll is f* = (q − c)/(1 − c) for q > c, else 0. We stake λ·f* (λ = kelly_fraction,
    default 0.25), capped by `max_trade_notional`. c depends on the size through the book walk and the
    fee, so the size is the largest s on the 0.01-share grid with cost(s) ≤ λ·f*(c(s))·bankroll:
    cost(s) rises and f*(c(s)) falls with s, so the feasible sizes are a prefix and bisection finds s.
    Rounding only ever goes down: the order never exceeds the Kelly size, and a size below the market's
    minimum is a skip (`below_min_size`), never a round-up.

Other modes: `fixed` (a fixed pUSD notional) and `proportional` (a ratio of the whale's notional), with
the same caps, book walk and rounding. SELL copies mirror an exit: sell what we hold of the token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from copytrader.decision import drift_limit_price
from copytrader.model import CopySignal, Fill, OrderBook, Side, SizedOrder, WhaleProfile
from copytrader.money import MICRO, ONE, SIZE_STEP, ZERO, ceil_to, fee_per_share, taker_fee
from copytrader.reasons import Reason
from copytrader.settings import Settings, SizingMode


def copy_idempotency_key(account: str, trade_key: str) -> str:
    """One copy per whale fill per account: blake2b-128("copy-v1" | account | trade key)."""
    material = "\x1f".join(("copy-v1", account, trade_key))
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


def whale_edge(whale: WhaleProfile, prior_strength: Decimal) -> Decimal:
    """Posterior-mean edge per trade, δ = (k − n·p̄)/(s + n) (see module docstring)."""
    n = Decimal(whale.resolved_trades)
    k = Decimal(whale.wins)
    return (k - n * whale.mean_entry_price) / (prior_strength + n)


def beta_posterior(whale: WhaleProfile, prior_strength: Decimal) -> tuple[Decimal, Decimal]:
    """Posterior Beta(α, β) of the whale's win rate: α = s·p̄ + k, β = s·(1 − p̄) + n − k."""
    alpha = prior_strength * whale.mean_entry_price + whale.wins
    beta = prior_strength * (ONE - whale.mean_entry_price) + (whale.resolved_trades - whale.wins)
    return alpha, beta


def win_probability(whale: WhaleProfile, whale_price: Decimal, prior_strength: Decimal, cap: Decimal) -> Decimal:
    """q = whale price + posterior edge, kept inside (0, cap]."""
    q = whale_price + whale_edge(whale, prior_strength)
    return min(max(q, Decimal("0.0001")), cap)


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
    notional = sum((f.price * f.shares for f in fills), ZERO)
    fee = sum((taker_fee(f.shares, f.price, fee_rate) for f in fills), ZERO)
    return Plan(shares=sum((f.shares for f in fills), ZERO), fills=fills, notional=notional, fee=fee)


def _largest_affordable(
    book: OrderBook,
    limit: Decimal,
    fee_rate: Decimal,
    budget_at: Callable[[Decimal], Decimal],
) -> Plan:
    """Largest BUY on the 0.01 grid whose cost fits the budget at its own cost per share (bisection)."""
    available = book.depth(Side.BUY, limit)
    hi = int((available / SIZE_STEP).to_integral_value(rounding=ROUND_FLOOR))
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        candidate = plan(book, Side.BUY, mid * SIZE_STEP, limit, fee_rate)
        if candidate.cost <= budget_at(candidate.cost_per_share):
            lo = mid
        else:
            hi = mid - 1
    return plan(book, Side.BUY, lo * SIZE_STEP, limit, fee_rate) if lo else Plan(ZERO, (), ZERO, ZERO)


def _worst_case_cost(shares: Decimal, best: Decimal, limit: Decimal, fee_rate: Decimal) -> Decimal:
    """Cash a FAK BUY can consume at most: every share at the limit plus the largest fee in [best, limit],
    rounded up to the pUSD micro-unit (the reservation must cover the worst case, on the collateral's grid)."""
    fee_price = min(max(Decimal("0.5"), best), limit)
    return ceil_to(shares * limit + shares * fee_per_share(fee_price, fee_rate), MICRO)


def size_copy(signal: CopySignal, *, bankroll: Decimal, settings: Settings, account: str) -> SizedOrder:
    """Turn a COPY signal into one order (PLACE) or a SKIP with its reason."""
    trade, market, book, whale = signal.trade, signal.market, signal.book, signal.whale
    assert trade is not None and market is not None and book is not None and whale is not None
    sizing, filters = settings.sizing, settings.filters
    common: dict[str, Any] = {
        "idempotency_key": copy_idempotency_key(account, trade.key),
        "trade_key": trade.key,
        "wallet": trade.wallet,
        "condition_id": market.condition_id,
        "event_id": market.event_id,
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

    q = win_probability(whale, trade.price, sizing.prior_strength, sizing.max_win_probability)
    cap = sizing.max_trade_notional
    if sizing.mode is SizingMode.KELLY:
        min_plan = plan(book, Side.BUY, market.min_order_size, limit, market.taker_fee_rate)
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

        def budget(cost_per_share: Decimal) -> Decimal:
            return min(sizing.kelly_fraction * kelly_fraction(q, cost_per_share) * bankroll, cap)

    else:
        fixed = sizing.fixed_notional if sizing.mode is SizingMode.FIXED else sizing.proportional_ratio * trade.notional
        amount = min(fixed, cap)

        def budget(cost_per_share: Decimal) -> Decimal:
            return amount

    chosen = _largest_affordable(book, limit, market.taker_fee_rate, budget)
    full = kelly_fraction(q, chosen.cost_per_share) if chosen.shares else ZERO
    if chosen.shares < market.min_order_size:
        return SizedOrder(
            action="SKIP",
            reason=Reason.BELOW_MIN_SIZE,
            detail=f"sized {chosen.shares} shares < market minimum {market.min_order_size}",
            win_probability=q,
            kelly_full=full,
            **common,
        )
    assert book.best_ask is not None
    return SizedOrder(
        action="PLACE",
        shares=chosen.shares,
        limit_price=limit,
        expected_avg_price=chosen.avg_price,
        expected_fee=chosen.fee,
        max_cost=_worst_case_cost(chosen.shares, book.best_ask, limit, market.taker_fee_rate),
        win_probability=q,
        kelly_full=full,
        kelly_applied=chosen.cost / bankroll if bankroll else ZERO,
        **common,
    )


def _size_exit(signal: CopySignal, limit: Decimal, common: dict[str, Any]) -> SizedOrder:
    """Mirror a whale's SELL: sell what we hold of the token (floored to the size grid) within the limit."""
    assert signal.book is not None and signal.market is not None
    shares = (signal.held_shares / SIZE_STEP).to_integral_value(rounding=ROUND_FLOOR) * SIZE_STEP
    if shares < signal.market.min_order_size:
        return SizedOrder(
            action="SKIP",
            reason=Reason.BELOW_MIN_SIZE,
            detail=f"holding {shares} shares < market minimum {signal.market.min_order_size}",
            **common,
        )
    planned = plan(signal.book, Side.SELL, shares, limit, signal.market.taker_fee_rate)
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
    "copy_idempotency_key",
    "kelly_fraction",
    "plan",
    "size_copy",
    "whale_edge",
    "win_probability",
]
