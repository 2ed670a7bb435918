"""The account's halts in DynamoDB (moto server over real HTTP): the daily loss breaker, the operator's kill switch
and resets, the drawdown halt and its alert, and an account written before the drawdown rule."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from copytrader.model import Side, SizedOrder
from copytrader.reasons import Reason
from copytrader.risk.changes import AccountDelta, Changes
from copytrader.risk.rules import breaker_floor, drawdown_floor, screen
from copytrader.runtime.alerts import NoAlerts
from copytrader.settings import RiskLimits
from copytrader.store.account import AccountStore
from copytrader.workflows.copy import steps
from tests.support import builders as b

D = Decimal


def _buy(key: str) -> SizedOrder:
    """A BUY of 10 shares at 0.5 in the YES token of `b.market("m1")` that reserves 10 pUSD."""
    return b.sized_order(key, max_cost="10")


def test_breaker_trips_once_blocks_buys_and_a_new_day_starts_closed(aws):
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits()
    store.items.day_item(b.T0)
    from copytrader.store.tables import RiskStateModel as R

    R.get(store.items.day_key("2026-11-02")).update(actions=[R.day_realized_pnl.set(D(-500))])
    floor = lambda equity: breaker_floor(equity, limits)  # noqa: E731
    with ThreadPoolExecutor(max_workers=10) as pool:
        trips = list(pool.map(lambda _: AccountStore("paper").breakers.trip_breaker_if_needed(b.T0, floor), range(10)))
    assert trips.count(True) == 1  # one alert, however many settle at once
    blocked = store.reservations.reserve(screen(_buy("k9"), limits, b.T0), b.T0)
    assert not blocked.approved and blocked.reason is Reason.BREAKER_OPEN
    tomorrow = b.T0 + timedelta(days=1)
    assert store.reservations.reserve(screen(_buy("k10"), limits, tomorrow), tomorrow).approved


def test_operator_kill_switch_and_breaker_reset(aws):
    # GIVEN an account with an open breaker
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits()
    store.items.day_item(b.T0)
    from copytrader.store.tables import RiskStateModel as R

    R.get(store.items.day_key("2026-11-02")).update(actions=[R.day_realized_pnl.set(D(-600))])
    assert store.breakers.trip_breaker_if_needed(b.T0, lambda equity: breaker_floor(equity, limits))

    # WHEN the operator resets it by hand, THEN buys pass again
    store.breakers.reset_breaker(b.T0)
    assert store.reads.state(b.T0).breaker_open is False
    assert store.reservations.reserve(screen(_buy("k1"), limits, b.T0), b.T0).approved

    # WHEN the operator turns the account's kill switch on, THEN nothing more is reserved until it is off
    store.breakers.set_kill_switch(True, b.T0)
    stopped = store.reservations.reserve(screen(_buy("k2"), limits, b.T0), b.T0)
    assert not stopped.approved and stopped.reason is Reason.KILL_SWITCH
    store.breakers.set_kill_switch(False, b.T0)
    assert store.reservations.reserve(screen(_buy("k3"), limits, b.T0), b.T0).approved
    assert store.reads.state(b.T0).reserved == D(20)


# ----------------------------------------------------------------------------- the drawdown halt


def _lose(store: AccountStore, amount: str) -> None:
    store.settlements.commit(Changes(account=AccountDelta(cash=-D(amount))), b.T0)


def test_drawdown_halts_buys_once_and_the_operator_reset_rebases_the_mark(aws):
    # GIVEN a 10,000 pUSD account whose equity rose to 12,000 (the high-water mark follows)
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(max_drawdown=D("0.2"))
    _lose(store, "-2000")
    assert store.breakers.update_high_water_mark(b.T0) and not store.breakers.update_high_water_mark(b.T0)
    assert store.reads.risk_status(b.T0)["equity_high_water_mark"] == "12000"

    # WHEN equity falls to 9,600 (the floor, 0.8 x 12,000): still trading; to 9,599: halted, by one caller
    floor = lambda mark: drawdown_floor(mark, limits)  # noqa: E731
    _lose(store, "2400")
    assert not store.breakers.trip_drawdown_if_needed(b.T0, floor)
    _lose(store, "1")
    with ThreadPoolExecutor(max_workers=10) as pool:
        trips = list(pool.map(lambda _: AccountStore("paper").breakers.trip_drawdown_if_needed(b.T0, floor), range(10)))
    assert trips.count(True) == 1
    assert not store.breakers.update_high_water_mark(b.T0)  # a lower equity never lowers the mark

    # THEN buys are refused with the reason, nothing is reserved
    halted = store.reservations.reserve(screen(_buy("k1"), limits, b.T0), b.T0)
    assert not halted.approved and halted.reason is Reason.DRAWDOWN_HALT
    assert store.reads.state(b.T0).reserved == 0 and store.reads.open_orders() == 0

    # WHEN the operator resets, THEN buys pass and the mark is today's equity (no immediate re-halt)
    store.breakers.reset_drawdown(b.T0)
    status = store.reads.risk_status(b.T0)
    assert status["drawdown_halt"] is False and status["equity_high_water_mark"] == "9599"
    assert not store.breakers.trip_drawdown_if_needed(b.T0, floor)
    assert store.reservations.reserve(screen(_buy("k2"), limits, b.T0), b.T0).approved


def test_the_pipeline_alerts_once_on_a_drawdown_and_still_lets_exits_through(aws, make_deps, clock):
    deps = make_deps(risk={"max_drawdown": "0.1"})
    recorder = NoAlerts()
    deps.alerts = recorder
    deps.account.items.open_account(deps.settings.paper_bankroll, clock.now)
    _lose(deps.account, "1500")  # equity 8,500 < 0.9 x 10,000
    limits, now = deps.settings.risk, clock.now
    assert deps.account.breakers.check_drawdown(limits, recorder, now)
    assert not deps.account.breakers.check_drawdown(limits, recorder, now)
    assert [subject for subject, _ in recorder.sent] == ["copytrader: drawdown halt"]
    assert recorder.sent[0][1]["equity"] == "8500" and recorder.sent[0][1]["equity_high_water_mark"] == "10000"

    buy = steps.risk_check({"order": _buy("k1").model_dump(mode="json")}, deps)
    assert buy["approved"] is False and buy["reason"] == "drawdown_halt"
    sell = b.sized_order("k2", side=Side.SELL)
    assert steps.risk_check({"order": sell.model_dump(mode="json")}, deps)["approved"] is True
    broken = steps.risk_check({"order": {"action": "PLACE", "shares": "-1"}}, deps)
    assert broken["approved"] is False and broken["reason"] == "invalid_trade"
