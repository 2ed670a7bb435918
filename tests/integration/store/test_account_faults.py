"""Account integrity where it broke (issue 10): a new UTC day, a re-tagged market, a lot redeemed and bought again.

Each test is named after the failure it guards and was written to fail on the code before the fix.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from copytrader.model import ExecutionStatus, Side, SizedOrder
from copytrader.reasons import Reason
from copytrader.risk.book import AccountBook
from copytrader.risk.rules import Scope, screen
from copytrader.settings import RiskLimits
from copytrader.store.account import AccountStore
from copytrader.store.orders import OrderLedger
from copytrader.store.tables import LedgerEntryModel
from tests.support import builders as b

D = Decimal
LIMITS = RiskLimits(stop_loss=D("0.2"))


def _books() -> tuple[AccountStore, OrderLedger]:
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    return store, OrderLedger(store)


def _buy(store: AccountStore, ledger: OrderLedger, order: SizedOrder, shares: str, cash: str, at=b.T0) -> None:
    decision = store.reservations.reserve(screen(order, LIMITS, at), at)
    assert decision.approved, decision
    assert ledger.begin(order, decision.reserved, at) is None
    ledger.record(order, b.execution(order, ExecutionStatus.FILLED, shares, cash), decision.reserved, at)


def _sell(ledger: OrderLedger, key: str, shares: str, cash: str, at=b.T0) -> None:
    order = b.sized_order(key, side=Side.SELL, shares=shares, limit_price="0.4")
    assert ledger.begin(order, D(0), at) is None
    ledger.record(order, b.execution(order, ExecutionStatus.FILLED, shares, cash), D(0), at)


def test_a_sell_that_is_the_first_settlement_of_a_new_utc_day_is_recorded(aws):
    # GIVEN 100 shares bought for 50 on day one, and nothing else happening until after UTC midnight
    store, ledger = _books()
    _buy(store, ledger, b.sized_order("b1", max_cost="50"), "100", "50")
    after_midnight = b.T0.replace(hour=0, minute=0, second=5) + timedelta(days=1)
    # WHEN the first thing of the new day is a SELL fill of 40 shares for 26 (realized +6)
    _sell(ledger, "s1", "40", "26", at=after_midnight)
    # THEN it is recorded: shares, cash, and the new day's realized P&L, whose start equity is the books' before it
    state = store.reads.state(after_midnight)
    assert store.positions.held_shares(b.sized_order("b1").token_id) == 60
    assert state.cash == D(10000) - 50 + 26
    assert (state.day, state.day_start_equity, state.day_realized_pnl) == ("2026-11-03", D(10000), D(6))
    assert ledger.get("s1").status == "FILLED"


def test_a_retagged_market_releases_each_scope_its_own_part(aws):
    # GIVEN 100 shares bought for 60 under group A / politics, then (after a re-tag) 50 more for 40 under B / sports
    store, ledger = _books()
    _buy(store, ledger, b.sized_order("b1", max_cost="60", risk_group="A", category="politics"), "100", "60")
    _buy(store, ledger, b.sized_order("b2", max_cost="40", risk_group="B", category="sports"), "50", "40")

    def scopes() -> tuple[D, ...]:
        reads = store.reads
        return tuple(
            reads.exposure(scope, name)
            for scope, name in (
                (Scope.GROUP, "A"),
                (Scope.GROUP, "B"),
                (Scope.CATEGORY, "politics"),
                (Scope.CATEGORY, "sports"),
            )
        )

    assert scopes() == (60, 40, 60, 40)
    # WHEN 30 of 150 shares are sold (cost released 20), THEN each scope releases its part: 12 from A, 8 from B
    _sell(ledger, "s1", "30", "15")
    assert scopes() == (48, 32, 48, 32)
    # WHEN the rest is sold, THEN every scope is back at zero: none over-committed, none negative
    _sell(ledger, "s2", "120", "70")
    assert scopes() == (0, 0, 0, 0)
    assert store.reads.exposure(Scope.MARKET, b.sized_order("b1").condition_id) == 0


def test_shares_bought_after_a_redemption_are_redeemed_in_turn(aws):
    # GIVEN a position redeemed at resolution
    store, ledger = _books()
    market = b.market("m1")
    yes, no = market.tokens
    resolved = b.market("m1", closed=True, payouts={yes.token_id: D(1), no.token_id: D(0)})
    _buy(store, ledger, b.sized_order("b1", max_cost="50"), "100", "50")
    assert [r.payout for r in store.settlements.redeem(resolved, b.T0)] == [D(100)]
    # WHEN a late fill (an order reconciled after resolution) adds 20 shares, THEN a second run redeems them too
    later = b.T0 + timedelta(hours=1)
    _buy(store, ledger, b.sized_order("b2", max_cost="10"), "20", "10", at=later)
    assert [r.payout for r in store.settlements.redeem(resolved, later)] == [D(20)]
    assert store.reads.state(later).cash == D(10000) - 50 + 100 - 10 + 20
    redeems = [e for e in LedgerEntryModel.query("paper") if e.kind == "REDEEM"]
    assert sorted(e.cash_delta for e in redeems) == [D(20), D(100)]
    # and a third run has nothing left to redeem
    assert store.settlements.redeem(resolved, later) == []


def test_a_reopened_position_takes_the_new_entrys_stop_and_open_date(aws):
    # GIVEN a position opened at T0 with a 20% stop, then closed
    store, ledger = _books()
    _buy(store, ledger, b.sized_order("b1", max_cost="50"), "100", "50")
    _sell(ledger, "s1", "100", "55")
    # WHEN it is bought again a day later under a 10% stop
    later = b.T0 + timedelta(days=1)
    order = b.sized_order("b2", max_cost="30")
    decision = store.reservations.reserve(screen(order, RiskLimits(stop_loss=D("0.1")), later), later)
    assert ledger.begin(order, decision.reserved, later) is None
    ledger.record(order, b.execution(order, ExecutionStatus.FILLED, "60", "30"), decision.reserved, later)
    # THEN the position is the new lot's: its open date and its stop
    position = store.positions.get(order.token_id)
    assert (position.opened_at, position.stop_loss, position.shares) == (later, D("0.1"), D(60))


def test_the_account_opens_with_its_deposit_in_the_ledger_once(aws):
    # GIVEN an account opened twice (two processes)
    store, _ = _books()
    assert AccountStore("paper").items.open_account(D(5), b.T0) is False
    # THEN the ledger's cash is the account's: one opening deposit of the first bankroll
    deposits = [e for e in LedgerEntryModel.query("paper") if e.kind == "DEPOSIT"]
    assert [(e.entry_id, e.cash_delta) for e in deposits] == [("DEPOSIT#opening", D(10000))]
    assert store.reads.state(b.T0).cash == D(10000)


def test_sells_count_against_the_per_minute_order_limit_once_each(aws):
    # GIVEN at most 2 orders per minute, and a BUY approved this minute
    store, _ = _books()
    limits = RiskLimits(max_orders_per_minute=2)
    assert store.reservations.reserve(screen(b.sized_order("b1", max_cost="10"), limits, b.T0), b.T0).approved
    book = AccountBook()  # the in-memory book, given the same BUY
    book.open(D(10000))
    book.rate["2026-11-02T12:00"] = 1

    def exit_(key: str):
        request = screen(b.sized_order(key, side=Side.SELL), limits, b.T0)
        return store.reservations.count_exit(request, b.T0), book.count_exit(request, b.T0)

    # WHEN two SELLs follow in the same minute, THEN the first is approved and the second refused by the rate
    ours, theirs = exit_("s1")
    assert (ours.approved, theirs.approved) == (True, True)
    ours, theirs = exit_("s2")
    assert (ours.reason, theirs.reason) == (Reason.ORDER_RATE_LIMIT, Reason.ORDER_RATE_LIMIT)
    # AND a retried risk_check of the first SELL is approved without counting it again
    ours, theirs = exit_("s1")
    assert (ours.approved, ours.detail, theirs.detail) == (True, "exit already counted (retry)", ours.detail)
    # AND the kill switch refuses every exit
    store.breakers.set_kill_switch(True, b.T0)
    assert exit_("s3")[0].reason is Reason.KILL_SWITCH
