"""After every settlement, the same checks; and settling resolved markets.

Every path that settles money (execute, the sweep, `copytrader reconcile`, a redemption) writes through the account
store (`copytrader.store.account`) and then runs `check_halts`: the equity high-water mark, the drawdown halt and
the day's breaker, each alerting once.
"""

from __future__ import annotations

from decimal import Decimal

from copytrader.model import Market
from copytrader.risk.changes import Redemption
from copytrader.workflows.wiring import Deps


def check_halts(deps: Deps) -> bool:
    """The checks every settlement runs next (`Breakers.after_settlement`); True when this call tripped the breaker."""
    return deps.account.breakers.after_settlement(deps.settings.risk, deps.alerts, deps.clock())


def settle_resolved(market: Market, deps: Deps) -> list[Redemption]:
    """Redeem every open position in `market` (which must be resolved) and trip the breakers if needed."""
    done = deps.account.settlements.redeem(market, deps.clock())
    if done:  # a gain raises the equity high-water mark, a loss may trip the breakers
        check_halts(deps)
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
