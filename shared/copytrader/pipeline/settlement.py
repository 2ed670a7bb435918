"""Settling resolved markets: redeem our positions, book the P&L, and check the daily-loss breaker.

The same function serves the scheduled redemption job in AWS and local mode's simulated day.
"""

from __future__ import annotations

from decimal import Decimal

from copytrader.model import Market
from copytrader.pipeline.deps import Deps
from copytrader.pipeline.steps import check_breaker
from copytrader.store.positions import Redemption


def settle_resolved(market: Market, deps: Deps) -> list[Redemption]:
    """Redeem every open position in `market` (which must be resolved) and trip the breaker if needed."""
    done = deps.positions.redeem(market, deps.clock())
    if done:  # a gain raises the equity high-water mark, a loss may trip the breakers
        check_breaker(deps)
    return done


def mark_to_market(deps: Deps) -> tuple[Decimal, Decimal]:
    """(cash, value of open positions at the book's mid; best bid when there is no ask)."""
    try:
        state = deps.portfolio.state(deps.clock())
    except LookupError:  # no copy yet: all cash
        return deps.settings.paper_bankroll, Decimal(0)
    value = Decimal(0)
    for position in deps.positions.all():
        if position.shares <= 0:
            continue
        book = deps.books(position.token_id)
        mark = (book.mid or book.best_bid) if book is not None else None
        value += position.shares * (mark if mark is not None else Decimal(0))
    return state.cash, value
