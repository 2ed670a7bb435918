"""The copy decision (the score step): should this whale fill be copied at all?

Pure: every input arrives as an argument, the expensive ones (whale record, market, other whales' stances, our
exposure room, book, our position) as loaders called only when an earlier, cheaper check has passed, so a skip on
"untracked wallet" costs one read and never fetches a book. Each skip names its `Reason` and a detail.

Checks, in order (cheap first; a loader runs only when every check before it passed):
  1. the fill is fresh (detected within `max_trade_age_s` of its block time), and not from the future
     (more than MAX_FILL_AHEAD ahead of our clock: malformed, `invalid_trade`);                     no I/O
  2. the wallet is tracked and copyable (status active or probation), and its score's lower bound,
     when the scorer gave one, is above `min_score_ci_low` (PROBATION whales are also sized down:
     `sizing.probation_multiplier`, copytrader.copying.pricing);                                           whale read
  3. the whale's notional is large enough to mean something;                                      no I/O
  4. the market is known, the token belongs to it, it is open, accepting orders and not about to
     resolve;                                                                                    market read
  5. a SELL is copied only when we hold the token (mirror exit) and the whale's copies built part of it: we sell
     the fraction it sold of that part (`load_mirror`, copytrader.copying.exits), at least the market
     minimum;                                                                                     position read
  6. the whale's price lies inside the price band (far from 0 and 1, where Kelly odds blow up);   no I/O
  7. BUY: the market minimum at our limit price, min_order_size x (limit + fee per share), fits the largest
     stake the sizing mode allows (`limits.stake_ceiling`: the per-trade cap, the fixed or proportional
     stake);                                                                                      no I/O
  8. BUY: no other tracked whale holds the opposite side of this market, or the conflict policy lets this
     one through (copytrader.copying.conflicts);                                                    stances query
  9. BUY: the exposure we already hold leaves room (the risk engine's `room`: pUSD still allowed under every
     cap and our cash) for the market minimum's worst-case cost;                                  risk reads
 10. the book exists, its spread is tight enough, our executable price has not drifted from the whale's
     by more than the absolute and relative caps, there is enough depth (pUSD) within that price, and at
     least the market minimum in shares.                                                          book fetch
A COPY signal carries the room it saw (`CopySignal.room`), so the size step caps the order by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from copytrader.copying.conflicts import Stance, assess, stance_of
from copytrader.copying.pricing import drift_limit_price, stake_ceiling
from copytrader.model import (
    COPYABLE_STATUSES,
    CopySignal,
    Decision,
    Market,
    OrderBook,
    Side,
    WhaleProfile,
    WhaleTrade,
)
from copytrader.money import SIZE_STEP, ZERO, fee_per_share
from copytrader.reasons import Reason
from copytrader.risk.affordability import worst_case_cost
from copytrader.settings import FilterSettings, SizingSettings

# A fill's time (its block's) may lead our clock by a few seconds; one further ahead is malformed, not early
MAX_FILL_AHEAD = timedelta(minutes=5)


def skip(reason: Reason, detail: str, now: datetime, **context: object) -> CopySignal:
    return CopySignal(action=Decision.SKIP, reason=reason, detail=detail, decided_at=now, **context)


def decide(
    trade: WhaleTrade,
    *,
    now: datetime,
    filters: FilterSettings,
    load_whale: Callable[[str], WhaleProfile | None],
    load_market: Callable[[str], Market | None],
    load_book: Callable[[str], OrderBook | None],
    load_held_shares: Callable[[str], Decimal],
    book_levels_kept: int = 20,
    sizing: SizingSettings | None = None,
    load_stances: Callable[[str], Sequence[Stance]] | None = None,
    load_room: Callable[[Market, WhaleTrade], Decimal | None] | None = None,
    record_stance: Callable[[Stance], object] | None = None,
    load_mirror: Callable[[WhaleTrade, Decimal], Decimal] | None = None,
) -> CopySignal:
    """Run the checks in order and return a COPY signal (with market, book and whale) or a SKIP.

    `sizing` enables check 7, `load_stances` (conflict group -> stances) check 8, `load_room` (pUSD still allowed
    for a BUY of this trade's market by this whale, None when unknown) check 9.

    `load_mirror` (trade, shares we hold -> shares the mirror sells) sizes a SELL on the whale's part of our position;
    without it a SELL sells everything we hold.

    `record_stance`, when given, stores this trade's stance *before* the group's stances are read. Trades of one
    market share a FIFO message group, so two opposite ones are normally scored one after the other; should two
    ever be scored at once (local runs, another grouping of the queue), they still cannot both miss each other:
    whichever reads second sees the other's stance (DynamoDB's consistent reads are linearizable), so at most one
    is copied under `skip`.
    """
    if trade.timestamp > now + MAX_FILL_AHEAD:
        ahead = (trade.timestamp - now).total_seconds()
        return skip(
            Reason.INVALID_TRADE,
            f"fill time {trade.timestamp.isoformat()} is {ahead:.0f}s ahead of our clock (max "
            f"{MAX_FILL_AHEAD.total_seconds():.0f}s)",
            now,
            trade=trade,
        )
    age = (now - trade.timestamp).total_seconds()
    if age > filters.max_trade_age_s:
        return skip(Reason.STALE_TRADE, f"fill is {age:.0f}s old (max {filters.max_trade_age_s}s)", now, trade=trade)

    whale = load_whale(trade.wallet)
    if whale is None:
        return skip(Reason.UNTRACKED_WALLET, f"{trade.wallet} is not tracked", now, trade=trade)
    if whale.status not in COPYABLE_STATUSES:
        return skip(Reason.WHALE_NOT_ACTIVE, f"whale status is {whale.status.value}", now, trade=trade, whale=whale)
    if whale.score_ci_low is not None and whale.score_ci_low <= filters.min_score_ci_low:
        return skip(
            Reason.WHALE_SCORE_TOO_LOW,
            f"{whale.status.value} whale's score lower bound {whale.score_ci_low} <= {filters.min_score_ci_low}",
            now,
            trade=trade,
            whale=whale,
        )
    if trade.side is Side.BUY and trade.notional < filters.min_whale_notional:
        return skip(
            Reason.WHALE_TOO_SMALL,
            f"whale notional {trade.notional:.2f} < {filters.min_whale_notional}",
            now,
            trade=trade,
            whale=whale,
        )

    market = load_market(trade.condition_id)
    context: dict[str, object] = {"trade": trade, "whale": whale}
    if market is None:
        return skip(Reason.UNKNOWN_MARKET, "market not found", now, **context)
    if market.token(trade.token_id) is None:
        return skip(
            Reason.UNKNOWN_MARKET, f"token {trade.token_id[:12]}... is not an outcome of this market", now, **context
        )
    context["market"] = market
    if market.closed or market.resolved:
        return skip(Reason.MARKET_CLOSED, "market is closed", now, **context)
    if not market.accepting_orders:
        return skip(Reason.NOT_ACCEPTING_ORDERS, "market is not accepting orders", now, **context)
    if market.end_time is not None:
        left = (market.end_time - now).total_seconds()
        if left < filters.min_time_to_resolution_s:
            return skip(
                Reason.NEAR_RESOLUTION, f"{left:.0f}s to end (min {filters.min_time_to_resolution_s}s)", now, **context
            )

    held = ZERO
    sell: Decimal | None = None
    if trade.side is Side.SELL:
        held = load_held_shares(trade.token_id)
        if held <= 0:
            return skip(Reason.SELL_WITHOUT_POSITION, "whale sold a token we do not hold", now, **context)
        sell = held if load_mirror is None else min(load_mirror(trade, held), held)
        if sell <= 0:
            return skip(
                Reason.NO_WHALE_PART, "none of our shares of the token were built by its copies", now, **context
            )
        sellable = (sell / SIZE_STEP).to_integral_value(rounding=ROUND_FLOOR) * SIZE_STEP
        if sellable < market.min_order_size:
            return skip(
                Reason.MIN_SIZE_UNREACHABLE,
                f"the mirror sells {sell} of our {held} shares, below the market minimum {market.min_order_size}",
                now,
                **context,
            )

    if not (filters.min_price <= trade.price <= filters.max_price):
        return skip(
            Reason.PRICE_OUT_OF_BAND,
            f"whale price {trade.price} outside [{filters.min_price}, {filters.max_price}]",
            now,
            **context,
        )

    limit = drift_limit_price(trade.side, trade.price, market.tick_size, filters)
    room: Decimal | None = None
    if trade.side is Side.BUY:
        minimum = market.min_order_size
        if sizing is not None:
            ceiling = stake_ceiling(trade.notional, whale.status, sizing)
            min_cost = minimum * (limit + fee_per_share(limit, market.taker_fee_rate))
            if min_cost > ceiling:
                return skip(
                    Reason.MIN_SIZE_UNREACHABLE,
                    f"market minimum {minimum} shares at limit {limit} costs {min_cost:.4f} > stake ceiling "
                    f"{ceiling:.4f}",
                    now,
                    **context,
                )
        if load_stances is not None:
            new = stance_of(trade, market, whale)
            if record_stance is not None:
                record_stance(new)  # write before read: see the docstring
            conflict = assess(new, load_stances(new.group), filters.conflict_policy, now, filters.conflict_window_s)
            if conflict is not None:
                return skip(conflict.reason, conflict.detail, now, **context)
        if load_room is not None:
            room = load_room(market, trade)
            if room is not None:
                room = max(room, ZERO)
                needed = worst_case_cost(minimum, limit, market.taker_fee_rate)
                if room < needed:
                    return skip(
                        Reason.EXPOSURE_AT_CAP,
                        f"room {room:.2f} pUSD under our exposure caps < {needed:.2f} for the market minimum",
                        now,
                        room=room,
                        **context,
                    )
                context["room"] = room

    book = load_book(trade.token_id)
    if book is None or (not book.asks if trade.side is Side.BUY else not book.bids):
        return skip(Reason.NO_BOOK, "no liquidity on our side of the book", now, **context)
    kept = book.truncated(book_levels_kept)
    context["book"] = kept
    spread = book.spread
    if spread is not None and spread > filters.max_spread:
        return skip(Reason.SPREAD_TOO_WIDE, f"spread {spread} > {filters.max_spread}", now, **context)

    ours = book.best_ask if trade.side is Side.BUY else book.best_bid
    assert ours is not None  # checked above: our side of the book is not empty
    adverse = (ours - trade.price) if trade.side is Side.BUY else (trade.price - ours)
    if adverse > filters.max_drift_abs or adverse > filters.max_drift_rel * trade.price:
        return skip(
            Reason.PRICE_DRIFT,
            f"our price {ours} vs whale {trade.price}: drift {adverse} beyond "
            f"{filters.max_drift_abs} abs / {filters.max_drift_rel:%} rel",
            now,
            **context,
        )

    depth_shares = book.depth(trade.side, limit)
    depth_value = depth_shares * limit
    if trade.side is Side.BUY and depth_value < filters.min_book_depth:
        return skip(
            Reason.THIN_BOOK, f"{depth_value:.2f} pUSD within {limit} (min {filters.min_book_depth})", now, **context
        )
    if trade.side is Side.BUY and depth_shares < market.min_order_size:
        return skip(
            Reason.MIN_SIZE_UNREACHABLE,
            f"{depth_shares} shares within {limit} < market minimum {market.min_order_size}",
            now,
            **context,
        )

    return CopySignal(
        action=Decision.COPY,
        trade=trade,
        market=market,
        book=kept,
        whale=whale,
        held_shares=held,
        sell_shares=sell,
        room=room,
        decided_at=now,
    )


def stance_to_record(signal: CopySignal) -> Stance | None:
    """The stance the score step records for this trade: whenever the whale passed the quality checks and the
    market is known (copied or not), else None. Stale and tiny fills are skipped before that and form none."""
    if signal.trade is None or signal.market is None or signal.whale is None:
        return None
    if signal.market.token(signal.trade.token_id) is None:
        return None
    return stance_of(signal.trade, signal.market, signal.whale)


__all__ = ["MAX_FILL_AHEAD", "decide", "drift_limit_price", "skip", "stance_to_record"]
