"""The in-memory account book: reservations under every limit, settlements by `risk.changes`, the halts.

Every expected value is derived by hand in the comments (pUSD).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from copytrader.model import ExecutionStatus, Side
from copytrader.reasons import Reason
from copytrader.risk import changes
from copytrader.risk.book import AccountBook
from copytrader.risk.changes import AccountDelta, Changes, Holding
from copytrader.risk.rules import ReservationRequest, Scope, breaker_floor, drawdown_floor, screen
from copytrader.settings import RiskLimits
from tests.support import builders as b

CONDITION = b.hex_id("condition:m1", 32)


def _book(bankroll: str = "10000") -> AccountBook:
    book = AccountBook()
    book.open(D(bankroll))
    return book


def _reserve(book: AccountBook, key: str, amount: str, limits: RiskLimits | None = None, **fields: str):
    order = b.sized_order(key, max_cost=D(amount), **fields)
    request = screen(order, limits or RiskLimits(), b.T0)
    assert isinstance(request, ReservationRequest)
    return order, book.reserve(request, b.T0)


def test_a_reservation_counts_everywhere_and_a_retry_reserves_nothing_more():
    book = _book()
    order, decision = _reserve(book, "k1", "60", risk_group="event:e", category="politics", wallet=b.wallet("w1"))
    assert decision.approved and decision.reserved == D(60)
    state = book.state(b.T0)
    assert (state.cash, state.reserved, book.account.open_orders) == (D(10000), D(60), 1)
    exposures = book.exposures(CONDITION, "event:e", "politics", b.wallet("w1"))
    assert (exposures.market, exposures.group, exposures.category, exposures.whale) == (D(60),) * 4
    assert (exposures.committed, exposures.available) == (D(60), D(9940))
    again = book.reserve(screen(order, RiskLimits(), b.T0), b.T0)  # type: ignore[arg-type]
    assert again.approved and again.reserved == D(60) and again.detail == "already reserved (retry)"
    assert book.state(b.T0).reserved == D(60) and book.account.open_orders == 1


def test_rejections_name_the_rule_the_store_would_name_first():
    limits = RiskLimits(max_market_exposure=D(100), max_open_orders=1)
    book = _book("50")
    # cash (50 available) refuses 60 before any cap does
    assert _reserve(book, "k1", "60", limits)[1].reason is Reason.INSUFFICIENT_CASH
    # the kill switch is named before cash
    book.set_kill_switch(True, b.T0)
    assert _reserve(book, "k2", "60", limits)[1].reason is Reason.KILL_SWITCH
    book.set_kill_switch(False, b.T0)
    # one open order is the limit: the second is refused on the open-order count
    assert _reserve(book, "k3", "10", limits)[1].approved
    assert _reserve(book, "k4", "10", limits)[1].reason is Reason.OPEN_ORDERS_LIMIT
    # an open breaker is named before the account's rules
    book.day(b.T0).breaker_open = True
    assert _reserve(book, "k5", "10", limits)[1].reason is Reason.BREAKER_OPEN


def test_a_cap_refuses_the_amount_that_would_cross_it():
    limits = RiskLimits(max_market_exposure=D(100), max_group_exposure=D(100))
    book = _book()
    assert _reserve(book, "k1", "70", limits, risk_group="event:e")[1].approved
    refused = _reserve(book, "k2", "40", limits, risk_group="event:e", market="m2")[1]
    assert refused.reason is Reason.GROUP_CAP  # 70 + 40 > 100 in the group; the market (m2) has room
    assert _reserve(book, "k3", "30", limits, risk_group="event:e", market="m2")[1].approved  # 100: at the cap


def test_a_partial_buy_converts_the_reservation_to_the_fills_cost():
    # reserve 100, fill 120 shares for 60 (fee included): reserved -100, cash -60, open cost +60; every scope 60
    book = _book()
    order, decision = _reserve(book, "k1", "100", risk_group="event:e", category="politics", wallet=b.wallet("w1"))
    book.settle(order, b.execution(order, ExecutionStatus.PARTIAL, "120", "60", fee="0.5"), decision.reserved, b.T0)
    state = book.state(b.T0)
    assert (state.cash, state.reserved, state.open_cost, book.account.open_orders) == (D(9940), 0, D(60), 0)
    assert book.exposure[(Scope.MARKET, order.condition_id)] == D(60)
    assert book.exposure[(Scope.POSITION_PART, f"{order.token_id}#WHALE#{b.wallet('w1')}")] == D(60)
    position = book.positions[order.token_id]
    assert (position.shares, position.cost_basis, position.fees_paid) == (D(120), D(60), D("0.5"))
    assert position.whales == {b.wallet("w1")} and position.stop_loss == D("0.15")  # the stop at entry
    assert book.ledger["FILL_BUY#k1"][1].cash_delta == D(-60)
    assert book.reservations["k1"].settled


def test_an_unfilled_order_gives_its_reservation_back_everywhere():
    book = _book()
    order, decision = _reserve(book, "k1", "30", wallet=b.wallet("w1"))
    book.settle(order, b.execution(order, ExecutionStatus.UNFILLED, "0", "0"), decision.reserved, b.T0)
    assert book.state(b.T0).reserved == 0 and book.account.open_orders == 0
    assert all(v == 0 for v in book.exposure.values())
    assert set(book.ledger) == {"DEPOSIT#opening"}  # nothing moved since the opening deposit


def test_selling_half_releases_half_the_cost_and_each_whales_part():
    # two whales: w1 put 60 into 120 shares, w2 40 into 80 shares; sell 100 of 200 for 45
    # released = 100 x 100/200 = 50, pnl = 45 - 50 = -5; w1 releases 30, w2 20
    book = _book()
    book.day(b.T0)
    for key, who, amount, shares, cost in (("k1", "w1", "100", "120", "60"), ("k2", "w2", "50", "80", "40")):
        order, decision = _reserve(book, key, amount, wallet=b.wallet(who))
        book.settle(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, b.T0)
    # an exit no whale is named for (a stop-loss): every whale's part in proportion
    sell = b.sized_order("s1", side=Side.SELL, shares=D(100), max_cost=D(0), wallet="")
    book.settle(sell, b.execution(sell, ExecutionStatus.FILLED, "100", "45"), D(0), b.T0)
    position = book.positions[sell.token_id]
    assert (position.shares, position.cost_basis, position.realized_pnl) == (D(100), D(50), D(-5))
    assert book.exposure[(Scope.WHALE, b.wallet("w1"))] == D(30)
    assert book.exposure[(Scope.WHALE, b.wallet("w2"))] == D(20)
    assert book.exposure[(Scope.MARKET, sell.condition_id)] == D(50)
    assert book.days[b.T0.date().isoformat()].realized == D(-5)
    assert book.state(b.T0).cash == D(10000) - 60 - 40 + 45


def test_a_sell_attributed_to_a_whale_releases_its_part_first_and_keeps_the_others_shares():
    # w1 put 60 into 120 shares, w2 40 into 80: w2's copies built 200 x 40/100 = 80 shares. w2 sells half, we mirror
    # 40 shares: released = 100 x 40/200 = 20, all from w2's part (20 left); w1 keeps 60, i.e. 160 x 60/80 = 120
    # shares, and w2's attributed shares are 160 x 20/80 = 40 = 80 - 40
    book = _book()
    book.day(b.T0)
    for key, who, amount, shares, cost in (("k1", "w1", "100", "120", "60"), ("k2", "w2", "50", "80", "40")):
        order, decision = _reserve(book, key, amount, wallet=b.wallet(who))
        book.settle(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, b.T0)
    sell = b.sized_order("s1", side=Side.SELL, shares=D(40), max_cost=D(0), wallet=b.wallet("w2"))
    book.settle(sell, b.execution(sell, ExecutionStatus.FILLED, "40", "18"), D(0), b.T0)
    assert book.exposure[(Scope.WHALE, b.wallet("w1"))] == D(60)
    assert book.exposure[(Scope.WHALE, b.wallet("w2"))] == D(20)
    assert book.exposure[(Scope.MARKET, sell.condition_id)] == D(80)
    # a sale larger than w2's part takes the rest from w1: 100 more shares release 50, w2's 20 then 30 of w1's 60
    more = b.sized_order("s2", side=Side.SELL, shares=D(100), max_cost=D(0), wallet=b.wallet("w2"))
    book.settle(more, b.execution(more, ExecutionStatus.FILLED, "100", "45"), D(0), b.T0)
    assert book.exposure[(Scope.WHALE, b.wallet("w1"))] == D(30)
    assert book.exposure[(Scope.WHALE, b.wallet("w2"))] == D(0)


def test_redemption_pays_the_winner_and_releases_the_whole_basis():
    book = _book()
    order, decision = _reserve(book, "k1", "60", wallet=b.wallet("w1"))
    book.settle(order, b.execution(order, ExecutionStatus.FILLED, "100", "55"), decision.reserved, b.T0)
    market = b.market("m1")
    yes, no = market.tokens
    resolved = market.model_copy(update={"closed": True, "payouts": {yes.token_id: D(1), no.token_id: D(0)}})
    (redeemed,) = book.redeem(resolved, b.T0)
    assert (redeemed.shares, redeemed.payout, redeemed.pnl) == (D(100), D(100), D(45))
    assert book.state(b.T0).open_cost == 0 and book.state(b.T0).cash == D(10000) - 55 + 100
    assert all(v == 0 for v in book.exposure.values())
    assert book.redeem(resolved, b.T0) == []  # nothing left to redeem


def test_the_breaker_and_the_drawdown_halt_trip_once_on_their_floors():
    limits = RiskLimits(daily_loss_limit=D("0.05"), max_drawdown=D("0.2"))
    book = _book()
    book.day(b.T0)
    book.apply(Changes(account=AccountDelta(cash=D(-499)), realized=D(-499)), b.T0)
    assert not book.trip_breaker_if_needed(b.T0, lambda e: breaker_floor(e, limits))  # -499 > -500
    book.apply(Changes(account=AccountDelta(cash=D(-1)), realized=D(-1)), b.T0)
    assert book.trip_breaker_if_needed(b.T0, lambda e: breaker_floor(e, limits))
    assert not book.trip_breaker_if_needed(b.T0, lambda e: breaker_floor(e, limits))  # once
    assert not book.state(b.T0 + timedelta(days=1)).breaker_open  # a new UTC day starts closed

    book.apply(Changes(account=AccountDelta(cash=D(-1500))), b.T0)  # equity 8,000 = 0.8 x 10,000: the floor
    assert not book.trip_drawdown_if_needed(b.T0, lambda m: drawdown_floor(m, limits))
    book.apply(Changes(account=AccountDelta(cash=D(-1))), b.T0)
    assert book.trip_drawdown_if_needed(b.T0, lambda m: drawdown_floor(m, limits))
    book.reset_drawdown(b.T0)
    assert not book.account.drawdown_halt and book.account.equity_hwm == D(7999)


def test_a_settlement_computed_on_a_stale_position_is_refused_whole():
    book = _book()
    order, decision = _reserve(book, "k1", "60")
    book.settle(order, b.execution(order, ExecutionStatus.FILLED, "100", "55"), decision.reserved, b.T0)
    book.day(b.T0)
    sell = b.sized_order("s1", side=Side.SELL, shares=D(50), max_cost=D(0))
    moved = Holding(token_id=sell.token_id, condition_id=sell.condition_id, shares=D(99), cost_basis=D(55))
    stale = changes.fill(sell, b.execution(sell, ExecutionStatus.FILLED, "50", "30"), D(0), holding=moved)
    before = book.state(b.T0)
    with pytest.raises(LookupError, match="changed"):
        book.apply(stale, b.T0)
    assert book.state(b.T0) == before  # nothing applied
