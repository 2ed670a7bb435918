"""Risk limits as conditional writes in DynamoDB (moto server over real HTTP), under real concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from copytrader.model import Side, SizedOrder
from copytrader.reasons import Reason
from copytrader.risk import breaker_floor, screen
from copytrader.settings import RiskLimits
from copytrader.store.portfolio import PortfolioStore
from tests.support import builders as b

D = Decimal


def _order(key: str, amount: str, market: str = "m1") -> SizedOrder:
    return SizedOrder(
        action="PLACE",
        idempotency_key=key,
        token_id=b.token_id(market),
        condition_id=b.hex_id(f"condition:{market}", 32),
        side=Side.BUY,
        shares=D(10),
        limit_price=D("0.5"),
        max_cost=D(amount),
    )


def _reserve_all(orders, limits, workers=50):
    barrier = threading.Barrier(min(workers, len(orders)))

    def one(order):
        store = PortfolioStore("paper")
        request = screen(order, limits, b.T0)
        barrier.wait()  # release every thread at once
        return store.reserve(request, b.T0)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, orders))


def test_fifty_concurrent_approvals_never_exceed_the_market_cap(aws):
    # GIVEN a 10,000 pUSD account and a 500 pUSD market cap
    store = PortfolioStore("paper")
    store.ensure_account(D(10000), b.T0)
    limits = RiskLimits(max_market_exposure=D(500), max_total_exposure=D(5000))

    # WHEN 50 copies of 30 pUSD each ask for a reservation in the same market at the same moment
    decisions = _reserve_all([_order(f"k{i}", "30") for i in range(50)], limits)

    # THEN exactly floor(500 / 30) = 16 are approved and the rest name the market cap
    approved = [d for d in decisions if d.approved]
    assert len(approved) == 16
    assert {d.reason for d in decisions if not d.approved} == {Reason.MARKET_CAP}
    assert store.market_exposure(b.hex_id("condition:m1", 32)) == D(480)
    state = store.state(b.T0)
    assert state.reserved == D(480) and state.cash == D(10000)


def test_fifty_concurrent_approvals_never_exceed_the_total_cap_across_markets(aws):
    store = PortfolioStore("paper")
    store.ensure_account(D(10000), b.T0)
    limits = RiskLimits(max_market_exposure=D(500), max_total_exposure=D(1000))
    decisions = _reserve_all([_order(f"k{i}", "70", market=f"m{i}") for i in range(50)], limits)
    assert sum(d.approved for d in decisions) == 14  # floor(1000 / 70)
    assert {d.reason for d in decisions if not d.approved} == {Reason.TOTAL_CAP}
    assert store.state(b.T0).reserved == D(980)


def test_cash_limit_and_idempotent_retries(aws):
    store = PortfolioStore("paper")
    store.ensure_account(D(100), b.T0)
    limits = RiskLimits()
    first = store.reserve(screen(_order("k1", "60"), limits, b.T0), b.T0)
    again = store.reserve(screen(_order("k1", "60"), limits, b.T0), b.T0)
    poor = store.reserve(screen(_order("k2", "60", market="m2"), limits, b.T0), b.T0)
    assert first.approved and again.approved and again.detail.startswith("already reserved")
    assert store.state(b.T0).reserved == D(60)  # the retry reserved nothing more
    assert not poor.approved and poor.reason is Reason.INSUFFICIENT_CASH
    assert store.release("k1", b.hex_id("condition:m1", 32), D(60), b.T0) is True
    assert store.release("k1", b.hex_id("condition:m1", 32), D(60), b.T0) is False  # only once
    assert store.state(b.T0).reserved == 0 and store.market_exposure(b.hex_id("condition:m1", 32)) == 0


def test_breaker_trips_once_blocks_buys_and_a_new_day_starts_closed(aws):
    store = PortfolioStore("paper")
    store.ensure_account(D(10000), b.T0)
    limits = RiskLimits()
    store.ensure_day(b.T0)
    from copytrader.store.tables import RiskStateModel as R

    R.get(store.day_key("2026-11-02")).update(actions=[R.day_realized_pnl.set(D(-500))])
    floor = lambda equity: breaker_floor(equity, limits)  # noqa: E731
    with ThreadPoolExecutor(max_workers=10) as pool:
        trips = list(pool.map(lambda _: PortfolioStore("paper").trip_breaker_if_needed(b.T0, floor), range(10)))
    assert trips.count(True) == 1  # one alert, however many settle at once
    blocked = store.reserve(screen(_order("k9", "10"), limits, b.T0), b.T0)
    assert not blocked.approved and blocked.reason is Reason.BREAKER_OPEN
    tomorrow = b.T0 + timedelta(days=1)
    assert store.reserve(screen(_order("k10", "10"), limits, tomorrow), tomorrow).approved


def test_operator_kill_switch_and_breaker_reset(aws):
    # GIVEN an account with an open breaker
    store = PortfolioStore("paper")
    store.ensure_account(D(10000), b.T0)
    limits = RiskLimits()
    store.ensure_day(b.T0)
    from copytrader.store.tables import RiskStateModel as R

    R.get(store.day_key("2026-11-02")).update(actions=[R.day_realized_pnl.set(D(-600))])
    assert store.trip_breaker_if_needed(b.T0, lambda equity: breaker_floor(equity, limits))

    # WHEN the operator resets it by hand, THEN buys pass again
    store.reset_breaker(b.T0)
    assert store.state(b.T0).breaker_open is False
    assert store.reserve(screen(_order("k1", "10"), limits, b.T0), b.T0).approved

    # WHEN the operator turns the account's kill switch on, THEN nothing more is reserved until it is off
    store.set_kill_switch(True, b.T0)
    stopped = store.reserve(screen(_order("k2", "10"), limits, b.T0), b.T0)
    assert not stopped.approved and stopped.reason is Reason.KILL_SWITCH
    store.set_kill_switch(False, b.T0)
    assert store.reserve(screen(_order("k3", "10"), limits, b.T0), b.T0).approved
    assert store.state(b.T0).reserved == D(20)


def test_a_cancelled_transaction_leaves_nothing_behind(aws):
    # GIVEN a reservation whose market condition fails after the account update succeeded in moto's loop
    store = PortfolioStore("paper")
    store.ensure_account(D(10000), b.T0)
    limits = RiskLimits(max_market_exposure=D(50))
    assert store.reserve(screen(_order("k1", "40"), limits, b.T0), b.T0).approved

    # WHEN a second reservation in the same market is refused by the market cap
    refused = store.reserve(screen(_order("k2", "40"), limits, b.T0), b.T0)

    # THEN no part of it stayed: no reservation item, the account's reserved/available untouched
    assert refused.reason is Reason.MARKET_CAP
    assert store.reservation("k2") is None
    state = store.state(b.T0)
    assert state.reserved == D(40) and state.available_cash == D(9960)
    assert store.market_exposure(b.hex_id("condition:m1", 32)) == D(40)
