"""After every settlement, the same checks; and settling resolved markets.

Every path that settles money (execute, the sweep, `copytrader reconcile`, a redemption) writes through the account
store (`copytrader.store.account`) and then runs `check_halts`: the equity high-water mark, the drawdown halt and
the day's breaker, each alerting once; then the same halts on marked equity (positions at the listener's stored
marks, `mark_account`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from copytrader.model import Market
from copytrader.risk import marking
from copytrader.risk.changes import Redemption
from copytrader.risk.marking import MarkedEquity
from copytrader.store.account.marked import MarkedRecord
from copytrader.workflows.wiring import Deps


def check_halts(deps: Deps) -> bool:
    """The checks every settlement runs next (`Breakers.after_settlement`), then the same halts on marked equity
    (`mark_account`); True when this call tripped the breaker."""
    tripped = deps.account.breakers.after_settlement(deps.settings.risk, deps.alerts, deps.clock())
    marked = mark_account(deps)
    return tripped or (marked is not None and marked[1].breaker_tripped)


def marked_equity(deps: Deps) -> MarkedEquity | None:
    """The account at the stored marks (`risk.marking`): one query of the positions, one BatchGetItem of their
    marks, the account's cash. None when the account is not open yet."""
    now = deps.clock()
    try:
        cash = deps.account.reads.state(now).cash
    except LookupError:
        return None
    held = [p for p in deps.positions.all() if p.shares > 0]
    marks = deps.marks.read(p.token_id for p in held) if held else {}
    max_age = timedelta(seconds=deps.settings.risk.mark_max_age_s)
    return marking.marked_equity(cash, held, marks, now, max_age)


def mark_account(deps: Deps) -> tuple[MarkedEquity, MarkedRecord] | None:
    """Marked equity recorded on the account (`equity_marked`, its high-water mark, the day's first) and the halts
    it trips (`store.account.marked`); None when the account is not open yet."""
    marked = marked_equity(deps)
    if marked is None:
        return None
    return marked, deps.account.marked.record(marked, deps.settings.risk, deps.alerts, deps.clock())


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
