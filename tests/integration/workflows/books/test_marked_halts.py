"""Marked equity under moto (issue 11, marks): positions valued at the listener's stored marks trip the drawdown halt
and the daily-loss breaker while equity at cost would not; the books run reports the dashboard's figures; the
in-memory book decides the same at every step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from copytrader.model import ExecutionStatus
from copytrader.model.marks import Mark
from copytrader.reasons import Reason
from copytrader.risk.book import AccountBook
from copytrader.risk.rules import screen
from copytrader.workflows.books import steps
from copytrader.workflows.copy.settlement import check_halts, mark_account
from tests.support import builders as b

D = Decimal


class RecordedAlerts:
    """The `Alerts` port, keeping what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, subject: str, detail: dict[str, Any]) -> None:
        self.sent.append((subject, detail))


def _hold(deps, clock, key: str, market: str, cost: str, shares: str) -> None:
    order = b.sized_order(key, market=market, max_cost=cost)
    decision = deps.account.reservations.reserve(screen(order, deps.settings.risk, clock()), clock())
    assert decision.approved, decision
    assert deps.ledger.begin(order, decision.reserved, clock()) is None
    deps.ledger.record(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, clock())


def _bids(deps, clock, bid: str, *, age_s: int = 0, last: str | None = None) -> None:
    at = clock() - timedelta(seconds=age_s)
    marks = [
        Mark(token_id=b.token_id(f"{m}:yes"), bid=D(bid), last_trade=D(last) if last else None, at=at)
        for m in ("m1", "m2")
    ]
    deps.marks.write(marks, clock())


def test_a_marked_drop_trips_the_breaker_then_the_drawdown_halt_while_cost_equity_would_not(
    aws, polymarket, make_deps, clock
):
    # GIVEN a 1,000 pUSD account holding 800 shares of m1 and of m2, each bought for 400 (0.50): cash 200
    alerts = RecordedAlerts()
    deps = make_deps(paper_bankroll="1000")
    deps.__dict__["alerts"] = alerts
    for label in ("m1", "m2"):
        polymarket.markets[b.market(label).condition_id] = b.market(label)
    deps.account.items.open_account(D(1000), clock())
    _hold(deps, clock, "b1", "m1", "400", "800")
    _hold(deps, clock, "b2", "m2", "400", "800")
    book = AccountBook()
    book.open(D(1000), clock())

    def both(bid: str) -> tuple[bool, bool]:
        """Mark the stored account at `bid`, the book at the same equity; the flags must agree."""
        _bids(deps, clock, bid)
        equity, record = mark_account(deps)
        assert book.record_marked(equity.equity, deps.settings.risk, clock()) == (
            record.drawdown_halted,
            record.breaker_tripped,
        )
        return record.drawdown_halted, record.breaker_tripped

    # the listener's bids at 0.50: marked equity 200 + 2 x 800 x 0.50 = 1000 (high water 1000, day start 1000)
    assert both("0.50") == (False, False)
    # 0.47: 200 + 1600 x 0.47 = 952, a day loss of 48 < 50 (5 % of 1000): nothing trips
    assert both("0.47") == (False, False)
    # 0.46: 936, a day loss of 64 <= 50 -> the breaker opens (936 >= 800: no drawdown halt), alerting once
    assert both("0.46") == (False, True)
    assert [s for s, _ in alerts.sent] == ["copytrader: daily-loss breaker tripped (marked equity)"]
    assert alerts.sent[0][1]["equity_marked"] == "936" and alerts.sent[0][1]["floor"] == "950"
    # 0.37: 792 < 800 = 0.8 x 1000 -> the drawdown halt (the breaker is open already)
    assert both("0.37") == (True, False)
    assert len(alerts.sent) == 2 and alerts.sent[1][1]["equity_marked_high_water"] == "1000"
    # a later settlement's checks trip nothing more
    assert check_halts(deps) is False and len(alerts.sent) == 2

    # THEN at cost nothing was lost (equity 1000 = its high water, no realized P&L), yet BUYs stop on both flags
    account = deps.account.items.account_item()
    assert (account.equity, account.equity_hwm) == (D(1000), D(1000))
    assert (account.equity_marked, account.equity_marked_hwm, account.drawdown_halt) == (D("792.00"), D(1000), True)
    assert deps.account.reads.state(clock()).day_realized_pnl == D(0)
    refused = deps.account.reservations.reserve(
        screen(b.sized_order("b3", market="m3"), deps.settings.risk, clock()), clock()
    )
    assert not refused.approved and refused.reason is Reason.BREAKER_OPEN
    # the next day the breaker is closed again but the drawdown halt holds
    clock.now = clock() + timedelta(days=1)
    refused = deps.account.reservations.reserve(
        screen(b.sized_order("b4", market="m3"), deps.settings.risk, clock()), clock()
    )
    assert not refused.approved and refused.reason is Reason.DRAWDOWN_HALT
    # an operator's reset rebases the marked high water mark: 792, and the next marking does not halt again
    deps.account.breakers.reset_drawdown(clock())
    assert deps.account.items.account_item().equity_marked_hwm == D("792.00")
    _bids(deps, clock, "0.37")
    assert mark_account(deps)[1].drawdown_halted is False


def test_the_books_run_reports_marked_equity_and_stale_marks(aws, polymarket, make_deps, clock):
    # GIVEN 800 shares of m1 and of m2 bought for 400 each, m1 and m2 marked 121 s ago (stale, bound 120 s)
    deps = make_deps(paper_bankroll="1000")
    for label in ("m1", "m2"):
        polymarket.markets[b.market(label).condition_id] = b.market(label)
    deps.account.items.open_account(D(1000), clock())
    _hold(deps, clock, "b1", "m1", "400", "800")
    _hold(deps, clock, "b2", "m2", "400", "800")
    _bids(deps, clock, "0.55", age_s=121, last="0.52")
    # WHEN the hourly books run settles (nothing resolved)
    result = steps.settle({}, deps)
    # THEN both are valued at their last trade, flagged: 200 + 1600 x 0.52 = 1032, unrealized +32
    marked = result.output["marked"]
    assert (marked["equity_marked"], marked["unrealized_pnl"], marked["stale_marks"]) == ("1032", "32", 2)
    assert result.counts["equity_marked"] == 1032.0 and result.counts["stale_marks"] == 2.0
    assert deps.account.items.account_item().stale_marks == 2
