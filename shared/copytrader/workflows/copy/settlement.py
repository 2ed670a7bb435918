"""Settling resolved markets: redeem our positions, book the P&L, then the breaker and drawdown checks.

Local mode's simulated day runs it when a market resolves; deployed, the redemption workflow will (a later issue).
"""

from __future__ import annotations

from decimal import Decimal

from copytrader.model import Market
from copytrader.risk.changes import Redemption
from copytrader.workflows.wiring import Deps


def settle_resolved(market: Market, deps: Deps) -> list[Redemption]:
    """Redeem every open position in `market` (which must be resolved) and trip the breakers if needed."""
    done = deps.account.settlements.redeem(market, deps.clock())
    if done:  # a gain raises the equity high-water mark, a loss may trip the breakers
        deps.account.breakers.after_settlement(deps.settings.risk, deps.alerts, deps.clock())
    return done


def mark_to_market(deps: Deps) -> tuple[Decimal, Decimal]:
    """(cash, value of open positions at the book's mid; best bid when there is no ask)."""
    state = deps.account.reads.state_or_fresh(deps.clock(), deps.settings.paper_bankroll)
    value = Decimal(0)
    for position in deps.positions.all():
        if position.shares <= 0:
            continue
        book = deps.books(position.token_id)
        mark = (book.mid or book.best_bid) if book is not None else None
        value += position.shares * (mark if mark is not None else Decimal(0))
    return state.cash, value
