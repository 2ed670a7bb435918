"""An exit signal through the copy pipeline: the score step's decision (`decide_exit`) and the size step's order
(`size_exit`).

Exits are never held back by the copy filters, the exposure caps, conflicts or a whale's status: the decision only
checks that the position the rule fired on is still there as it was (same lot, same shares, and no SELL of it
unsettled, which the score step checks: else `position_gone`, and the next evaluation decides on the position as it
is), that its market is known, open and accepting orders,
and that there are bids to sell into. The order sells the signal's shares (a culled whale's part) or its fraction
of what we hold, floored to the 0.01 grid, at the signal's `min_price` or better; its idempotency key is the
signal's. risk_check treats it as any SELL: the kill switch stops it, the breaker and the drawdown halt do not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from copytrader.copying.decision import skip
from copytrader.copying.sizing import sell_order
from copytrader.model import CopySignal, Decision, Market, OrderBook, OrderType, Side, SizedOrder, risk_group_of
from copytrader.model.exits import ExitSignal
from copytrader.money import floor_to
from copytrader.reasons import Reason


def decide_exit(
    signal: ExitSignal,
    *,
    now: datetime,
    held: tuple[Decimal, str | None],
    load_market: Callable[[str], Market | None],
    load_book: Callable[[str], OrderBook | None],
    book_levels_kept: int = 20,
) -> CopySignal:
    """COPY (with the market, book and exit) or SKIP; `held` is the position's (shares, lot) now ((0, None): none)."""
    shares, lot = held
    if shares <= 0 or lot is None:
        return skip(Reason.POSITION_GONE, "no position left to exit", now, exit=signal)
    if lot != signal.lot or shares != signal.position_shares:
        return skip(
            Reason.POSITION_GONE,
            f"position is now lot {lot} with {shares} shares; the {signal.reason.value} exit saw lot {signal.lot} "
            f"with {signal.position_shares}",
            now,
            exit=signal,
        )
    market = load_market(signal.condition_id)
    if market is None or market.token(signal.token_id) is None:
        return skip(Reason.UNKNOWN_MARKET, "market not found", now, exit=signal)
    if market.closed or market.resolved:
        return skip(Reason.MARKET_CLOSED, "market is closed (the books workflow redeems it)", now, exit=signal)
    if not market.accepting_orders:
        return skip(Reason.NOT_ACCEPTING_ORDERS, "market is not accepting orders", now, exit=signal, market=market)
    book = load_book(signal.token_id)
    if book is None or not book.bids:
        return skip(Reason.NO_BOOK, "no bids to sell into", now, exit=signal, market=market)
    wanted = signal.shares if signal.shares is not None else shares * signal.fraction
    return CopySignal(
        action=Decision.COPY,
        market=market,
        book=book.truncated(book_levels_kept),
        held_shares=shares,
        sell_shares=min(wanted, shares),
        exit=signal,
        decided_at=now,
    )


def size_exit(signal: CopySignal, *, order_type: OrderType) -> SizedOrder:
    """The SELL of an exit's COPY signal (module docstring); below the market minimum it is a skip."""
    exit_, market, book = signal.exit, signal.market, signal.book
    assert exit_ is not None and market is not None and book is not None
    common = {
        "idempotency_key": exit_.key,
        "trade_key": exit_.key,
        "wallet": exit_.whale or "",
        "condition_id": market.condition_id,
        "event_id": market.event_id,
        "risk_group": risk_group_of(market),
        "category": market.category,
        "neg_risk": market.neg_risk,
        "token_id": exit_.token_id,
        "side": Side.SELL,
        "order_type": order_type,
        "tick_size": market.tick_size,
        "min_order_size": market.min_order_size,
        "taker_fee_rate": market.taker_fee_rate,
        "exit_reason": exit_.reason,
    }
    limit = max(floor_to(exit_.min_price, market.tick_size), market.tick_size)
    return sell_order(signal, limit, common, what=f"{exit_.reason.value} exit of")


__all__ = ["decide_exit", "size_exit"]
