"""Marked equity (pure): what the account is worth at the prices we could sell at, and the halts it trips.

    equity_marked = cash + sum over held positions of shares x sell value

The sell value of a share is its token's `Mark.sell_value`: the best bid when the mark is fresh (younger than
`risk.mark_max_age_s` and with a bid); else the last trade, flagged stale; else the old bid, flagged stale. A
position with no mark, or a mark with no price at all, is valued at cost and counted `unmarked` (cost is what book
equity already says, so an unmarked position neither adds nor hides a loss). Cash includes what reservations hold
(a reservation is cash not yet spent). The total is rounded down to the pUSD micro grid: equity is never overstated.

Halts on marked equity (the same floors as `risk.rules`, applied to marked figures):
- drawdown: equity_marked < (1 - max_drawdown) x the high-water mark of marked equity;
- daily loss: equity_marked - start-of-day marked equity <= -daily_loss_limit x start-of-day marked equity. The
  start of the day is the first marking recorded in that UTC day.
The store (`copytrader.store.account.marked`) and the in-memory book (`copytrader.risk.book.AccountBook.
record_marked`) both decide with `trips`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from copytrader.model.marks import Mark
from copytrader.money import MICRO, ZERO, canonical
from copytrader.risk.rules import breaker_floor, drawdown_breached
from copytrader.settings import RiskLimits


class MarkedPosition(Protocol):
    """What marking reads of a position (satisfied by `store.tables.PositionModel` and
    `risk.book_items.BookPosition`)."""

    @property
    def token_id(self) -> str: ...

    @property
    def shares(self) -> Decimal: ...

    @property
    def cost_basis(self) -> Decimal: ...


@dataclass(frozen=True)
class MarkedEquity:
    """The account at marks: cash, the held positions' cost and marked value, and how good the marks were."""

    cash: Decimal
    cost: Decimal  # sum of the held positions' cost basis
    value: Decimal  # sum of shares x sell value (an unmarked position at cost), on the micro grid (down)
    positions: int  # held positions (shares > 0)
    stale: int  # positions valued at a stale mark (last trade, or a bid older than the bound)
    unmarked: int  # positions with no usable mark, valued at cost

    @property
    def equity(self) -> Decimal:
        return self.cash + self.value

    @property
    def unrealized(self) -> Decimal:
        """Marked value less cost of the held positions (0 for an unmarked one)."""
        return self.value - self.cost

    def as_dict(self) -> dict[str, str | int]:
        """The figures as a report prints them (amounts without trailing zeros)."""
        return {
            "equity_marked": str(canonical(self.equity)),
            "cash": str(canonical(self.cash)),
            "positions_cost": str(canonical(self.cost)),
            "positions_marked": str(canonical(self.value)),
            "unrealized_pnl": str(canonical(self.unrealized)),
            "positions": self.positions,
            "stale_marks": self.stale,
            "unmarked_positions": self.unmarked,
        }


def marked_equity(
    cash: Decimal,
    positions: Iterable[MarkedPosition],
    marks: Mapping[str, Mark],
    now: datetime,
    max_age: timedelta,
) -> MarkedEquity:
    """Marked equity of `cash` and the positions holding shares, at `marks` (token id -> mark) as of `now`."""
    cost = value = ZERO
    held = stale = unmarked = 0
    for position in positions:
        if position.shares <= 0:
            continue
        held += 1
        cost += position.cost_basis
        mark = marks.get(position.token_id)
        price, is_stale = mark.sell_value(now, max_age) if mark is not None else (None, True)
        if price is None:
            unmarked += 1
            value += position.cost_basis
            continue
        stale += is_stale
        value += position.shares * price
    return MarkedEquity(
        cash=cash,
        cost=cost,
        value=value.quantize(MICRO, rounding=ROUND_FLOOR),
        positions=held,
        stale=stale,
        unmarked=unmarked,
    )


@dataclass(frozen=True)
class Trips:
    drawdown: bool  # equity_marked below the drawdown floor of its high-water mark
    breaker: bool  # the day's marked loss at or past the daily-loss floor


def trips(equity_marked: Decimal, high_water: Decimal, day_start: Decimal, limits: RiskLimits) -> Trips:
    """Which halts marked equity trips, given its high-water mark and the day's first marked equity."""
    return Trips(
        drawdown=drawdown_breached(equity_marked, high_water, limits),
        breaker=equity_marked - day_start <= breaker_floor(day_start, limits),
    )


__all__ = ["MarkedEquity", "MarkedPosition", "Trips", "marked_equity", "trips"]
